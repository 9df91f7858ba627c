/**
 * Calibration through the engine (engine/executor.ts, tfjs ops), batched: the same statistics as
 * the LiteRT path of calibrate.ts. 'auto' never chooses it (choosePath in calibrate.ts: LiteRT runs
 * every model and is the reference); it runs only when asked for (`path: 'engine'`), and is kept for that.
 *
 * B samples at a time (B from a budget of 16M measured values per batch, at most 32) run as one
 * batch; every measured activation comes back as a tfjs tensor [B, ...], and each sample's slice
 * goes through the LiteRT path's own JS statistics (statistics/histogram.ts accumulate: min/max,
 * moving average per sample in sample order, zeros, histogram) and channel sums. On the WASM
 * backend the values are read in place in the backend's heap (no copy out); elsewhere (WebGPU,
 * cpu) they are read back with data().
 *
 * The JS scan reads the heap in place rather than tfjs reductions or a strided read-back, which
 * were slower (npm run bench:calibration-paths; figures in bench/README.md).
 *
 * Differences from the LiteRT path: the engine's float results match LiteRT's within about 1e-5
 * relative, not bit for bit, so statistics and ranges agree within that (runs/engine.test.ts).
 * Samples the model input is built from are converted to float32 as LiteRT's would be.
 *
 * Which graphs: one float32 input (the engine's input order equals LiteRT's then), every op with
 * an engine kernel (unsupportedOps), no variable tensors. Batching needs every measured tensor to
 * have dimension 0 of size 1 in the file (the batch); otherwise B = 1, where the engine's per-op
 * overhead makes it much slower than LiteRT (npm run bench:calibration-paths).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../../../errors';
import { GraphExecutor, unsupportedOps } from '../../../engine/executor';
import type { Sample, SampleTensor } from '../../../runtime/samples';
import type { ModelGraph } from '../../../tflite/graph';
import { TensorType } from '../../../tflite/schema/generated/tflite_generated';
import { accumulate, binStride, newTensorStats, type TensorStats } from '../statistics/histogram';
import { addChannelSums } from '../statistics/accumulator';

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

/** What to measure (worked out by calibrate.ts, shared with the LiteRT path). */
export interface CalibrationPlan {
  /** Tensors (subgraph 0) that get their own statistics: model inputs and activations. */
  measured: number[];
  /** Tensors whose per-channel means bias correction needs. */
  meanTensors: number[];
}

export interface EngineCalibrationOptions {
  momentum: number;
  bins: number;
  histograms: boolean;
  /** Samples per batch; default from a budget of tapped values per batch, at most 32. */
  batch?: number;
}

/** Tapped values per batch the default batch size aims at (64 MB of float32). */
const BATCH_VALUE_BUDGET = 16_000_000;
const MAX_BATCH = 32;

/** Why the engine cannot calibrate `graph`, or null when it can. */
export function engineCalibrationBlocker(graph: ModelGraph): string | null {
  const subgraph = graph.subgraphs[0];
  if (!subgraph) return 'the model has no subgraph';
  const missing = unsupportedOps(graph, 0);
  if (missing.length) return `the engine has no kernel for ${missing.join(', ')}`;
  if (subgraph.inputs.length !== 1) return `the model has ${subgraph.inputs.length} inputs (the engine path takes one)`;
  const input = subgraph.tensors[subgraph.inputs[0]];
  if (input?.type !== TensorType.FLOAT32) return 'the model input is not float32';
  if (!input.shape.length || input.shape.some((d) => !(d > 0))) return 'the model input has no static shape';
  if (subgraph.tensors.some((t) => t.isVariable)) return 'the model has variable (state) tensors';
  return null;
}

/**
 * Whether the engine can batch `graph`: every float tensor computed at run time (and the input) has
 * dimension 0 of size 1, the batch. (engineCalibrator decides on the tensors it measures.)
 */
export function engineCanBatch(graph: ModelGraph): boolean {
  const subgraph = graph.subgraphs[0];
  if (!subgraph) return false;
  return subgraph.tensors.every((t) => t.type !== TensorType.FLOAT32 || (graph.buffers[t.buffer]?.data.length ?? 0) > 0 || (t.shape.length > 0 && t.shape[0] === 1));
}

/** The engine path (see the header). Throws 'unsupported' when engineCalibrationBlocker says why not. */
export function engineCalibrator(graph: ModelGraph, plan: CalibrationPlan, options: EngineCalibrationOptions): Calibrator {
  const { momentum, bins, histograms } = options;
  const blocker = engineCalibrationBlocker(graph);
  if (blocker) throw new WorkbenchError('unsupported', `Calibration through the engine is not possible: ${blocker}.`);
  const subgraph = graph.subgraphs[0];
  const inputIndex = subgraph.inputs[0];
  const inputShape = subgraph.tensors[inputIndex].shape;
  const inputLength = inputShape.reduce((n, d) => n * d, 1);
  const sizeOf = (t: number) => subgraph.tensors[t].shape.reduce((n, d) => n * Math.max(d, 1), 1);

  const tensors = new Map<string, TensorStats>();
  const measured = plan.measured.map((t) => {
    const shape = subgraph.tensors[t].shape;
    const length = sizeOf(t);
    const stats = newTensorStats(0, t, subgraph.tensors[t].name ?? '', bins);
    tensors.set(stats.key, stats);
    return { t, length, stride: binStride(length, shape[shape.length - 1] ?? 1), stats };
  });
  const means = plan.meanTensors.map((t) => {
    const shape = subgraph.tensors[t].shape;
    const channels = Math.max(1, shape[shape.length - 1] ?? 1);
    return { tensor: t, channels, sums: new Float64Array(channels), values: 0 };
  });
  // The input is tapped too, so that the executor keeps it alive through the run.
  const taps = [...new Set([inputIndex, ...plan.measured, ...plan.meanTensors])];
  const perSample = taps.reduce((n, t) => n + sizeOf(t), 0);
  const batchable = taps.every((t) => subgraph.tensors[t].shape.length > 0 && subgraph.tensors[t].shape[0] === 1);
  const batch = batchable ? Math.max(1, Math.min(options.batch ?? Math.floor(BATCH_VALUE_BUDGET / perSample), MAX_BATCH)) : 1;
  const executor = new GraphExecutor(graph, { simulateQuantization: false });

  const runBatch = async (samples: readonly Sample[], firstIndex: number) => {
    const b = samples.length;
    const data = new Float32Array(b * inputLength);
    samples.forEach((sample, k) => data.set(sampleInput(sample, inputLength, firstIndex + k), k * inputLength));
    const shape = [b * inputShape[0], ...inputShape.slice(1)];
    // Run, keeping every measured tensor; then the LiteRT path's own JS statistics over each
    // sample's values, read in place from the WASM heap (no copy) or copied out elsewhere.
    let kept: tf.Tensor[] = [];
    tf.tidy(() => {
      const x = tf.tensor(data, shape, 'float32');
      const run = executor.run([x], { taps, freeIntermediates: true });
      kept = taps.map((t) => tf.keep(run.taps.get(t) ?? x));
    });
    try {
      const values = new Map<number, Float32Array>();
      const heap = wasmHeap();
      if (!heap) {
        const read = await Promise.all(kept.map((v) => v.data() as Promise<Float32Array>));
        taps.forEach((t, i) => values.set(t, read[i]));
      }
      // Views into the heap stay valid as long as nothing allocates on the backend meanwhile.
      const valuesOf = (t: number) => values.get(t) ?? heapView(heap!, kept[taps.indexOf(t)]);
      for (const m of measured) {
        const all = valuesOf(m.t);
        for (let k = 0; k < b; k++) accumulate(m.stats, all.subarray(k * m.length, (k + 1) * m.length), momentum, m.stride, histograms);
      }
      for (const m of means) {
        const all = valuesOf(m.tensor);
        addChannelSums(m.sums, all);
        m.values += all.length - (all.length % m.channels);
      }
    } finally {
      tf.dispose(kept);
    }
  };

  return {
    batch,
    tensors,
    means,
    async add(samples, firstIndex) {
      for (let start = 0; start < samples.length; start += batch) await runBatch(samples.slice(start, start + batch), firstIndex + start);
    },
    finish: async () => {},
    statsThread: 'main',
    statsReason: 'the engine path reads the values in place in its WASM heap',
    reductions: 'js',
    dispose: () => executor.dispose(),
  };
}

/** The sample's one input, checked against the model's input size. */
function sampleInput(sample: Sample, length: number, index: number): SampleTensor {
  if (!Array.isArray(sample) || sample.length !== 1) {
    throw new WorkbenchError('bad-input', `Sample ${index} has ${Array.isArray(sample) ? sample.length : 'no'} input arrays; the model takes 1.`);
  }
  const data = sample[0];
  if (!ArrayBuffer.isView(data) || data.length !== length) {
    throw new WorkbenchError('bad-input', `Sample ${index}: expected ${length} values, got ${ArrayBuffer.isView(data) ? data.length : typeof data}.`);
  }
  return data;
}

interface WasmBackendInternals {
  wasm?: { HEAPU8?: Uint8Array };
  dataIdMap?: { get(dataId: object): { memoryOffset?: number } | undefined };
}

/** The tfjs WASM backend's heap when the engine runs there (for in-place reads), else null. */
function wasmHeap(): WasmBackendInternals | null {
  if (tf.engine().backendName !== 'wasm') return null;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  return backend.wasm?.HEAPU8 && backend.dataIdMap ? backend : null;
}

/** A float32 view of a tensor's values in the WASM heap (tfjs' own readSync copies this range). */
function heapView(backend: WasmBackendInternals, value: tf.Tensor): Float32Array {
  const offset = backend.dataIdMap!.get(value.dataId)?.memoryOffset;
  if (value.dtype !== 'float32' || offset === undefined) throw new WorkbenchError('runtime', 'The engine returned a tensor calibration cannot read.');
  return new Float32Array(backend.wasm!.HEAPU8!.buffer, offset, value.size);
}
