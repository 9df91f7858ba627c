/**
 * What a calibrated variant keeps of its calibration, for the page to show next to each op: per
 * activation tensor, its values seen (min, max, a 64-bin histogram over [min, max]), the range the
 * variant quantizes it to, and the share of calibration values outside that range (clipped).
 *
 * The full statistics (2048 fine bins per tensor, statistics/histogram.ts) stay in the worker: the
 * summary is stored with the session in IndexedDB, so it is small (a few hundred bytes a tensor).
 * The clipped fraction is computed from the fine histogram, not from the 64 bins drawn. With min/max
 * ranges (no histograms needed) only the first calibration samples are binned for it (pipeline.ts):
 * the summary says how many of how many.
 *
 * The range is the one the variant applies: the plan's scale and zero point of the tensor (which
 * may differ from the calibrated range: scale groups take a union, SOFTMAX / LOGISTIC / TANH have
 * fixed outputs, the grid always holds 0). A tensor the plan leaves in float shows its calibrated
 * range and is marked so: nothing is clipped at run time there.
 */
import type { QuantizationPlan } from '../quantize/plan-types';
import type { RangeMap } from '../quantize/integer';
import { occupiedBins, type TensorStats } from './statistics/histogram';

export const SUMMARY_BINS = 64;

export interface ActivationSummary {
  /** `${subgraph}:${tensorIndex}` in the model that was calibrated (the float model as read). */
  key: string;
  name: string;
  /** Extremes of the calibration values. */
  min: number;
  max: number;
  /** SUMMARY_BINS counts over [min, max] (each fine bin goes where its centre falls). */
  counts: number[];
  /** Values the histogram counts (a strided subset of a large tensor counts for the whole). */
  total: number;
  /** The range [lo, hi] values are clipped to. */
  range: [number, number];
  /** 'quantized': the variant's integer grid (scale, zero point); 'calibrated': the tensor stays float. */
  rangeSource: 'quantized' | 'calibrated';
  /** Shares of the calibration values below lo and above hi, from the full-resolution histogram. */
  clippedBelow: number;
  clippedAbove: number;
  /** Calibration samples the histogram holds, of all those calibrated (min/max ranges bin only the first ones). */
  samples: number;
  samplesCalibrated: number;
}

/** Integer limits of the plan's activation dtypes. */
const LIMITS: Record<string, [number, number]> = { int8: [-128, 127], int16: [-32768, 32767] };

/**
 * Shares of the histogrammed values below `lo` and above `hi`. A bin that straddles a bound counts
 * the part of its width beyond it (values taken as spread evenly inside a bin, the end bins cut to
 * [min, max]); exact zeros sit at 0. Bounds on bin edges, or outside [min, max], give exact shares.
 */
export function clippedFraction(stats: TensorStats, lo: number, hi: number): { below: number; above: number } {
  const bins = occupiedBins(stats);
  if (bins.total === 0) return { below: 0, above: 0 };
  let below = 0;
  let above = 0;
  for (let i = 0; i < bins.count.length; i++) {
    let c = bins.count[i];
    if (c === 0) continue;
    if (i === bins.zeroBin && bins.zeros > 0) {
      // The exact zeros are a point mass at 0; the rest of the bin is spread over it as usual. (A
      // strided histogram estimates its counts while the zeros are counted exactly: at most the bin.)
      const zeros = Math.min(bins.zeros, c);
      if (0 < lo) below += zeros;
      else if (0 > hi) above += zeros;
      c -= zeros;
    }
    below += c * shareBelow(bins.lower[i], bins.upper[i], lo);
    above += c * (1 - shareBelow(bins.lower[i], bins.upper[i], hi, true));
  }
  return { below: below / bins.total, above: above / bins.total };
}

/** Share of [a, b] below x (a single point, a === b, counts as below only when strictly below, or at most x with `inclusive`). */
function shareBelow(a: number, b: number, x: number, inclusive = false): number {
  if (b <= a) return a < x || (inclusive && a === x) ? 1 : 0;
  if (b <= x) return 1;
  if (a >= x) return 0;
  return (x - a) / (b - a);
}

/** The histogram redrawn as `bins` bins over [min, max]: each occupied fine bin adds to the bin its centre falls in. */
export function coarseCounts(stats: TensorStats, bins = SUMMARY_BINS): number[] {
  const fine = occupiedBins(stats);
  const counts = new Array<number>(bins).fill(0);
  const span = stats.max - stats.min;
  for (let i = 0; i < fine.count.length; i++) {
    if (fine.count[i] === 0) continue;
    const centre = (fine.lower[i] + fine.upper[i]) / 2;
    const k = span > 0 ? Math.min(bins - 1, Math.max(0, Math.floor(((centre - stats.min) / span) * bins))) : 0;
    counts[k] += fine.count[i];
  }
  return counts;
}

/** The real range an integer tensor of the plan represents: scale * (qmin - zp) .. scale * (qmax - zp). */
function plannedRanges(plan: QuantizationPlan | undefined): Map<string, [number, number]> {
  const ranges = new Map<string, [number, number]>();
  for (const sp of plan?.subgraphs ?? []) {
    for (const t of sp.tensors) {
      const limits = LIMITS[t.dtype];
      if (!limits || t.scales.length !== 1) continue;
      const zp = t.zeroPoints[0] ?? 0;
      // A tensor planned at two widths (between int8 and 16x8 ops): the first entry, its writer's or first reader's.
      if (ranges.has(`${sp.index}:${t.tensorIndex}`)) continue;
      ranges.set(`${sp.index}:${t.tensorIndex}`, [t.scales[0] * (limits[0] - zp), t.scales[0] * (limits[1] - zp)]);
    }
  }
  return ranges;
}

/**
 * One summary per tensor with histogrammed values, in key order. `calibrated` are the ranges
 * calibration chose (rangesFrom); `plan` the variant's integer parameters, whose ranges win.
 */
export function summarizeActivations(tensors: Map<string, TensorStats>, calibrated: RangeMap, plan: QuantizationPlan | undefined, samplesCalibrated?: number): ActivationSummary[] {
  const planned = plannedRanges(plan);
  const summaries: ActivationSummary[] = [];
  for (const [key, stats] of tensors) {
    if (stats.count === 0 || !stats.histogram.counts.some((c) => c > 0)) continue;
    const applied = planned.get(key);
    const chosen = calibrated.get(key);
    const range: [number, number] = applied ?? (chosen ? [chosen.min, chosen.max] : [stats.min, stats.max]);
    const { below, above } = clippedFraction(stats, range[0], range[1]);
    const counts = coarseCounts(stats);
    summaries.push({
      key,
      name: stats.name,
      min: stats.min,
      max: stats.max,
      counts,
      total: counts.reduce((a, b) => a + b, 0),
      range,
      rangeSource: applied ? 'quantized' : 'calibrated',
      clippedBelow: below,
      clippedAbove: above,
      samples: stats.samples,
      samplesCalibrated: samplesCalibrated ?? stats.samples,
    });
  }
  return summaries;
}
