/**
 * Calibration: run the float model over representative samples and record statistics of every
 * float activation, for the quantizer to turn into ranges (ranges.ts).
 *
 * LiteRT computes the activations (it runs every model LiteRT.js runs, and is the reference), in one
 * of two ways:
 *   - reduced (runs/reduced-in-litert.ts): without histograms (minmax / moving-average ranges, the
 *     default) and from REDUCE_MIN_VALUES activation values per sample, REDUCE_MIN / REDUCE_MAX /
 *     SUM ops appended to the model compute each activation's min and max and the channel sums
 *     inside the run; only that summary leaves it. The samples are spread over up to one LiteRT
 *     instance per core, this thread's and calibration workers' (runs/litert-instances.ts), and the
 *     summaries added here in sample order. `reductions: 'litert'` in the result.
 *   - values: one run per sample returns every activation at once, the model loaded with packed
 *     taps as its only output (runtime/taps.ts). The statistics of a sample run in a statistics
 *     worker while LiteRT computes the next one (worker/stats-thread.ts: the packed output,
 *     already LiteRT's copy out of the wasm heap, is transferred, not copied; at most
 *     MAX_IN_FLIGHT samples queued), or in-thread when a sample has little to measure
 *     (WORKER_MIN_WORK) or no worker starts. Same code in the same order either way
 *     (statistics/accumulator.ts): bit-identical statistics (worker/stats-thread.test.ts).
 *   `statsThread` / `statsReason` / `reductions` in the result say which ran and why.
 * (An engine path, batched through tfjs, was never chosen: with the statistics overlapping LiteRT's
 * runs it won only on MNIST, and its float results differ from LiteRT's in the last bits, so the
 * browser and Node could calibrate differently. It was removed; see git history before this file's
 * "no engine calibration" commit.)
 *
 * Model inputs get their statistics from the samples themselves; outputs of RESHAPE / SQUEEZE /
 * EXPAND_DIMS copy the statistics of the tensor they reshape (same values) instead of being
 * measured again. Statistics are keyed `${subgraph}:${tensorIndex}` of the graph passed in
 * (rangeKey in quantize/integer.ts); taps do not renumber tensors. Per tensor: see
 * statistics/histogram.ts (exact min/max, moving-average min/max with momentum 0.99, zeros, a
 * 2048-bin exact-rebinning histogram of every value or, for large tensors, of a strided subset, the
 * model inputs included); per-channel means for the inputs of ops with weights (bias correction).
 * `histograms: false` skips the binning and the zero count: only `percentile` and `mse` ranges read
 * them, and the pipeline calibrates `minmax` / `moving-average` recipes that way, except for runs that
 * keep a summary of the activations for the page (OptimizeRequest.activationSummaries).
 *
 * Cost: without histograms the reduced path is the default from REDUCE_MIN_VALUES values per sample
 * because it measured fastest there (two LiteRT instances on two cores): npm run
 * bench:calibration-paths, figures in bench/README.md (what bounds each way: npm run bench:tap-cost).
 *
 * Limitations: only subgraph 0 (the main graph LiteRT runs) is calibrated. Tensors inside
 * control-flow bodies (WHILE / IF subgraphs) get no statistics, so the quantizer leaves the ops that
 * touch them in float ("no calibration range"). Models LiteRT.js cannot run (variable tensors,
 * Flex ops) cannot be calibrated.
 *
 * Deterministic: samples are processed in order, no randomness, all
 * statistics arithmetic in float64 in a fixed order, wherever the statistics run; the same code
 * runs in Node and in a browser worker. (LiteRT's own float results may differ in the last bits
 * between its wasm builds: relaxed SIMD in browsers, "compat" in Node 20.) Nothing depends on timing but the speed: what timing decides
 * (whether calibration workers start, which instance runs which sample) only changes the speed:
 * the summaries are added in sample order, and every instance runs the same wasm on the same model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../../errors';
import { initRuntime } from '../../runtime/start';
import { cancelled, eachSample, sampleCount, toModelInputs, type RunProgress, type Sample, type Samples } from '../../runtime/samples';
import { inputTensorIndices, isActivation, loadTapped, type TappedRunner } from '../../runtime/taps';
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { producers } from '../../tflite/queries';
import { BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { binStride, copyStats, DEFAULT_BINS, DEFAULT_MOMENTUM, type TensorStats } from './statistics/histogram';
import type { Calibrator, ChannelSums } from './runs/calibrator';
import type { RunRider } from './run-rider';
import type { StatsPlan, StatsPlanEntry } from './statistics/accumulator';
import { reducedCalibrator, reductionBlocker } from './runs/reduced-in-litert';
import { defaultInstances, type Parallelism } from './runs/litert-instances';
import { coreCount, startStatsSink, type StatsSink, type StatsThread } from './worker/stats-thread';

export { rangesFrom, rangeOf, RANGE_ALGORITHMS, DEFAULT_PERCENTILE, type RangeAlgorithm, type RangeOptions } from './ranges';
export { DEFAULT_BINS, DEFAULT_MOMENTUM, type TensorStats, type Histogram } from './statistics/histogram';

export interface CalibrationOptions extends RunProgress {
  /** Total number of samples, for progress, when `samples` is an iterable without a length. */
  total?: number;
  /** Moving-average momentum (default 0.99): m = momentum * m + (1 - momentum) * sample min/max. */
  momentum?: number;
  /** Histogram bins per tensor (default 2048). */
  bins?: number;
  /**
   * Build the histograms (default true). Only `percentile` and `mse` ranges read them; without,
   * calibration skips the binning.
   */
  histograms?: boolean;
  /**
   * LiteRT path: where the statistics run. 'auto' (default): in a statistics worker, overlapping
   * the LiteRT runs, unless there is little statistics work per sample (WORKER_MIN_WORK); 'worker':
   * in a worker whenever one starts; 'main': in-thread. The statistics are the same either way.
   */
  statsThread?: 'auto' | StatsThread;
  /**
   * LiteRT path without histograms: where each activation's min/max and channel sums are
   * computed. 'auto' (default): inside the LiteRT run (runs/reduced-in-litert.ts), unless `statsThread`
   * asks for a JS place, the model's shapes do not allow it or LiteRT rejects the reduced model;
   * 'litert': there (an error with histograms); 'js': every value copied out and scanned in JS.
   */
  reductions?: 'auto' | Reductions;
  /**
   * Reduced path: LiteRT instances running samples at once, this thread's and calibration
   * workers' (default: one per core, at most 4, fewer for large models, none past ~42 MB; they start once the
   * work left pays for them, see runs/litert-instances.ts). 1: this thread only. The statistics are the
   * same for any number. (The values path runs one: its models have few activation values, so
   * their runs are short or bound by memory, where a second instance gains little: plain runs of
   * the synthetic FC chain 1.15-1.25x with a worker beside this thread, bench:litert-instances.)
   */
  litertInstances?: number;
  /**
   * Reduced path: wait until every LiteRT instance has loaded the model (or failed) before the
   * first sample, instead of letting late ones join as they get ready (default false; the wait
   * counts as model load, outside `elapsedMs`). For steady-state measurements and tests.
   */
  waitForInstances?: boolean;
  /**
   * Measure only these tensors of subgraph 0 (RESHAPE-like ones through the tensor they copy), with
   * no channel means; default every float activation. A short pass that needs a few tensors' histograms
   * (the output tail rule reads the model outputs') then taps only those.
   */
  tensors?: readonly number[];
  /**
   * Reduced path: work that rides along in the same runs (run-rider.ts: the rounding sampler's
   * row gathers), so a sample takes one forward pass for both. Ignored on the values path and when
   * LiteRT rejects the joint model (the rider then runs on its own).
   */
  rider?: RunRider;
}

export type Reductions = 'litert' | 'js';

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
  /**
   * Wall time of the sample loop, ms: from the first sample's run to the last sample's statistics
   * (a statistics worker's included); model load and the worker's start excluded.
   */
  elapsedMs: number;
  /** Whether histograms were built (see CalibrationOptions.histograms). */
  histograms: boolean;
  /** Where the statistics ran ('main' when no worker started), and why. */
  statsThread: StatsThread;
  statsReason: string;
  /** LiteRT path: whether min/max and channel sums were reduced inside LiteRT ('js' elsewhere). */
  reductions: Reductions;
}

/**
 * Runs `graph` (float) over `samples` in LiteRT and records per-tensor statistics. Progress is reported after every sample has run (its
 * statistics may still be queued for the statistics worker; all are complete when this returns);
 * aborting `signal` stops before the next sample (the engine path: before the next batch; samples
 * of a batch are reported together) with a WorkbenchError of code 'cancelled'.
 */
export async function calibrate(graph: ModelGraph, samples: Samples, options: CalibrationOptions = {}): Promise<CalibrationStats> {
  const { signal, onProgress } = options;
  const momentum = options.momentum ?? DEFAULT_MOMENTUM;
  const bins = options.bins ?? DEFAULT_BINS;
  const histograms = options.histograms ?? true;
  if (!(momentum >= 0 && momentum < 1)) throw new WorkbenchError('bad-input', `The moving-average momentum must be in [0, 1); got ${momentum}.`);
  if (!(Number.isInteger(bins) && bins >= 16)) throw new WorkbenchError('bad-input', `The histogram needs at least 16 bins; got ${bins}.`);
  if (options.litertInstances !== undefined && !(Number.isInteger(options.litertInstances) && options.litertInstances >= 1)) {
    throw new WorkbenchError('bad-input', `The number of LiteRT instances must be a positive integer; got ${options.litertInstances}.`);
  }
  const total = sampleCount(samples, options.total);
  if (signal?.aborted) throw cancelled('Calibration', 0, total);
  const subgraphIndex = 0;
  const subgraph = graph.subgraphs[subgraphIndex];
  if (!subgraph) throw new WorkbenchError('bad-input', 'The model has no subgraph to calibrate.');

  const { measured, aliases, meanTensors, tapped } = calibrationTensors(graph, options.tensors);
  const settings = { momentum, bins, histograms };
  const reductions = options.reductions ?? 'auto';
  if (reductions === 'litert' && histograms) {
    throw new WorkbenchError('bad-input', 'Reductions inside LiteRT give each activation its min and max only: they need histograms: false.');
  }
  const parallelism = async (): Promise<Parallelism> => ({
    instances: options.litertInstances ?? defaultInstances(await coreCount(), graph.buffers.reduce((n, b) => n + b.data.length, 0)),
    waitForInstances: options.waitForInstances ?? false,
    total,
  });
  const tappedValues = tapped.reduce((n, t) => n + subgraph.tensors[t].shape.reduce((m, d) => m * Math.max(1, d), 1), 0);
  /** The reduced calibrator when this calibration takes it, else the reason it does not. */
  const openReduced = async (): Promise<Calibrator | string> => {
    if (histograms) return 'with histograms every value is needed';
    if (reductions === 'js') return 'JS reductions asked for';
    if (reductions === 'auto' && options.statsThread && options.statsThread !== 'auto') return `statistics asked for in the ${options.statsThread} thread`;
    const blocker = reductionBlocker(graph, tapped, meanTensors.filter((t) => !subgraph.inputs.includes(t)));
    if (blocker) {
      if (reductions === 'litert') throw new WorkbenchError('unsupported', `The activations cannot be reduced inside LiteRT: ${blocker}.`);
      return blocker;
    }
    if (reductions === 'auto' && tappedValues < REDUCE_MIN_VALUES) return `${tappedValues} activation values per sample cost less to copy out than to reduce`;
    try {
      await initRuntime();
      return await reducedCalibrator(graph, { taps: tapped, meanTensors }, { momentum, bins, parallel: await parallelism(), rider: options.rider });
    } catch (error) {
      if (reductions === 'litert') throw error;
      return `LiteRT rejected the reduced model (${error instanceof Error ? error.message : String(error)})`;
    }
  };
  let notReduced = '';
  const openLiteRt = async () => {
    const reduced = await openReduced();
    if (typeof reduced !== 'string') return reduced;
    notReduced = reduced;
    const statistics = startStatsSink(options.statsThread ?? 'auto'); // the worker starts while the model loads
    try {
      await initRuntime();
      // tapsOnly: the model's own outputs are activations too (tapped); no separate copy of them.
      const runner = await loadTapped(graph, { subgraphIndex, select: (t) => measured(t) && !aliases.has(t), tapsOnly: true });
      try {
        return await liteRtCalibrator(graph, runner, aliases, meanTensors, settings, statistics.open);
      } catch (error) {
        runner.delete();
        throw error;
      }
    } finally {
      statistics.release();
    }
  };

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

  let calibrator: Calibrator | null = null;
  try {
    calibrator = await openLiteRt();
    const started = performance.now(); // model load excluded (and the statistics worker's start)
    const pending: Sample[] = [];
    for (let s = await next(); s; s = await next()) {
      pending.push(s);
      if (pending.length >= calibrator.batch) await feed(calibrator, pending.splice(0));
    }
    if (pending.length) await feed(calibrator, pending);
    if (done === 0) throw new WorkbenchError('bad-input', 'Calibration needs at least one sample; none were given.');
    await calibrator.finish(); // every sample's statistics, the worker's included
    const finished = finishStats(graph, calibrator, aliases);
    const elapsedMs = performance.now() - started;
    return {
      ...finished,
      samples: done,
      momentum,
      bins,
      elapsedMs,
      histograms,
      statsThread: calibrator.statsThread,
      statsReason: notReduced ? `${calibrator.statsReason} (not reduced inside LiteRT: ${notReduced})` : calibrator.statsReason,
      reductions: calibrator.reductions,
    };
  } finally {
    calibrator?.dispose();
  }
}

/**
 * Below this many activation values per sample, 'auto' copies them out (the JS path) rather than
 * reducing them inside LiteRT: each reduction is an op with a fixed cost, and the copy of a few
 * thousand values is cheap (npm run bench:calibration-paths; figures in bench/README.md).
 */
export const REDUCE_MIN_VALUES = 50_000;

/** Which tensors of subgraph 0 a calibration measures, and how (see the header). */
export interface CalibrationTensors {
  /** Float activations and inputs that get statistics. */
  measured: (t: number) => boolean;
  /** RESHAPE-like outputs -> the tensor whose statistics they copy. */
  aliases: Map<number, number>;
  /** Tensors whose channel means bias correction needs, in tensor order. */
  meanTensors: number[];
  /** Activations measured from their own values (model inputs come from the samples, aliases are copied). */
  tapped: number[];
}

export function calibrationTensors(graph: ModelGraph, only?: readonly number[]): CalibrationTensors {
  const subgraph = graph.subgraphs[0];
  const producer = producers(subgraph);
  const activation = (t: number) => subgraph.tensors[t]?.type === TensorType.FLOAT32 && isActivation(graph, subgraph, t, producer);
  const allAliases = reshapeAliases(graph, 0, (t) => activation(t) || subgraph.inputs.includes(t));
  let measured = activation;
  let aliases = allAliases;
  if (only) {
    // The wanted tensors and the roots they copy (a RESHAPE output's statistics are its root's).
    const wanted = new Set(only.flatMap((t) => (allAliases.has(t) ? [t, allAliases.get(t)!] : [t])));
    measured = (t) => wanted.has(t) && activation(t);
    aliases = new Map([...allAliases].filter(([t]) => wanted.has(t)));
  }
  const meanTensors = only ? [] : meanInputs(graph, 0, measured);
  const tapped = subgraph.tensors.flatMap((_, t) => (measured(t) && !aliases.has(t) && !subgraph.inputs.includes(t) ? [t] : []));
  return { measured, aliases, meanTensors, tapped };
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

interface Settings {
  momentum: number;
  bins: number;
  histograms: boolean;
}

/**
 * The LiteRT path: one tapped run per sample; the statistics (statistics/accumulator.ts) run in a
 * statistics worker, overlapping the next run, or in-thread (`sink`).
 */
function liteRtCalibrator(graph: ModelGraph, runner: TappedRunner, aliases: Map<number, number>, meanTensors: number[], settings: Settings, openSink: (plan: StatsPlan, valuesPerSample: number) => Promise<StatsSink>): Promise<Calibrator> {
  const { momentum, bins, histograms } = settings;
  const subgraph = graph.subgraphs[0];
  const strideOf = (t: number) => {
    const shape = subgraph.tensors[t]?.shape ?? [];
    return binStride(shape.reduce((n, d) => n * Math.max(d, 1), 1), shape[shape.length - 1] ?? 1);
  };
  const entry = (t: number): StatsPlanEntry => ({ tensorIndex: t, name: subgraph.tensors[t]?.name ?? '', stride: strideOf(t) });
  // Float inputs: statistics from the samples. Taps: from the run.
  const inputIndices = inputTensorIndices(graph, runner);
  const taps = runner.taps;
  // Channel sums: read from the tap (or input) holding the tensor's values, or its alias root's
  // (RESHAPE keeps the row-major order, so channel = flat index modulo the tensor's last dimension).
  const means = meanTensors.flatMap((t) => {
    const root = aliases.get(t) ?? t;
    const tap = taps.findIndex((x) => x.tensorIndex === root);
    const input = inputIndices.indexOf(root);
    if (tap < 0 && input < 0) return [];
    const shape = subgraph.tensors[t].shape;
    const channels = Math.max(1, shape[shape.length - 1] ?? 1);
    return [{ tensor: t, array: tap >= 0 ? runner.inputs.length + tap : input, channels }];
  });
  const plan: StatsPlan = {
    momentum,
    bins,
    histograms,
    inputs: runner.inputs.map((info, i) => (info.dtype === 'float32' && inputIndices[i] !== undefined ? entry(inputIndices[i]) : null)),
    taps: taps.map((tap) => entry(tap.tensorIndex)),
    means,
  };
  // Inputs the statistics read (the others are not sent).
  const used = new Set([...plan.inputs.flatMap((e, i) => (e ? [i] : [])), ...means.filter((m) => m.array < runner.inputs.length).map((m) => m.array)]);

  const valuesPerSample =
    taps.reduce((n, tap) => n + Math.max(0, tap.length), 0) + [...used].reduce((n, i) => n + runner.inputs[i].shape.reduce((m, d) => m * Math.max(1, d), 1), 0);
  return openSink(plan, valuesPerSample).then((sink) => {
    const tensors = new Map<string, TensorStats>();
    const sums: ChannelSums[] = [];
    const step = async (sample: Sample, index: number) => {
      const inputs = toModelInputs(sample, runner.inputs, index);
      const { values } = await runner.run(inputs);
      // (A fallback to separate taps at the first run keeps the same tensors in the same order.)
      if (values.length !== taps.length) throw new WorkbenchError('runtime', `LiteRT returned ${values.length} tapped tensors, expected ${taps.length}.`);
      const arrays: (Float32Array | null)[] = inputs.map((data, i) => (used.has(i) ? (data as Float32Array) : null));
      for (let k = 0; k < values.length; k++) {
        const data = values[k];
        if (!(data instanceof Float32Array)) {
          throw new WorkbenchError('runtime', `LiteRT returned ${data.constructor.name} data for the float tensor '${taps[k].name}'.`);
        }
        arrays.push(data);
      }
      // The tap values are views into LiteRT's own copies of its outputs: the worker may take them.
      await sink.add(arrays, new Set(arrays.slice(runner.inputs.length) as Float32Array[]));
    };
    return {
      batch: 1,
      tensors,
      means: sums,
      statsThread: sink.thread,
      statsReason: sink.reason,
      reductions: 'js',
      async add(samples, firstIndex) {
        for (let k = 0; k < samples.length; k++) await step(samples[k], firstIndex + k);
      },
      async finish() {
        const result = await sink.finish();
        for (const stats of result.tensors) tensors.set(stats.key, stats);
        sums.push(...result.means);
      },
      dispose: () => {
        sink.dispose();
        runner.delete();
      },
    };
  });
}
