/**
 * Work that rides along in calibration's LiteRT runs: another consumer of the same samples (the
 * rounding sampler's row gathers, rounding/layer-inputs.ts) adds its ops to the calibration model,
 * so a sample costs one forward pass instead of one per consumer, and one model is loaded instead
 * of two. Its extra input and output go through the calibration's runs; it is handed its output
 * in sample order.
 */
import type { ModelGraph } from '../../tflite/graph';

export interface RunRider {
  /** A copy of `graph` with the rider's ops: an int32 input named `indexInput`, and its output tensor `rows` (subgraph 0). */
  attach(graph: ModelGraph): { graph: ModelGraph; indexInput: string; rows: number };
  /** The calibration model with the rider's ops loaded: the rider's own runs stop. */
  attached(): void;
  /** For the next sample, in sample order before its run: the extra input's values, and what takes the output once that sample is added. */
  next(): { indices: Int32Array; take(values: Float32Array): void };
}
