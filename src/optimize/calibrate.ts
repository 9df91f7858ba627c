/**
 * Calibration: run the float model over representative samples and record statistics of every
 * float activation, for the quantizer to turn into ranges (calibrate-ranges.ts).
 *
 * Two paths compute the activations, with the same statistics (calibrate-engine.test.ts):
 * - LiteRT (the reference): one run per sample returns every activation at once, the model being
 *   loaded with packed taps (evaluate/taps.ts: the float activations of subgraph 0 flattened into
 *   one extra output). Runs every model LiteRT.js runs.
 * - the engine (calibrate-engine.ts): the tfjs executor runs B samples per batch and the same JS
 *   statistics read each sample's values in place in the WASM heap. One-input float models whose
 *   every op has an engine kernel.
 * `path: 'auto'` (default) measures both on the first samples and goes on with the faster (see
 * choosePath); the result says which ran and why (`path`, `pathReason`).
 *
 * Model inputs get their statistics from the samples themselves; outputs of RESHAPE / SQUEEZE /
 * EXPAND_DIMS copy the statistics of the tensor they reshape (same values) instead of being
 * measured again. Statistics are keyed `${subgraph}:${tensorIndex}` of the graph passed in
 * (rangeKey in quantize/integer.ts); taps do not renumber tensors. Per tensor: see
 * calibrate-histogram.ts (exact min/max, moving-average min/max with momentum 0.99, zeros, a
 * 2048-bin exact-rebinning histogram of every value or, for large tensors, of a strided subset, the
 * model inputs included); per-channel means for the inputs of ops with weights (bias correction).
 * `histograms: false` skips the binning and the zero count: only `percentile` and `mse` ranges read
 * them, and the pipeline calibrates `minmax` / `moving-average` recipes that way.
 *
 * Cost (bench/calibration-paths.ts, 2-core dev machine shared with other jobs, Node 20, 100 random
 * samples, best of 3; ratio = calibration samples/s over plain warm LiteRT inference samples/s):
 *   model (activation values / sample) | LiteRT path      | engine path (batch) | plain inference
 *                                        | hist    no hist  | hist    no hist     | samples/s
 *   mnist_conv_fc (9.5k)                 | 0.34x   0.77x    | 0.81x   1.20x (32)  | 6005
 *   resnet8_cifar10 (115k)               | 0.40x   0.51x    | 0.47x   0.61x (32)  | 1101
 *   vww_96 (232k)                        | 0.13x   0.26x    | 0.19x   0.31x (32)  | 1199
 *   mobilenet_v1_0.25_224 (1.26M)        | 0.17x   0.20x    | 0.22x   0.27x (11)  | 276
 *   audio_event_527 (267k, largest)      | 0.18x   0.27x    | 0.06x   0.06x (1)   | 1005
 *   synthetic 14 MB FC chain (small)     | 0.56x   0.64x    | 0.16x   0.16x (32)  | 2201
 * (hist: with histograms, for percentile / mse; no hist: what minmax / moving-average need, and
 * what the pipeline runs for them. 'auto' adds the probe: mnist 0.65x / 0.47x, synthetic 0.35x / 0.33x.)
 * The statistics take about 1-3 ns per activation value in V8 (a four-way min/max/zeros scan and,
 * with histograms, a binning pass), while XNNPACK produces those values in 2-4 ns each: models with
 * many activation values per unit of compute (MobileNet, vww) stay well under plain inference
 * speed; the tapped LiteRT run itself costs 1.03-1.12x a plain run (packed taps, measured alone).
 *
 * Limitations: only subgraph 0 (the main graph LiteRT runs) is calibrated. Tensors inside
 * control-flow bodies (WHILE / IF subgraphs) get no statistics, so the quantizer leaves the ops that
 * touch them in float ("no calibration range"). Models LiteRT.js cannot run (variable tensors,
 * Flex ops) cannot be calibrated.
 *
 * Deterministic for a given path and batch: samples are processed in order, no randomness, all
 * statistics arithmetic in float64 in a fixed order; the same code runs in Node and in a browser
 * worker. (LiteRT's own float results may differ in the last bits between its wasm builds: relaxed
 * SIMD in browsers, "compat" in Node 20; the engine's differ from LiteRT's within about 1e-5.) The
 * 'auto' choice depends on timing, so two runs may take different paths.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import { initRuntime } from '../evaluate/runtime';
import { cancelled, eachSample, sampleCount, toModelInputs, type RunProgress, type Sample, type Samples } from '../evaluate/samples';
import { inputTensorIndices, isActivation, loadTapped, type TappedRunner } from '../evaluate/taps';
import type { ModelGraph } from '../tflite/graph';
import { builtinCodeOf } from '../tflite/ops';
import { producers } from '../tflite/queries';
import { BuiltinOperator, TensorType } from '../tflite/schema/generated/tflite_generated';
import { accumulate, binStride, copyStats, DEFAULT_BINS, DEFAULT_MOMENTUM, newTensorStats, type TensorStats } from './calibrate-histogram';
import { engineCalibrationBlocker, engineCalibrator, engineCanBatch, type Calibrator } from './calibrate-engine';

export { rangesFrom, rangeOf, RANGE_ALGORITHMS, DEFAULT_PERCENTILE, type RangeAlgorithm, type RangeOptions } from './calibrate-ranges';
export { DEFAULT_BINS, DEFAULT_MOMENTUM, type TensorStats, type Histogram } from './calibrate-histogram';

export interface CalibrationOptions extends RunProgress {
  /** Total number of samples, for progress, when `samples` is an iterable without a length. */
  total?: number;
  /** Moving-average momentum (default 0.99): m = momentum * m + (1 - momentum) * sample min/max. */
  momentum?: number;
  /** Histogram bins per tensor (default 2048). */
  bins?: number;
  /**
   * Build the histograms (default true). Only `percentile` and `mse` ranges read them; without,
   * calibration skips the binning (and the engine path the zero counts and the read-back).
   */
  histograms?: boolean;
  /** Which runtime computes the activations: 'auto' (default, see choosePath), 'litert' or 'engine'. */
  path?: 'auto' | CalibrationPath;
  /** Engine path: samples per batch (default from a memory budget, at most 32). */
  batch?: number;
}

export type CalibrationPath = 'litert' | 'engine';

export interface CalibrationStats {
  /** The subgraph calibrated (always 0, see the limitations above). */
  subgraph: number;
  /** Samples (model runs) seen. */
  samples: number;
  momentum: number;
  bins: number;
  /** Statistics of every float activation (model inputs and outputs included), by rangeKey. */
  tensors: Map<string, TensorStats>;
  /**
   * Mean of each channel (the last axis) over all samples and positions, by rangeKey, for the float
   * tensors that are the data input of a CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (input 0) or
   * TRANSPOSE_CONV (input 2): what empirical bias correction needs (quantize/bias-correction.ts).
   */
  channelMeans: Map<string, Float64Array>;
  /** Wall time of the sample loop, ms: model load excluded, except with a measured path choice (both setups and the probe included). */
  elapsedMs: number;
  /** Which runtime computed the activations, and why that one. */
  path: CalibrationPath;
  pathReason: string;
  /** Samples per run (1 on the LiteRT path). */
  batch: number;
  /** Whether histograms were built (see CalibrationOptions.histograms). */
  histograms: boolean;
}

/**
 * Runs `graph` (float) over `samples` and records per-tensor statistics, through LiteRT or the
 * engine (see choosePath). Progress is reported after every sample; aborting `signal` stops before
 * the next sample (the engine path: before the next batch; samples of a batch are reported
 * together) with a WorkbenchError of code 'cancelled'.
 */
export async function calibrate(graph: ModelGraph, samples: Samples, options: CalibrationOptions = {}): Promise<CalibrationStats> {
  const { signal, onProgress } = options;
  const momentum = options.momentum ?? DEFAULT_MOMENTUM;
  const bins = options.bins ?? DEFAULT_BINS;
  const histograms = options.histograms ?? true;
  if (!(momentum >= 0 && momentum < 1)) throw new WorkbenchError('bad-input', `The moving-average momentum must be in [0, 1); got ${momentum}.`);
  if (!(Number.isInteger(bins) && bins >= 16)) throw new WorkbenchError('bad-input', `The histogram needs at least 16 bins; got ${bins}.`);
  if (options.batch !== undefined && !(Number.isInteger(options.batch) && options.batch >= 1)) {
    throw new WorkbenchError('bad-input', `The calibration batch must be a positive integer; got ${options.batch}.`);
  }
  const total = sampleCount(samples, options.total);
  if (signal?.aborted) throw cancelled('Calibration', 0, total);
  const subgraphIndex = 0;
  const subgraph = graph.subgraphs[subgraphIndex];
  if (!subgraph) throw new WorkbenchError('bad-input', 'The model has no subgraph to calibrate.');

  const producer = producers(subgraph);
  const measured = (t: number) => subgraph.tensors[t]?.type === TensorType.FLOAT32 && isActivation(graph, subgraph, t, producer);
  const aliases = reshapeAliases(graph, subgraphIndex, (t) => measured(t) || subgraph.inputs.includes(t));
  const meanTensors = meanInputs(graph, subgraphIndex, measured);
  const settings = { momentum, bins, histograms };
  const openLiteRt = async () => {
    await initRuntime();
    const runner = await loadTapped(graph, { subgraphIndex, select: (t) => measured(t) && !aliases.has(t) });
    return liteRtCalibrator(graph, runner, aliases, meanTensors, settings);
  };
  const openEngine = () => {
    const floatInputs = subgraph.inputs.filter((t) => subgraph.tensors[t]?.type === TensorType.FLOAT32);
    const tapped = subgraph.tensors.flatMap((_, t) => (measured(t) && !aliases.has(t) && !subgraph.inputs.includes(t) ? [t] : []));
    const plan = { measured: [...floatInputs, ...tapped].sort((a, b) => a - b), meanTensors };
    return engineCalibrator(graph, plan, { ...settings, batch: options.batch });
  };

  const choice = choosePath(graph, options.path ?? 'auto', total);
  const iterator = eachSample(samples)[Symbol.asyncIterator]();
  const next = async () => {
    const r = await iterator.next();
    return r.done ? null : r.value;
  };
  let done = 0;
  const report = (count: number) => {
    for (let k = 0; k < count; k++) {
      done++;
      onProgress?.(done, total);
      if (signal?.aborted && (total === undefined || done < total)) throw cancelled('Calibration', done, total);
    }
  };
  const feed = async (calibrator: Calibrator, samples: readonly Sample[]) => {
    if (signal?.aborted) throw cancelled('Calibration', done, total);
    await calibrator.add(samples, done);
    report(samples.length);
  };

  let started = performance.now();
  let calibrator: Calibrator | null = null;
  let path: CalibrationPath;
  let reason = choice.reason;
  try {
    if (choice.path === 'measure') {
      // Both paths on the first PROBE_SAMPLES samples (the first one warms each up untimed); the
      // faster keeps its statistics and goes on, the other is dropped.
      const probe: Sample[] = [];
      for (let s = probe.length < PROBE_SAMPLES ? await next() : null; s; s = probe.length < PROBE_SAMPLES ? await next() : null) probe.push(s);
      if (signal?.aborted) throw cancelled('Calibration', 0, total);
      const liteRt = await openLiteRt();
      let engine: Calibrator | null = null;
      try {
        const timeOf = async (c: Calibrator) => {
          await c.add(probe.slice(0, 1), 0);
          const t0 = performance.now();
          if (probe.length > 1) await c.add(probe.slice(1), 1);
          return (performance.now() - t0) / Math.max(1, probe.length - 1);
        };
        const liteRtMs = await timeOf(liteRt);
        engine = openEngine();
        const engineMs = await timeOf(engine);
        const faster = engineMs < liteRtMs ? engine : liteRt;
        (faster === engine ? liteRt : engine).dispose();
        calibrator = faster;
        path = faster === engine ? 'engine' : 'litert';
        reason = `measured on the first ${probe.length} samples: engine ${engineMs.toFixed(2)} ms/sample (batch ${Math.min(engine.batch, probe.length - 1)}), LiteRT ${liteRtMs.toFixed(2)} ms/sample`;
      } catch (error) {
        liteRt.dispose();
        engine?.dispose();
        throw error;
      }
      report(probe.length);
    } else {
      path = choice.path;
      calibrator = path === 'engine' ? openEngine() : await openLiteRt();
      started = performance.now(); // model load excluded (the probe above includes both setups)
    }
    const pending: Sample[] = [];
    for (let s = await next(); s; s = await next()) {
      pending.push(s);
      if (pending.length >= calibrator.batch) await feed(calibrator, pending.splice(0));
    }
    if (pending.length) await feed(calibrator, pending);
    if (done === 0) throw new WorkbenchError('bad-input', 'Calibration needs at least one sample; none were given.');
    return { ...finishStats(graph, calibrator, aliases), samples: done, momentum, bins, elapsedMs: performance.now() - started, path, pathReason: reason, batch: calibrator.batch, histograms };
  } finally {
    calibrator?.dispose();
  }
}

/** Samples the 'auto' choice runs through both paths before picking one (the first warms up). */
const PROBE_SAMPLES = 9;

/**
 * Which runtime calibrates. 'auto' measures both on the first samples (PROBE_SAMPLES) when the
 * engine is initialised (the caller's initEngine / initNodeEngine; calibration does not start a
 * backend itself), can run the model, can batch it, and there are enough samples to make it worth
 * it; otherwise LiteRT. Why measure rather than a rule: the engine wins on conv nets it can batch
 * (mnist, resnet8, vww, MobileNet) and loses 3-4x on FC-heavy ones (the synthetic 14 MB FC chain:
 * tfjs-wasm's matmul vs XNNPACK's fully-connected), see the header of this file. The probe costs
 * the losing path's setup and PROBE_SAMPLES runs.
 */
export function choosePath(graph: ModelGraph, wanted: 'auto' | CalibrationPath, total?: number): { path: CalibrationPath | 'measure'; reason: string } {
  if (wanted === 'litert') return { path: 'litert', reason: 'asked for' };
  const blocker = engineCalibrationBlocker(graph);
  const backend = tf.engine().backendName;
  if (wanted === 'engine') {
    if (blocker) throw new WorkbenchError('unsupported', `Calibration through the engine is not possible: ${blocker}.`);
    if (!backend) throw new WorkbenchError('unsupported', 'Calibration through the engine needs the engine initialised first (initEngine).');
    return { path: 'engine', reason: 'asked for' };
  }
  if (blocker) return { path: 'litert', reason: `${blocker}; LiteRT runs every model` };
  if (!backend) return { path: 'litert', reason: 'the engine is not initialised' };
  if (!engineCanBatch(graph)) {
    return { path: 'litert', reason: 'the engine would run one sample at a time (a float tensor has no batch dimension of 1), measured far slower than LiteRT then' };
  }
  if (total !== undefined && total < 2 * PROBE_SAMPLES) return { path: 'litert', reason: `only ${total} samples: not worth measuring both paths` };
  return { path: 'measure', reason: '' };
}

/** The statistics of a finished calibrator, with copies for the RESHAPE aliases, in tensor order. */
function finishStats(graph: ModelGraph, calibrator: Calibrator, aliases: Map<number, number>): Pick<CalibrationStats, 'subgraph' | 'tensors' | 'channelMeans'> {
  const subgraph = graph.subgraphs[0];
  const tensors = calibrator.tensors;
  for (const [t, root] of aliases) {
    const source = tensors.get(`0:${root}`);
    if (source) tensors.set(`0:${t}`, { ...copyStats(source), key: `0:${t}`, tensorIndex: t, name: subgraph.tensors[t]?.name ?? '' });
  }
  const sorted = new Map([...tensors].sort((a, b) => a[1].tensorIndex - b[1].tensorIndex));
  const channelMeans = new Map(
    calibrator.means.map((m) => {
      const perChannel = m.values / m.sums.length;
      return [`0:${m.tensor}`, m.sums.map((sum) => (perChannel ? sum / perChannel : 0))] as const;
    }),
  );
  return { subgraph: 0, tensors: sorted, channelMeans };
}

/** Ops whose output holds exactly the values of their first input, only arranged in another shape. */
const RESHAPING_OPS = new Set([BuiltinOperator.RESHAPE, BuiltinOperator.SQUEEZE, BuiltinOperator.EXPAND_DIMS]);

/**
 * Float tensors written by RESHAPE / SQUEEZE / EXPAND_DIMS from another float tensor that gets
 * statistics: they hold the same values, so they get a copy of that tensor's statistics instead of
 * a tap and a second pass over the same numbers. Maps tensor -> the tensor its values come from.
 */
function reshapeAliases(graph: ModelGraph, subgraphIndex: number, hasStats: (t: number) => boolean): Map<number, number> {
  const subgraph = graph.subgraphs[subgraphIndex];
  const aliases = new Map<number, number>();
  for (const op of subgraph.operators) {
    const code = graph.operatorCodes[op.opcodeIndex];
    if (!code || !RESHAPING_OPS.has(builtinCodeOf(code)) || op.outputs.length !== 1) continue;
    const input = op.inputs[0];
    const output = op.outputs[0];
    if (input === undefined || input < 0 || subgraph.tensors[input]?.type !== TensorType.FLOAT32) continue;
    if (subgraph.tensors[output]?.type !== TensorType.FLOAT32 || !hasStats(output)) continue;
    const root = aliases.get(input) ?? input; // operators are in execution order: chains resolve
    if (hasStats(root)) aliases.set(output, root);
  }
  return aliases;
}

/** Which input of an op with weights carries the activations whose channel means bias correction needs. */
const DATA_INPUT = new Map([
  [BuiltinOperator.CONV_2D, 0],
  [BuiltinOperator.DEPTHWISE_CONV_2D, 0],
  [BuiltinOperator.FULLY_CONNECTED, 0],
  [BuiltinOperator.TRANSPOSE_CONV, 2],
]);

/** Float tensors (with statistics, or model inputs) that feed ops with weights, in tensor order. */
function meanInputs(graph: ModelGraph, subgraphIndex: number, measured: (t: number) => boolean): number[] {
  const subgraph = graph.subgraphs[subgraphIndex];
  const result = new Set<number>();
  for (const op of subgraph.operators) {
    const code = graph.operatorCodes[op.opcodeIndex];
    const input = code ? DATA_INPUT.get(builtinCodeOf(code)) : undefined;
    if (input === undefined) continue;
    const t = op.inputs[input];
    if (t === undefined || t < 0 || subgraph.tensors[t]?.type !== TensorType.FLOAT32) continue;
    if (measured(t) || subgraph.inputs.includes(t)) result.add(t);
  }
  return [...result].sort((a, b) => a - b);
}

/** Adds each value to the sum of its channel (index modulo the channel count). */
function addChannelSums(sums: Float64Array, data: Float32Array): void {
  const channels = sums.length;
  const n = data.length - (data.length % channels);
  for (let base = 0; base < n; base += channels) {
    for (let c = 0; c < channels; c++) sums[c] += data[base + c];
  }
}

interface Settings {
  momentum: number;
  bins: number;
  histograms: boolean;
}

/** The LiteRT path: one tapped run per sample, statistics in JS. */
function liteRtCalibrator(graph: ModelGraph, runner: TappedRunner, aliases: Map<number, number>, meanTensors: number[], settings: Settings): Calibrator {
  const { momentum, bins, histograms } = settings;
  const subgraph = graph.subgraphs[0];
  const tensors = new Map<string, TensorStats>();
  const statsFor = (t: number): TensorStats => {
    const key = `0:${t}`;
    let stats = tensors.get(key);
    if (!stats) {
      stats = newTensorStats(0, t, subgraph.tensors[t]?.name ?? '', bins);
      tensors.set(key, stats);
    }
    return stats;
  };

  // Float inputs: statistics from the samples. Taps: from the run.
  const inputIndices = inputTensorIndices(graph, runner);
  const inputStats = runner.inputs.map((info, i) => (info.dtype === 'float32' && inputIndices[i] !== undefined ? statsFor(inputIndices[i]) : null));
  const tapStats = runner.taps.map((tap) => statsFor(tap.tensorIndex));
  const strideOf = (t: number) => {
    const shape = subgraph.tensors[t]?.shape ?? [];
    return binStride(shape.reduce((n, d) => n * Math.max(d, 1), 1), shape[shape.length - 1] ?? 1);
  };
  const tapStrides = runner.taps.map((tap) => strideOf(tap.tensorIndex));
  const inputStrides = inputIndices.map((t) => (t === undefined ? 1 : strideOf(t)));
  // Channel sums: read from the tap (or input) holding the tensor's values, or its alias root's
  // (RESHAPE keeps the row-major order, so channel = flat index modulo the tensor's last dimension).
  const means = meanTensors.flatMap((t) => {
    const root = aliases.get(t) ?? t;
    const tap = runner.taps.findIndex((x) => x.tensorIndex === root);
    const input = inputIndices.indexOf(root);
    if (tap < 0 && input < 0) return [];
    const shape = subgraph.tensors[t].shape;
    const channels = Math.max(1, shape[shape.length - 1] ?? 1);
    return [{ tensor: t, tap, input, sums: new Float64Array(channels), values: 0 }];
  });

  const step = async (sample: Sample, index: number) => {
    const inputs = toModelInputs(sample, runner.inputs, index);
    const { values } = await runner.run(inputs);
    for (let i = 0; i < inputStats.length; i++) {
      const stats = inputStats[i];
      if (stats) accumulate(stats, inputs[i] as Float32Array, momentum, inputStrides[i], histograms);
    }
    for (let k = 0; k < tapStats.length; k++) {
      const data = values[k];
      if (!(data instanceof Float32Array)) {
        throw new WorkbenchError('runtime', `LiteRT returned ${data.constructor.name} data for the float tensor '${runner.taps[k].name}'.`);
      }
      accumulate(tapStats[k], data, momentum, tapStrides[k], histograms);
    }
    for (const m of means) {
      const data = (m.tap >= 0 ? values[m.tap] : inputs[m.input]) as Float32Array;
      addChannelSums(m.sums, data);
      m.values += data.length - (data.length % m.sums.length);
    }
  };
  return {
    batch: 1,
    tensors,
    means,
    async add(samples, firstIndex) {
      for (let k = 0; k < samples.length; k++) await step(samples[k], firstIndex + k);
    },
    dispose: () => runner.delete(),
  };
}
