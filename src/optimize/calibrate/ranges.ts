/**
 * From calibration statistics to the range [min, max] each activation is quantized over.
 *
 * - `minmax`: the extremes seen over all samples.
 * - `moving-average`: the exponential moving average of each sample's min and max (momentum set at
 *   calibration, 0.99 by default; AI Edge Quantizer uses 0.95 per calibration batch, TF QAT 0.999).
 *   Less sensitive to one outlying sample than `minmax`.
 * - `percentile`: two-sided; lo = the (100 - p)th percentile, hi = the p-th (default p = 99.99),
 *   read from the histogram with linear interpolation inside a bin, never outside [min, max].
 * - `mse`: the clipping range that minimizes the expected squared error of quantizing the observed
 *   distribution (histogram) to the target grid: clipping error (x - lo)^2 / (x - hi)^2 for the
 *   values outside the range, plus rounding noise step^2 / 12 for every value inside except exact
 *   zeros (zero is always on the grid). 8-bit: asymmetric grid of 255 steps over [lo, hi] with
 *   lo <= 0 <= hi (what activationParams in quantize/params.ts builds; its zero-point nudge is
 *   ignored); both ends are searched, over every bin edge, exhaustively (prefix sums make each
 *   candidate O(1)); when the tensor is never negative, lo = 0 and only hi is searched (and the
 *   mirror case). 16-bit: symmetric grid of 65534 steps over [-b, b]; only b is searched.
 *   Values inside a bin are taken as uniformly spread over it (bins at the ends clipped to min/max,
 *   exact zeros at 0). A side that is never clipped reports its extreme, so the range always lies
 *   within [min, max]. The tests check the chosen range against a brute-force sweep of the real
 *   int8 error (within 2% on exponential and Laplace data) and on real MNIST activations.
 *
 * The result is the RangeMap the integer quantizer consumes, keyed like the statistics.
 */
import { WorkbenchError } from '../../errors';
import type { RangeMap, TensorRange } from '../quantize/integer';
import { binWidth, occupiedBins, type OccupiedBins, type TensorStats } from './statistics/histogram';

export type RangeAlgorithm = 'minmax' | 'moving-average' | 'percentile' | 'mse';

export const RANGE_ALGORITHMS: readonly RangeAlgorithm[] = ['minmax', 'moving-average', 'percentile', 'mse'];
export const DEFAULT_PERCENTILE = 99.99;

export interface RangeOptions {
  /** Activation bits the ranges are for (the MSE grid); default 8. */
  bits?: 8 | 16;
  /** For `percentile`: in (50, 100]; default 99.99. */
  percentile?: number;
}

/** Anything holding per-tensor statistics (a CalibrationStats, or a plain map of them). */
export interface StatsSource {
  tensors: Map<string, TensorStats>;
}

/** A range for every tensor that had finite values, keyed `${subgraph}:${tensorIndex}`. */
export function rangesFrom(stats: StatsSource, algorithm: RangeAlgorithm, options: RangeOptions = {}): RangeMap {
  const bits = options.bits ?? 8;
  if (bits !== 8 && bits !== 16) throw new WorkbenchError('bad-input', `Activation ranges are for 8 or 16 bits, not ${String(bits)}.`);
  const percentile = options.percentile ?? DEFAULT_PERCENTILE;
  if (algorithm === 'percentile' && !(percentile > 50 && percentile <= 100)) {
    throw new WorkbenchError('bad-input', `The calibration percentile must be in (50, 100]; got ${percentile}.`);
  }
  if (!RANGE_ALGORITHMS.includes(algorithm)) {
    throw new WorkbenchError('bad-input', `Unknown calibration algorithm '${String(algorithm)}' (use ${RANGE_ALGORITHMS.join(', ')}).`);
  }
  const ranges: RangeMap = new Map();
  for (const [key, tensor] of stats.tensors) {
    if (tensor.count === 0) continue;
    ranges.set(key, rangeOf(tensor, algorithm, bits, percentile));
  }
  return ranges;
}

export function rangeOf(stats: TensorStats, algorithm: RangeAlgorithm, bits: 8 | 16 = 8, percentile = DEFAULT_PERCENTILE): TensorRange {
  switch (algorithm) {
    case 'minmax':
      return { min: stats.min, max: stats.max };
    case 'moving-average':
      return { min: stats.movingMin, max: stats.movingMax };
    case 'percentile':
      return percentileRange(stats, percentile);
    case 'mse':
      return bits === 8 ? mseRangeAsymmetric(stats, 255) : mseRangeSymmetric(stats, 65534);
  }
}

// ---------------------------------------------------------------------------------------------
// Percentile

export function percentileRange(stats: TensorStats, percentile: number): TensorRange {
  const bins = occupiedBins(stats);
  const tail = (100 - percentile) / 100;
  const min = quantile(bins, tail, stats);
  const max = quantile(bins, 1 - tail, stats);
  return { min: Math.min(min, max), max: Math.max(min, max) };
}

/**
 * The value below which a fraction q of the values lie, within [min, max]: linear inside a bin,
 * except that the exact zeros of the bin [0, width) sit at 0 (ReLU outputs are often mostly zeros).
 */
export function quantile(bins: OccupiedBins, q: number, stats: Pick<TensorStats, 'min' | 'max'>): number {
  if (q <= 0) return stats.min;
  if (q >= 1) return stats.max;
  const target = q * bins.total;
  let cumulative = 0;
  for (let i = 0; i < bins.count.length; i++) {
    const c = bins.count[i];
    if (cumulative + c >= target && c > 0) {
      let rank = target - cumulative;
      let spread = c;
      if (i === bins.zeroBin && bins.zeros > 0) {
        if (rank <= bins.zeros) return Math.max(stats.min, 0);
        rank -= bins.zeros;
        spread -= bins.zeros;
      }
      const value = bins.lower[i] + (rank / spread) * (bins.upper[i] - bins.lower[i]);
      return Math.min(stats.max, Math.max(stats.min, value));
    }
    cumulative += c;
  }
  return stats.max;
}

// ---------------------------------------------------------------------------------------------
// MSE

/**
 * Moments of the histogram with values spread uniformly in each bin (exact zeros at 0): prefix sums
 * of count, sum of x and sum of x^2 over bins [0, i).
 */
interface Moments {
  bins: OccupiedBins;
  s0: Float64Array;
  s1: Float64Array;
  s2: Float64Array;
}

function moments(bins: OccupiedBins): Moments {
  const n = bins.count.length;
  const s0 = new Float64Array(n + 1);
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const a = bins.lower[i];
    const b = bins.upper[i];
    // Exact zeros contribute nothing to the sums of x and x^2; the rest of their bin is uniform.
    const c = i === bins.zeroBin ? bins.count[i] - bins.zeros : bins.count[i];
    s0[i + 1] = s0[i] + bins.count[i];
    s1[i + 1] = s1[i] + (c * (a + b)) / 2;
    s2[i + 1] = s2[i] + (c * (a * a + a * b + b * b)) / 3;
  }
  return { bins, s0, s1, s2 };
}

/** Sum over bins [from, to) of (x - c)^2. */
function squaredDistance(m: Moments, from: number, to: number, c: number): number {
  if (to <= from) return 0;
  const n0 = m.s0[to] - m.s0[from];
  const n1 = m.s1[to] - m.s1[from];
  const n2 = m.s2[to] - m.s2[from];
  return Math.max(0, n2 - 2 * c * n1 + c * c * n0);
}

/**
 * Candidate clipping points: for the low end, bin index i means "clip at lower[i]" (bins below i
 * are clipped); for the high end, i means "clip at upper[i]" (bins above i are clipped).
 */
export function mseRangeAsymmetric(stats: TensorStats, steps: number): TensorRange {
  const bins = occupiedBins(stats);
  const n = bins.count.length;
  if (n === 0 || stats.min === stats.max) return { min: stats.min, max: stats.max };
  const m = moments(bins);
  const nonZero = (inside: number) => inside - stats.zeros;
  // Low candidates: bins whose lower bound is <= 0 (the grid always contains 0).
  const lowCandidates: number[] = [];
  const highCandidates: number[] = [];
  for (let i = 0; i < n; i++) {
    if (bins.lower[i] <= 0) lowCandidates.push(i);
    if (bins.upper[i] >= 0) highCandidates.push(i);
  }
  if (!lowCandidates.length) lowCandidates.push(-1); // never negative: lo = 0
  if (!highCandidates.length) highCandidates.push(-1); // never positive: hi = 0
  const lowValue = (i: number) => (i < 0 ? 0 : bins.lower[i]);
  const highValue = (i: number) => (i < 0 ? 0 : bins.upper[i]);

  let best = Infinity;
  let bestLo = stats.min;
  let bestHi = stats.max;
  for (const i of lowCandidates) {
    const lo = lowValue(i);
    const below = i < 0 ? 0 : i; // bins [0, below) are clipped to lo
    const lowError = squaredDistance(m, 0, below, lo);
    if (lowError >= best) continue;
    for (const j of highCandidates) {
      const hi = highValue(j);
      const above = j < 0 ? n : j + 1; // bins [above, n) are clipped to hi
      if (above <= below && i >= 0 && j >= 0) continue;
      const step = (hi - lo) / steps;
      const inside = m.s0[above] - m.s0[below];
      const error = lowError + squaredDistance(m, above, n, hi) + (Math.max(0, nonZero(inside)) * step * step) / 12;
      if (error < best) {
        best = error;
        bestLo = lo;
        bestHi = hi;
      }
    }
  }
  // Report the clipping range within [min, max]: a side that is never clipped keeps its extreme.
  return { min: stats.min >= 0 ? stats.min : bestLo, max: stats.max <= 0 ? stats.max : bestHi };
}

/** Symmetric grid [-b, b] with `steps` steps; b is searched over bin edges (|edges| on both sides). */
export function mseRangeSymmetric(stats: TensorStats, steps: number): TensorRange {
  const bins = occupiedBins(stats);
  const n = bins.count.length;
  if (n === 0) return { min: stats.min, max: stats.max };
  const m = moments(bins);
  const bound = Math.max(Math.abs(stats.min), Math.abs(stats.max));
  if (bound === 0) return { min: 0, max: 0 };
  // Candidate bounds: the multiples of the bin width below the full range, and the full range.
  // Bin edges are multiples of the width (anchored at 0), so for such a b neither -b nor b cuts
  // through a bin: every bin is entirely clipped or entirely inside.
  const width = binWidth(stats.histogram);
  const sorted: number[] = [];
  for (let k = 1; k * width < bound; k++) sorted.push(k * width);
  sorted.push(bound);
  let best = Infinity;
  let bestBound = bound;
  for (const b of sorted) {
    const lowIndex = firstIndex(n, (i) => bins.upper[i] > -b); // bins before it lie at or below -b
    const highIndex = firstIndex(n, (i) => bins.lower[i] >= b && bins.upper[i] > b); // bins from it lie above b
    const step = (2 * b) / steps;
    const inside = m.s0[highIndex] - m.s0[lowIndex];
    const error =
      squaredDistance(m, 0, lowIndex, -b) + squaredDistance(m, highIndex, n, b) + (Math.max(0, inside - stats.zeros) * step * step) / 12;
    if (error < best) {
      best = error;
      bestBound = b;
    }
  }
  return { min: Math.max(stats.min, -bestBound), max: Math.min(stats.max, bestBound) };
}

/** First index in [0, n) for which the (monotone) predicate holds, or n. */
function firstIndex(n: number, predicate: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (predicate(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
