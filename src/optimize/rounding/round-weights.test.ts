import { describe, expect, it } from 'vitest';
import { quantizeInt8 } from '../quantize/params';
import { choleskyLower, inverseCholeskyUpper } from './gptq';
import type { LayerRows } from './problem';
import { roundWeights } from './round-weights';
import { seededRandom } from '../../seeded-random';

/** Correlated, partly sparse rows, like post-ReLU activations. */
function rows(count: number, width: number, seed: number): LayerRows {
  const next = seededRandom(seed);
  const data = new Float32Array(count * width);
  for (let r = 0; r < count; r++) {
    const common = next() * 2;
    for (let j = 0; j < width; j++) data[r * width + j] = Math.max(0, common + next() * 2 - 1.2 + 0.5 * Math.sin(j));
  }
  return { rows: data, count, width, layout: 'dense', inChannels: width };
}

/** sum over rows and channels of (x . (w - s q))^2, computed directly on the rows. */
function outputError(x: LayerRows, w: Float32Array, scales: number[], q: Int8Array): number {
  const out = scales.length;
  const k = x.width;
  let total = 0;
  for (let r = 0; r < x.count; r++) {
    for (let c = 0; c < out; c++) {
      let e = 0;
      for (let j = 0; j < k; j++) e += x.rows[r * k + j] * (w[c * k + j] - scales[c] * q[c * k + j]);
      total += e * e;
    }
  }
  return total;
}

describe('roundWeights', () => {
  const out = 12;
  const k = 40;
  const next = seededRandom(7);
  const w = Float32Array.from({ length: out * k }, () => (next() - 0.5) * 0.4);
  const scalesFor = (qmax: number) => Array.from({ length: out }, (_, c) => Math.max(...Array.from(w.subarray(c * k, (c + 1) * k), Math.abs)) / qmax);
  const train = rows(600, k, 1);
  const heldOut = rows(600, k, 2);

  for (const bits of [8, 4] as const) {
    it(`gptq and adaround lower the output error of held-out rows below nearest's (int${bits})`, () => {
      const scales = scalesFor(bits === 8 ? 127 : 7);
      const problem = { values: w, shape: [out, k], scales, axis: 0, bits, inputs: train };
      const nearest = roundWeights('nearest', problem);
      const [lo, hi] = bits === 8 ? [-127, 127] : [-8, 7];
      for (const method of ['gptq', 'adaround'] as const) {
        const q = roundWeights(method, problem);
        expect(Math.min(...q)).toBeGreaterThanOrEqual(lo);
        expect(Math.max(...q)).toBeLessThanOrEqual(hi);
        // Every integer is within one step of w / s: a rounding, not a different quantizer.
        for (let i = 0; i < q.length; i++) expect(Math.abs(q[i] - w[i] / scales[Math.floor(i / k)])).toBeLessThan(bits === 8 ? 1 : 2);
        expect(outputError(heldOut, w, scales, q)).toBeLessThan(0.9 * outputError(heldOut, w, scales, nearest));
      }
    });
  }

  it("nearest gives what the quantizer's own int8 weights are", () => {
    const scales = scalesFor(127);
    const q = roundWeights('nearest', { values: w, shape: [out, k], scales, axis: 0, bits: 8, inputs: train });
    expect(Array.from(q)).toEqual(Array.from(quantizeInt8(w, [out, k], { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 }, true)));
  });

  it('inverseCholeskyUpper gives U with U^T U = (H + damping)^-1', () => {
    const n = 6;
    const x = rows(50, n, 3);
    const h = new Float64Array(n * n);
    for (let r = 0; r < x.count; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] += (x.rows[r * n + i] * x.rows[r * n + j]) / x.count;
    const order = [0, 1, 2, 3, 4, 5];
    const u = inverseCholeskyUpper(h, n, order);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += h[i * n + i] / n;
    // (U^T U) (H + 0.01 mean I) = I
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let v = 0;
        for (let p = 0; p < n; p++) {
          let inv = 0;
          for (let q = 0; q < n; q++) inv += u[q * n + i] * u[q * n + p];
          v += inv * (h[p * n + j] + (p === j ? 0.01 * mean : 0));
        }
        expect(v).toBeCloseTo(i === j ? 1 : 0, 8);
      }
    }
    expect(choleskyLower(Float64Array.of(1, 2, 2, 1), 2)).toBeNull();
  });

  it('rejects rows that do not fit the weights', () => {
    expect(() => roundWeights('gptq', { values: w, shape: [out, k], scales: scalesFor(127), axis: 0, bits: 8, inputs: rows(10, k + 1, 1) })).toThrow(/do not fit/);
  });
});
