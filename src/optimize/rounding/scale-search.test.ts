import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../seeded-random';
import { layoutOf, type RoundingProblem } from './problem';
import { searchScales } from './scale-search';

/** ||X (w_c - s q_c)||^2 / n for channel c with nearest int4 rounding, computed row by row (no H). */
function sampledError(x: Float32Array, n: number, w: Float32Array, k: number, c: number, s: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let j = 0; j < k; j++) {
      const v = w[c * k + j];
      dot += x[r * k + j] * (v - s * Math.max(-8, Math.min(7, Math.round(v / s))));
    }
    total += dot * dot;
  }
  return total / n;
}

describe('searchScales (int4 clipping by the layer output error)', () => {
  it('picks per channel a scale whose sampled output error is within 1% of the best on the grid and below max|w|/7', () => {
    const random = seededRandom(21);
    const k = 48;
    const channels = 6;
    const n = 400;
    // Input column 0 rarely fires: the large weight it meets can be clipped cheaply.
    const x = Float32Array.from({ length: n * k }, (_, i) => (i % k === 0 ? (random() < 0.02 ? 1 : 0) : random() * 2 - 1));
    const w = Float32Array.from({ length: channels * k }, () => (random() * 2 - 1) * 0.1);
    for (let c = 0; c < channels; c++) w[c * k] = 0.8;
    const scales = Array.from({ length: channels }, (_, c) => Math.max(...Array.from(w.subarray(c * k, (c + 1) * k), Math.abs)) / 7);
    const problem: RoundingProblem = { values: w, shape: [channels, k], scales, axis: 0, bits: 4, inputs: { rows: x, count: n, width: k, layout: 'dense', inChannels: k } };
    const chosen = searchScales(problem, layoutOf(problem));
    for (let c = 0; c < channels; c++) {
      const grid = Array.from({ length: 21 }, (_, i) => (0.8 * (1 - (i * 0.5) / 20)) / 7);
      const best = Math.min(...grid.map((s) => sampledError(x, n, w, k, c, s)));
      const got = sampledError(x, n, w, k, c, chosen[c]);
      expect(got).toBeLessThanOrEqual(best * 1.01);
      expect(got).toBeLessThan(0.8 * sampledError(x, n, w, k, c, scales[c]));
    }
  });

  it('leaves a per-tensor scale as planned', () => {
    const w = Float32Array.of(0.5, -0.25, 0.1, 0.05);
    const problem: RoundingProblem = { values: w, shape: [2, 2], scales: [0.5 / 7], axis: 0, bits: 4, inputs: { rows: Float32Array.of(1, 0, 0, 1), count: 2, width: 2, layout: 'dense', inChannels: 2 } };
    expect(Array.from(searchScales(problem, layoutOf(problem)))).toEqual([0.5 / 7]);
  });
});
