/** What a way of running calibration samples hands back to calibrate.ts, fed the samples in order. */
import type { Sample } from '../../../runtime/samples';
import type { TensorStats } from '../statistics/histogram';

/** Per-channel sums of one tensor, over every sample and position. */
export interface ChannelSums {
  tensor: number;
  sums: Float64Array;
  /** Values summed (over all channels). */
  values: number;
}

/** One calibration path, fed the samples in order (calibrate.ts drives it). */
export interface Calibrator {
  /** Samples it takes per run. */
  readonly batch: number;
  /** Statistics so far of the tensors it measures, by rangeKey. */
  readonly tensors: Map<string, TensorStats>;
  readonly means: ChannelSums[];
  /** Adds the samples (any number; `firstIndex` numbers them in error messages). */
  add(samples: readonly Sample[], firstIndex: number): Promise<void>;
  /** Completes the statistics of every sample added (a statistics worker may still be busy). */
  finish(): Promise<void>;
  /** Where the statistics run, and why. */
  readonly statsThread: 'worker' | 'main';
  readonly statsReason: string;
  /** Whether min/max and channel sums are computed inside LiteRT (runs/reduced-in-litert.ts) or in JS. */
  readonly reductions: 'litert' | 'js';
  dispose(): void;
}
