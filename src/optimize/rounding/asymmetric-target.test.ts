import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../seeded-random';
import { asymmetricTarget } from './asymmetric-target';
import { GPTQ_DAMPING } from './gptq';
import type { LayerRows } from './problem';
import type { QuantizedMoments } from './quantized-inputs';
import { roundWeights } from './round-weights';
import { searchScales } from './scale-search';
import { layoutOf } from './problem';

/**
 * Float rows x (correlated, post-ReLU-like) and the "quantized model's" rows x~ at the same
 * positions: x with a per-column gain error and offset (what the layers above leave), plus an int8
 * grid. The error is systematic, as an int4 prefix's is.
 */
function pairs(count: number, k: number, seed: number): { x: Float32Array; xq: Float32Array } {
  const next = seededRandom(seed);
  const gains = seededRandom(99);
  const gain = Float64Array.from({ length: k }, () => 1 + (gains() - 0.5) * 0.3);
  const offset = Float64Array.from({ length: k }, () => (gains() - 0.5) * 0.1);
  const x = new Float32Array(count * k);
  const xq = new Float32Array(count * k);
  for (let r = 0; r < count; r++) {
    const common = next() * 2;
    for (let j = 0; j < k; j++) {
      const v = Math.max(0, common + next() * 2 - 1.2 + 0.5 * Math.sin(j));
      x[r * k + j] = v;
      xq[r * k + j] = Math.round(Math.max(0, v * gain[j] + offset[j] + (next() - 0.5) * 0.05) * 40) / 40;
    }
  }
  return { x, xq };
}

function momentsOf(x: Float32Array, xq: Float32Array, count: number, k: number): QuantizedMoments {
  const m: QuantizedMoments = { count, sum: new Float64Array(k), outer: new Float64Array(k * k), floatSum: new Float64Array(k), cross: new Float64Array(k * k) };
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < k; i++) {
      m.sum[i] += xq[r * k + i];
      m.floatSum![i] += x[r * k + i];
      for (let j = 0; j < k; j++) {
        if (j >= i) m.outer[i * k + j] += xq[r * k + i] * xq[r * k + j];
        m.cross![i * k + j] += xq[r * k + i] * x[r * k + j];
      }
    }
  }
  return m;
}

/** Centered output error of every channel, sum over rows of (x.w_c - x~.v_c - mean)^2: what is left after bias correction. */
function centeredError(x: Float32Array, xq: Float32Array, count: number, k: number, w: Float32Array, v: ArrayLike<number>): number {
  const out = w.length / k;
  let total = 0;
  for (let c = 0; c < out; c++) {
    const e = new Float64Array(count);
    let mean = 0;
    for (let r = 0; r < count; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += x[r * k + j] * w[c * k + j] - xq[r * k + j] * v[c * k + j];
      e[r] = s;
      mean += s / count;
    }
    for (let r = 0; r < count; r++) total += (e[r] - mean) ** 2;
  }
  return total;
}

describe('asymmetricTarget', () => {
  const k = 24;
  const out = 6;
  const next = seededRandom(5);
  const w = Float32Array.from({ length: out * k }, () => (next() - 0.5) * 0.4);
  const train = pairs(4000, k, 1);
  const moments = momentsOf(train.x, train.xq, 4000, k);

  it('solves the damped normal equations (H~ + lambda I) w\' = C w + lambda w (checked by Gaussian elimination)', () => {
    const target = asymmetricTarget(w, out, moments, true)!;
    expect(target).not.toBeNull();
    const n = moments.count;
    const mean = (s: Float64Array, i: number) => s[i] / n;
    const h = (i: number, j: number) => (i <= j ? moments.outer[i * k + j] : moments.outer[j * k + i]) / n - mean(moments.sum, i) * mean(moments.sum, j);
    let diag = 0;
    for (let i = 0; i < k; i++) diag += h(i, i) / k;
    const lambda = GPTQ_DAMPING * diag;
    for (let c = 0; c < out; c++) {
      // Augmented matrix [H~ + lambda I | C w + lambda w], eliminated with partial pivoting.
      const a = Array.from({ length: k }, (_, i) => {
        const row = Array.from({ length: k }, (_, j) => h(i, j) + (i === j ? lambda : 0));
        let b = lambda * w[c * k + i];
        for (let j = 0; j < k; j++) b += (moments.cross![i * k + j] / n - mean(moments.sum, i) * mean(moments.floatSum!, j)) * w[c * k + j];
        return [...row, b];
      });
      for (let p = 0; p < k; p++) {
        let best = p;
        for (let r = p + 1; r < k; r++) if (Math.abs(a[r][p]) > Math.abs(a[best][p])) best = r;
        [a[p], a[best]] = [a[best], a[p]];
        for (let r = 0; r < k; r++) {
          if (r === p) continue;
          const f = a[r][p] / a[p][p];
          for (let j = p; j <= k; j++) a[r][j] -= f * a[p][j];
        }
      }
      for (let i = 0; i < k; i++) expect(target[c * k + i]).toBeCloseTo(a[i][k] / a[i][i], 4);
    }
  });

  it("rounded against the quantized inputs' Hessian, lowers the layer's output error against the float layer on held-out rows", () => {
    const held = pairs(3000, k, 2);
    const rowsOf = (data: Float32Array): LayerRows => ({ rows: data, count: 4000, width: k, layout: 'dense', inChannels: k });
    const scales = Array.from({ length: out }, (_, c) => Math.max(...Array.from(w.subarray(c * k, (c + 1) * k), Math.abs)) / 7);
    // Today's rounding: scale search and GPTQ against the float rows' H, the float weights.
    const floatProblem = { values: w, shape: [out, k], scales, axis: 0, bits: 4 as const, inputs: rowsOf(train.x), centered: true };
    const floatLayout = layoutOf(floatProblem);
    const floatScales = searchScales(floatProblem, floatLayout);
    const qFloat = roundWeights('gptq', { ...floatProblem, scales: floatScales });
    // The quantized inputs' H~ differs from the float one.
    const quantizedProblem = { ...floatProblem, inputs: rowsOf(train.xq) };
    const hq = layoutOf(quantizedProblem).groups[0].hessian;
    const hf = floatLayout.groups[0].hessian;
    let differ = 0;
    let norm = 0;
    for (let i = 0; i < hf.length; i++) {
      differ += (hq[i] - hf[i]) ** 2;
      norm += hf[i] ** 2;
    }
    expect(Math.sqrt(differ / norm)).toBeGreaterThan(0.05);
    // The asymmetric form: the refitted weights, rounded against H~.
    const target = asymmetricTarget(w, out, moments, true)!;
    const asymmetricProblem = { ...quantizedProblem, values: target };
    const asymmetricScales = searchScales(asymmetricProblem, layoutOf(asymmetricProblem));
    const qAsymmetric = roundWeights('gptq', { ...asymmetricProblem, scales: asymmetricScales });
    const dequantize = (q: Int8Array, s: ArrayLike<number>) => Float32Array.from(q, (v, i) => v * s[Math.floor(i / k)]);
    const before = centeredError(held.x, held.xq, 3000, k, w, dequantize(qFloat, floatScales));
    const after = centeredError(held.x, held.xq, 3000, k, w, dequantize(qAsymmetric, asymmetricScales));
    // Unquantized, the refit alone also beats the float weights on the quantized inputs.
    expect(centeredError(held.x, held.xq, 3000, k, w, target)).toBeLessThan(0.5 * centeredError(held.x, held.xq, 3000, k, w, w));
    expect(after).toBeLessThan(0.7 * before);
  });

  it('declines layers with too few rows for the fit (a classifier seeing one row per image)', () => {
    const few = pairs(100, k, 3);
    expect(asymmetricTarget(w, out, momentsOf(few.x, few.xq, 100, k), true)).toBeNull();
  });
});
