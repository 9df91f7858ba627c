/**
 * The weights a dense layer should have for the inputs the quantized model gives it: per output
 * channel, w' = argmin ||X w - X~ w'||^2 = H~^-1 C w, with H~ = X~^T X~ / n and C = X~^T X / n
 * (covariances when centered: the mean goes into the bias). ||X w - X~ q||^2 = ||X~ (w' - q)||^2 +
 * a constant, so rounding w' against H~ (GPTQ, the scale search) minimizes the layer's output error
 * against the float model, input error included (quantized-inputs.ts says why). The damping is a
 * ridge towards the float weights: w' = (H~ + lambda I)^-1 (C w + lambda w).
 */
import { choleskyLower, GPTQ_DAMPING } from './gptq';
import type { QuantizedMoments } from './quantized-inputs';

/**
 * Rows per input value a layer needs before its target is fitted: with fewer, the least-squares fit
 * follows the sampled rows more than the layer (a 1280-wide classifier sees one row per image).
 */
export const MIN_ROWS_PER_INPUT = 8;

/** w' for weights [outChannels, k] (flat, row per channel), or null when the rows are too few or H~ will not factorize. */
export function asymmetricTarget(values: Float32Array, outChannels: number, moments: QuantizedMoments, centered: boolean, damping = GPTQ_DAMPING): Float32Array | null {
  const { count: n, sum, outer, floatSum, cross } = moments;
  const k = sum.length;
  if (!cross || !floatSum || values.length !== outChannels * k || n < MIN_ROWS_PER_INPUT * k) return null;
  const h = new Float64Array(k * k);
  const c = new Float64Array(k * k);
  let meanDiagonal = 0;
  for (let i = 0; i < k; i++) {
    const mi = centered ? sum[i] / n : 0;
    for (let j = 0; j < k; j++) {
      const hv = (i <= j ? outer[i * k + j] : outer[j * k + i]) / n - (centered ? mi * (sum[j] / n) : 0);
      h[i * k + j] = hv;
      c[i * k + j] = cross[i * k + j] / n - (centered ? mi * (floatSum[j] / n) : 0);
    }
    meanDiagonal += h[i * k + i];
  }
  meanDiagonal = meanDiagonal > 0 ? meanDiagonal / k : 1;
  for (let i = 0; i < k; i++) {
    // An input that never fires in the quantized model: its weight keeps the float value.
    if (h[i * k + i] <= 0) {
      h[i * k + i] = 0;
      for (let j = 0; j < k; j++) c[i * k + j] = 0;
    }
    h[i * k + i] += damping * meanDiagonal;
  }
  const lambda = damping * meanDiagonal;
  const l = choleskyLower(h, k);
  if (!l) return null;
  const out = new Float32Array(values.length);
  const b = new Float64Array(k);
  for (let ch = 0; ch < outChannels; ch++) {
    const base = ch * k;
    // b = C w + lambda w (the damping pulls w' towards w, not towards 0), then solve L L^T w' = b.
    for (let i = 0; i < k; i++) {
      let v = lambda * values[base + i];
      const row = i * k;
      for (let j = 0; j < k; j++) v += c[row + j] * values[base + j];
      b[i] = v;
    }
    for (let i = 0; i < k; i++) {
      let v = b[i];
      const row = i * k;
      for (let p = 0; p < i; p++) v -= l[row + p] * b[p];
      b[i] = v / l[row + i];
    }
    for (let i = k - 1; i >= 0; i--) {
      let v = b[i];
      for (let p = i + 1; p < k; p++) v -= l[p * k + i] * b[p];
      b[i] = v / l[i * k + i];
    }
    for (let i = 0; i < k; i++) out[base + i] = b[i];
  }
  return out;
}
