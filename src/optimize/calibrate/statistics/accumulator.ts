/**
 * The statistics of the LiteRT calibration path, as plain data in and out, so the same code runs
 * on the calibrating thread or in a statistics worker (worker/stats-thread.ts) with bit-identical
 * results: the same calls to `accumulate` / `addChannelSums`, in the same order, on the same values.
 *
 * Per sample the caller hands one array per model input (null when the input gets no statistics)
 * followed by one per tap (the tap's values: a view into the packed output is fine), in the plan's
 * order. The accumulator then, in this fixed order: the inputs' statistics, the taps' statistics,
 * the channel sums.
 */
import { accumulate, newTensorStats, type TensorStats } from './histogram';

export interface StatsPlanEntry {
  tensorIndex: number;
  name: string;
  /** Histogram binning stride (binStride). */
  stride: number;
}

export interface StatsPlan {
  momentum: number;
  bins: number;
  histograms: boolean;
  /** One per model input, in LiteRT's input order; null: no statistics for that input. */
  inputs: (StatsPlanEntry | null)[];
  /** One per tap, in tap order. */
  taps: StatsPlanEntry[];
  /** Channel sums: `array` indexes the per-sample arrays (inputs first, then taps). */
  means: { tensor: number; array: number; channels: number }[];
}

/** What an accumulator holds (structured-clone friendly). */
export interface StatsResult {
  /** Input statistics (those present) then tap statistics, in plan order. */
  tensors: TensorStats[];
  means: { tensor: number; sums: Float64Array; values: number }[];
}

export class StatsAccumulator {
  private readonly inputStats: (TensorStats | null)[];
  private readonly tapStats: TensorStats[];
  private readonly means: StatsResult['means'];
  private readonly byKey = new Map<string, TensorStats>();

  constructor(private readonly plan: StatsPlan) {
    // One TensorStats per tensor even if an input and a tap name the same one (they cannot, but
    // the LiteRT path always shared them by key).
    const statsFor = (e: StatsPlanEntry) => {
      const key = `0:${e.tensorIndex}`;
      let stats = this.byKey.get(key);
      if (!stats) {
        stats = newTensorStats(0, e.tensorIndex, e.name, plan.bins);
        this.byKey.set(key, stats);
      }
      return stats;
    };
    this.inputStats = plan.inputs.map((e) => (e ? statsFor(e) : null));
    this.tapStats = plan.taps.map(statsFor);
    this.means = plan.means.map((m) => ({ tensor: m.tensor, sums: new Float64Array(Math.max(1, m.channels)), values: 0 }));
  }

  /** Adds one sample: `arrays` = one per input (null allowed where the plan has none), then one per tap. */
  add(arrays: readonly (Float32Array | null)[]): void {
    const { momentum, histograms, inputs, taps } = this.plan;
    for (let i = 0; i < this.inputStats.length; i++) {
      const stats = this.inputStats[i];
      if (stats) accumulate(stats, arrays[i] as Float32Array, momentum, inputs[i]!.stride, histograms);
    }
    const first = inputs.length;
    for (let k = 0; k < this.tapStats.length; k++) accumulate(this.tapStats[k], arrays[first + k] as Float32Array, momentum, taps[k].stride, histograms);
    for (let j = 0; j < this.means.length; j++) {
      const m = this.means[j];
      const data = arrays[this.plan.means[j].array] as Float32Array;
      addChannelSums(m.sums, data);
      m.values += data.length - (data.length % m.sums.length);
    }
  }

  result(): StatsResult {
    return { tensors: [...this.byKey.values()], means: this.means };
  }
}

/** Adds each value to the sum of its channel (index modulo the channel count). */
export function addChannelSums(sums: Float64Array, data: Float32Array): void {
  const channels = sums.length;
  const n = data.length - (data.length % channels);
  for (let base = 0; base < n; base += channels) {
    for (let c = 0; c < channels; c++) sums[c] += data[base + c];
  }
}
