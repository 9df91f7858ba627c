/**
 * Calibration: run the float model over representative samples in LiteRT and record statistics of
 * every float activation, for the quantizer to turn into ranges (calibrate-ranges.ts).
 *
 * One LiteRT run per sample returns every activation at once: the model is loaded with packed taps
 * (evaluate/taps.ts: the float activations of subgraph 0 flattened into one extra output). Model
 * inputs get their statistics from the samples themselves; outputs of RESHAPE / SQUEEZE /
 * EXPAND_DIMS copy the statistics of the tensor they reshape (same values) instead of being
 * tapped. Statistics are keyed `${subgraph}:${tensorIndex}` of the graph passed in (rangeKey in
 * quantize/integer.ts); taps do not renumber tensors. Per tensor: see calibrate-histogram.ts (exact
 * min/max, moving-average min/max with momentum 0.99, zeros, a 2048-bin exact-rebinning histogram);
 * per-channel means for the inputs of ops with weights (bias correction).
 *
 * Cost: the statistics take about 6-8 ns per activation value in V8 on the 2-core dev machine (a
 * scan for min/max/zeros and a binning pass, chunked to stay in L1), while XNNPACK produces those
 * values in 2-4 ns each; so calibration runs at roughly 0.4x the plain inference rate on
 * mnist_conv_fc (8.7k activations per sample) and 0.2-0.3x on vww_96 / MobileNet (0.2M / 1.3M).
 *
 * Limitations: only subgraph 0 (the main graph LiteRT runs) is calibrated. Tensors inside
 * control-flow bodies (WHILE / IF subgraphs) get no statistics, so the quantizer leaves the ops that
 * touch them in float ("no calibration range"). Models LiteRT.js cannot run (variable tensors,
 * Flex ops) cannot be calibrated.
 *
 * Deterministic: samples are processed in order, no randomness, all statistics arithmetic in float64
 * in a fixed order; the same code runs in Node and in a browser worker. (LiteRT's own float results
 * may differ in the last bits between its wasm builds: relaxed SIMD in browsers, "compat" in Node 20.)
 */
import { WorkbenchError } from '../errors';
import { initRuntime } from '../evaluate/runtime';
import { cancelled, eachSample, sampleCount, toModelInputs, type RunProgress, type Sample, type Samples } from '../evaluate/samples';
import { inputTensorIndices, isActivation, loadTapped, type TappedRunner } from '../evaluate/taps';
import type { ModelGraph } from '../tflite/graph';
import { builtinCodeOf } from '../tflite/ops';
import { producers } from '../tflite/queries';
import { BuiltinOperator, TensorType } from '../tflite/schema/generated/tflite_generated';
import { accumulate, binStride, copyStats, DEFAULT_BINS, DEFAULT_MOMENTUM, newTensorStats, type TensorStats } from './calibrate-histogram';

export { rangesFrom, rangeOf, RANGE_ALGORITHMS, DEFAULT_PERCENTILE, type RangeAlgorithm, type RangeOptions } from './calibrate-ranges';
export { DEFAULT_BINS, DEFAULT_MOMENTUM, type TensorStats, type Histogram } from './calibrate-histogram';

export interface CalibrationOptions extends RunProgress {
  /** Total number of samples, for progress, when `samples` is an iterable without a length. */
  total?: number;
  /** Moving-average momentum (default 0.99): m = momentum * m + (1 - momentum) * sample min/max. */
  momentum?: number;
  /** Histogram bins per tensor (default 2048). */
  bins?: number;
}

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
  /** Wall time of the sample loop (model load excluded), ms. */
  elapsedMs: number;
}

/**
 * Runs `graph` (float) in LiteRT over `samples` and records per-tensor statistics. Progress is
 * reported after every sample; aborting `signal` stops before the next sample with a WorkbenchError
 * of code 'cancelled'.
 */
export async function calibrate(graph: ModelGraph, samples: Samples, options: CalibrationOptions = {}): Promise<CalibrationStats> {
  const { signal, onProgress } = options;
  const momentum = options.momentum ?? DEFAULT_MOMENTUM;
  const bins = options.bins ?? DEFAULT_BINS;
  if (!(momentum >= 0 && momentum < 1)) throw new WorkbenchError('bad-input', `The moving-average momentum must be in [0, 1); got ${momentum}.`);
  if (!(Number.isInteger(bins) && bins >= 16)) throw new WorkbenchError('bad-input', `The histogram needs at least 16 bins; got ${bins}.`);
  const total = sampleCount(samples, options.total);
  if (signal?.aborted) throw cancelled('Calibration', 0, total);
  const subgraphIndex = 0;
  const subgraph = graph.subgraphs[subgraphIndex];
  if (!subgraph) throw new WorkbenchError('bad-input', 'The model has no subgraph to calibrate.');

  const producer = producers(subgraph);
  const measured = (t: number) => subgraph.tensors[t]?.type === TensorType.FLOAT32 && isActivation(graph, subgraph, t, producer);
  const aliases = reshapeAliases(graph, subgraphIndex, (t) => measured(t) || subgraph.inputs.includes(t));
  await initRuntime();
  const runner = await loadTapped(graph, { subgraphIndex, select: (t) => measured(t) && !aliases.has(t) });
  try {
    return await calibrationLoop(graph, runner, samples, aliases, meanInputs(graph, subgraphIndex, measured), { signal, onProgress, total, momentum, bins });
  } finally {
    runner.delete();
  }
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

interface LoopOptions extends RunProgress {
  total: number | undefined;
  momentum: number;
  bins: number;
}

async function calibrationLoop(
  graph: ModelGraph,
  runner: TappedRunner,
  samples: Samples,
  aliases: Map<number, number>,
  meanTensors: number[],
  options: LoopOptions,
): Promise<CalibrationStats> {
  const { signal, onProgress, total, momentum, bins } = options;
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

  const started = performance.now();
  let done = 0;
  const step = async (sample: Sample) => {
    if (signal?.aborted) throw cancelled('Calibration', done, total);
    const inputs = toModelInputs(sample, runner.inputs, done);
    const { values } = await runner.run(inputs);
    for (let i = 0; i < inputStats.length; i++) {
      const stats = inputStats[i];
      if (stats) accumulate(stats, inputs[i] as Float32Array, momentum);
    }
    for (let k = 0; k < tapStats.length; k++) {
      const data = values[k];
      if (!(data instanceof Float32Array)) {
        throw new WorkbenchError('runtime', `LiteRT returned ${data.constructor.name} data for the float tensor '${runner.taps[k].name}'.`);
      }
      accumulate(tapStats[k], data, momentum, tapStrides[k]);
    }
    for (const m of means) {
      const data = (m.tap >= 0 ? values[m.tap] : inputs[m.input]) as Float32Array;
      addChannelSums(m.sums, data);
      m.values += data.length - (data.length % m.sums.length);
    }
    done++;
    onProgress?.(done, total);
    if (signal?.aborted && (total === undefined || done < total)) throw cancelled('Calibration', done, total);
  };
  if (Array.isArray(samples)) for (const sample of samples as readonly Sample[]) await step(sample);
  else for await (const sample of eachSample(samples)) await step(sample);
  if (done === 0) throw new WorkbenchError('bad-input', 'Calibration needs at least one sample; none were given.');
  for (const [t, root] of aliases) {
    const source = tensors.get(`0:${root}`);
    if (source) tensors.set(`0:${t}`, { ...copyStats(source), key: `0:${t}`, tensorIndex: t, name: subgraph.tensors[t]?.name ?? '' });
  }
  const sorted = new Map([...tensors].sort((a, b) => a[1].tensorIndex - b[1].tensorIndex));
  const channelMeans = new Map(
    means.map((m) => {
      const perChannel = m.values / m.sums.length;
      return [`0:${m.tensor}`, m.sums.map((sum) => (perChannel ? sum / perChannel : 0))] as const;
    }),
  );
  return { subgraph: 0, samples: done, momentum, bins, tensors: sorted, channelMeans, elapsedMs: performance.now() - started };
}
