/**
 * Per-channel int4 weight scales chosen by the layer's output error: for each output channel the
 * fraction of max|w_c| / 7 (from 1 down to 0.5) whose nearest-rounded weights give the smallest
 * d^T H d, d = w_c - s q (problem.ts), i.e. the smallest error of the layer's output on the sampled
 * inputs rather than of the weights themselves. At 15 levels the clipping decides much of the error,
 * and inputs that rarely fire let the weights they meet be clipped harder. Rounding (GPTQ / AdaRound)
 * then works on these scales; the caller updates the plan's weight and bias scales with them.
 */
import { channelError, nearestInteger, type LayerLayout, type RoundingProblem } from './problem';

/** Candidate fractions of max|w_c| / qmax: 1, 0.975 ... 0.5. */
const STEPS = 20;
const MIN_FRACTION = 0.5;
/** Candidates (best by the diagonal screen) measured with the full H. */
const FULL_CHECKS = 4;

/** The scales (one per output channel, as problem.scales) that minimize each channel's sampled output error. */
export function searchScales(problem: RoundingProblem, layout: LayerLayout): Float64Array {
  const { values, bits } = problem;
  const qmax = bits === 4 ? 7 : 127;
  const scales = Float64Array.from({ length: layout.outChannels }, (_, c) => layout.scaleOf(c));
  if (problem.scales.length === 1) return Float64Array.of(scales[0]); // per-tensor: one scale, left as planned
  const q = new Int8Array(values.length);
  for (const group of layout.groups) {
    for (const c of group.channels) {
      let max = 0;
      for (let j = 0; j < group.k; j++) max = Math.max(max, Math.abs(values[group.index(c, j)]));
      if (max === 0) continue; // a zero channel keeps its planned scale (its bias needs a real one)
      // Screen every candidate by diag(H) (k per candidate), then measure the few best with the full
      // H (k^2 each): a 1280-wide classifier would otherwise spend k^2 x 21 per channel.
      const fractions: { s: number; diag: number }[] = [];
      for (let step = 0; step <= STEPS; step++) {
        const s = (max * (1 - (step * (1 - MIN_FRACTION)) / STEPS)) / qmax;
        let diag = 0;
        for (let j = 0; j < group.k; j++) {
          const v = values[group.index(c, j)];
          const d = v - s * nearestInteger(v, s, bits);
          diag += group.hessian[j * group.k + j] * d * d;
        }
        fractions.push({ s, diag });
      }
      fractions.sort((a, b) => a.diag - b.diag);
      let best = scales[c];
      let bestError = Infinity;
      for (const { s } of fractions.slice(0, FULL_CHECKS)) {
        for (let j = 0; j < group.k; j++) {
          const i = group.index(c, j);
          q[i] = nearestInteger(values[i], s, bits);
        }
        const error = channelError(group, values, c, s, q);
        if (error < bestError) {
          bestError = error;
          best = s;
        }
      }
      scales[c] = best;
    }
  }
  return scales;
}
