/**
 * Calibration without histograms (the minmax and moving-average ranges), with the reductions done
 * inside the LiteRT run.
 *
 * Those ranges need two numbers of each activation per sample, its min and max, and bias correction
 * needs the per-channel sums of the inputs of ops with weights. The JS path (calibrate.ts) copies
 * every value out of LiteRT (RESHAPE + CONCATENATION into one packed output, then out of the wasm
 * heap) and scans it. Here the model gets, after its own operators, a REDUCE_MIN and a REDUCE_MAX
 * over all axes of each measured activation and, for each channel-sum tensor, a SUM over all axes
 * but the last two (partial sums, one row per position along the second-to-last axis, which JS
 * adds up in float64); one PACK + CONCATENATION gathers them into a single small output, the
 * *summary*: the N minima, the N maxima, then the channel sums tensor after tensor. So a sample
 * costs about one plain run and a few thousand numbers of JS work, less than copying every
 * activation out (npm run bench:tap-cost; figures in bench/README.md).
 *
 * The same statistics as the JS path without histograms:
 * - min and max exactly: a min or max reduction returns one of the values, and accumulateSummary
 *   does accumulate's arithmetic (runs/reduced-in-litert.test.ts);
 * - the channel sums within float32 rounding: LiteRT adds up float32 rows of partial sums (a few
 *   hundred values each, where one float32 sum over all of pose_landmark's 256x256 positions would
 *   lose digits), the JS path every value in float64; runs/reduced-in-litert.test.ts holds them within
 *   1e-6 of the tensor's range on 9 models;
 * - non-finite values: the JS path leaves NaN and +-Infinity out of the range. A reduction would
 *   return an infinity (and may or may not skip a NaN), so a sample whose summary or whose model
 *   outputs (where a NaN propagates to) hold a non-finite value is measured again with every value
 *   copied out, as the JS path does, for that sample only.
 * The model inputs' statistics come from the samples, in JS, as on the JS path.
 */
import { WorkbenchError } from '../../../errors';
import { inputTensorIndices, loadTapped, type TappedRunner } from '../../../runtime/taps';
import type { RuntimeData } from '../../../runtime/types';
import { toModelInputs, type Sample } from '../../../runtime/samples';
import { addInt32Constant, addTensor, appendFlatten, cloneGraph, newOperator, newTensor, opcodeIndex } from '../../../tflite/edit';
import type { ModelGraph, Subgraph, Tensor } from '../../../tflite/graph';
import { staticShape } from '../../../tflite/queries';
import {
  BuiltinOperator,
  BuiltinOptions,
  ConcatenationOptionsT,
  PackOptionsT,
  ReducerOptionsT,
  TensorType,
} from '../../../tflite/schema/generated/tflite_generated';
import { accumulate, accumulateSummary, newTensorStats, type TensorStats } from '../statistics/histogram';
import type { Calibrator, ChannelSums } from './calibrator';
import { allFinite, helpersFor, OrderedRuns, outputsFinite, type Parallelism, type RunOutput } from './litert-instances';
import { addChannelSums } from '../statistics/accumulator';
import { writeModel } from '../../../tflite/write';
import type { RunRider } from '../run-rider';

export interface ReducedModel {
  /** A copy of the graph with the reductions; tensor indices of the original are unchanged. */
  graph: ModelGraph;
  /** The tensor (subgraph 0) that holds the summary; not yet an output (loadTapped exposes it). */
  summary: number;
  /** Its length. */
  length: number;
  /** The reduced activations in summary order: the min of taps[k] is at k, its max at N + k. */
  taps: { tensorIndex: number; count: number }[];
  /**
   * Channel sums: `channels` values from `offset`, each the sum over `positions` values.
   */
  sums: { tensor: number; offset: number; channels: number; positions: number }[];
}

/**
 * Why the activations `taps` and channel-sum tensors `sums` (subgraph 0) cannot be reduced inside
 * LiteRT, or null. A reduction needs the tensor's rank, and its element counts need a static
 * shape (a leading batch of -1 is pinned to 1 for LiteRT.js, see runtime/prepare.ts).
 */
export function reductionBlocker(graph: ModelGraph, taps: readonly number[], sums: readonly number[]): string | null {
  if (taps.length === 0) return 'the model has no float activation to reduce';
  const subgraph = graph.subgraphs[0];
  for (const t of [...taps, ...sums]) {
    const tensor = subgraph.tensors[t];
    if (!tensor || tensor.type !== TensorType.FLOAT32) return `tensor ${t} is not a float32 tensor`;
    if (!reducibleShape(tensor)) return `tensor '${tensor.name}' has no static shape`;
  }
  return null;
}

/** staticShape, without empty dimensions (a reduction needs values to reduce). */
function reducibleShape(tensor: Tensor): number[] | null {
  const shape = staticShape(tensor);
  return shape && shape.every((d) => d >= 1) ? shape : null;
}

/**
 * A copy of `graph` whose subgraph 0 also computes the summary of `taps` (min and max) and
 * `sums` (per-channel sums, channel = last axis), see the header. Check reductionBlocker first.
 */
export function withReductions(graph: ModelGraph, taps: readonly number[], sums: readonly number[]): ReducedModel {
  const blocker = reductionBlocker(graph, taps, sums);
  if (blocker) throw new WorkbenchError('unsupported', `The activations cannot be reduced inside LiteRT: ${blocker}.`);
  const reduced = cloneGraph(graph);
  const subgraph = reduced.subgraphs[0];
  const axes = axesTensors(reduced, subgraph);
  const reducer = (builtin: BuiltinOperator, input: number, output: number, axisCount: number) =>
    subgraph.operators.push(
      newOperator(opcodeIndex(reduced, builtin, 1), [input, axes(axisCount)], [output], BuiltinOptions.ReducerOptions, new ReducerOptionsT(false)),
    );
  const shapeOf = (t: number) => reducibleShape(subgraph.tensors[t])!;

  const minima: number[] = [];
  const maxima: number[] = [];
  for (const t of taps) {
    const rank = shapeOf(t).length;
    if (rank === 0) {
      minima.push(t); // a scalar is its own min and max
      maxima.push(t);
      continue;
    }
    const name = subgraph.tensors[t].name;
    const min = addTensor(subgraph, newTensor({ name: `${name}/calibration_min`, type: TensorType.FLOAT32, shape: [], hasRank: true }));
    const max = addTensor(subgraph, newTensor({ name: `${name}/calibration_max`, type: TensorType.FLOAT32, shape: [], hasRank: true }));
    reducer(BuiltinOperator.REDUCE_MIN, t, min, rank);
    reducer(BuiltinOperator.REDUCE_MAX, t, max, rank);
    minima.push(min);
    maxima.push(max);
  }
  const scalars = [...minima, ...maxima];
  const range = addTensor(subgraph, newTensor({ name: 'calibration_min_max', type: TensorType.FLOAT32, shape: [scalars.length] }));
  subgraph.operators.push(
    newOperator(opcodeIndex(reduced, BuiltinOperator.PACK, 1), scalars, [range], BuiltinOptions.PackOptions, new PackOptionsT(scalars.length, 0)),
  );

  const parts = [range];
  const layout: ReducedModel['sums'] = [];
  let offset = scalars.length;
  for (const t of sums) {
    const shape = shapeOf(t);
    const rank = shape.length;
    const channels = rank ? shape[rank - 1] : 1;
    const positions = shape.slice(0, -1).reduce((n, d) => n * d, 1);
    layout.push({ tensor: t, offset, channels, positions });
    offset += channels;
    const name = subgraph.tensors[t].name;
    const channelSums = () => addTensor(subgraph, newTensor({ name: `${name}/calibration_channel_sums`, type: TensorType.FLOAT32, shape: [channels] }));
    if (rank === 1) {
      parts.push(t); // one position: the values are the sums
    } else if (rank === 0) {
      parts.push(appendFlatten(reduced, subgraph, t, 1, `${name}/calibration`));
    } else if (rank === 2) {
      const sum = channelSums();
      reducer(BuiltinOperator.SUM, t, sum, 1);
      parts.push(sum);
    } else {
      // In two steps, for float32 precision: rows of partial sums over all axes but the last two
      // (for an image, one row per column, each the sum down that column), then their sum.
      const rows = shape[rank - 2];
      const partial = addTensor(subgraph, newTensor({ name: `${name}/calibration_partial_sums`, type: TensorType.FLOAT32, shape: [rows, channels] }));
      reducer(BuiltinOperator.SUM, t, partial, rank - 2);
      const sum = channelSums();
      reducer(BuiltinOperator.SUM, partial, sum, 1);
      parts.push(sum);
    }
  }
  let summary = range;
  if (parts.length > 1) {
    summary = addTensor(subgraph, newTensor({ name: 'calibration_summary', type: TensorType.FLOAT32, shape: [offset] }));
    subgraph.operators.push(
      newOperator(opcodeIndex(reduced, BuiltinOperator.CONCATENATION, 1), parts, [summary], BuiltinOptions.ConcatenationOptions, new ConcatenationOptionsT(0)),
    );
  }
  const tapLayout = taps.map((t) => ({ tensorIndex: t, count: shapeOf(t).reduce((n, d) => n * d, 1) }));
  return { graph: reduced, summary, length: offset, taps: tapLayout, sums: layout };
}

/** A constant int32 tensor [0, 1, ..., n-1] per n, made once: the axes to reduce over. */
function axesTensors(graph: ModelGraph, subgraph: Subgraph): (n: number) => number {
  const made = new Map<number, number>();
  return (n) => {
    let t = made.get(n);
    if (t === undefined) {
      t = addInt32Constant(graph, subgraph, `calibration_axes_${n}`, Array.from({ length: n }, (_, i) => i));
      made.set(n, t);
    }
    return t;
  };
}

export interface ReducedPlan {
  /** Activations (subgraph 0, float32, not model inputs) that get min/max statistics. */
  taps: number[];
  /** Tensors whose channel sums are wanted: activations (reduced in LiteRT) or model inputs (in JS). */
  meanTensors: number[];
}

/**
 * The calibrator of the reduced LiteRT path (calibrate.ts drives it). Loads the reduced model
 * here, and into up to `instances - 1` calibration workers (runs/litert-instances.ts OrderedRuns: they
 * start when the work left pays for them, or before the first sample with `waitForInstances`). Summaries are added in
 * sample order. Rejects (and the caller takes the JS path) when LiteRT here cannot load the model;
 * a helper that fails hands its samples back to this thread.
 */
export async function reducedCalibrator(
  graph: ModelGraph,
  plan: ReducedPlan,
  settings: { momentum: number; bins: number; parallel: Parallelism; rider?: RunRider },
): Promise<Calibrator> {
  const { momentum, bins } = settings;
  const subgraph = graph.subgraphs[0];
  const inputSet = new Set(subgraph.inputs);
  const reduced = withReductions(
    graph,
    plan.taps,
    plan.meanTensors.filter((t) => !inputSet.has(t)),
  );
  // A rider's ops join the reduced model (one run a sample for both); if LiteRT rejects that
  // model, the reduced model runs alone and the rider keeps its own runs.
  const riding = await loadRiding(reduced.graph, reduced.summary, settings.rider);
  const { runner, model, select, indexPosition } = riding ?? {
    runner: await loadTapped(reduced.graph, { select: (t) => t === reduced.summary, pack: false }),
    model: reduced.graph,
    select: [reduced.summary],
    indexPosition: -1,
  };
  // The model's own inputs (the rider's index input left out), in LiteRT's order.
  const modelInputs = runner.inputs.filter((_, i) => i !== indexPosition);
  let helpers: Awaited<ReturnType<typeof helpersFor>>;
  try {
    helpers = await helpersFor(settings.parallel, () => ({ bytes: writeModel(model), select, pack: false }));
  } catch (error) {
    runner.delete();
    throw error;
  }
  const nameOf = (t: number) => subgraph.tensors[t]?.name ?? '';
  const tensors = new Map<string, TensorStats>();
  const statsOf = (t: number) => {
    const stats = newTensorStats(0, t, nameOf(t), bins);
    tensors.set(stats.key, stats);
    return stats;
  };
  const inputIndices = inputTensorIndices(graph, { inputs: modelInputs, signature: runner.signature });
  if (indexPosition >= 0) inputIndices.splice(indexPosition, 0, -1);
  const inputStats = runner.inputs.map((info, i) => (info.dtype === 'float32' && inputIndices[i] !== undefined ? statsOf(inputIndices[i]) : null));
  const tapStats = reduced.taps.map((tap) => statsOf(tap.tensorIndex));
  const channelSums = (tensor: number, channels: number): ChannelSums => ({ tensor, sums: new Float64Array(Math.max(1, channels)), values: 0 });
  const inputMeans = plan.meanTensors.flatMap((t) => {
    const input = inputIndices.indexOf(t);
    if (input < 0) return [];
    const shape = subgraph.tensors[t].shape;
    return [{ input, into: channelSums(t, shape[shape.length - 1] ?? 1) }];
  });
  const sums = reduced.sums.map((s) => ({ ...s, into: channelSums(s.tensor, s.channels) }));

  const runHere = async (inputs: RuntimeData[]): Promise<RunOutput> => {
    const { outputs, values } = await runner.run(inputs);
    // The model's own outputs, where a NaN shows (the rider's rows are not one of them).
    return { values, outputsFinite: outputsFinite(riding ? outputs.filter((o) => o.name !== riding.rowsName) : outputs) };
  };
  const withoutIndices = (inputs: RuntimeData[]) => (indexPosition >= 0 ? inputs.filter((_, i) => i !== indexPosition) : inputs);
  /** The rider's takers of the samples pushed and not yet added, in sample order. */
  const takers: ((values: Float32Array) => void)[] = [];

  // Samples with a non-finite value: every value copied out and scanned, as on the JS path.
  let full: TappedRunner | null = null;
  const measureValues = async (inputs: RuntimeData[]) => {
    const wanted = new Set([...plan.taps, ...sums.map((s) => s.tensor)]);
    full ??= await loadTapped(graph, { select: (t) => wanted.has(t) });
    const { values } = await full.run(withoutIndices(inputs));
    const valuesOf = new Map(full.taps.map((tap, k) => [tap.tensorIndex, values[k] as Float32Array]));
    reduced.taps.forEach((tap, k) => accumulate(tapStats[k], valuesOf.get(tap.tensorIndex)!, momentum, 1, false));
    for (const s of sums) {
      const data = valuesOf.get(s.tensor)!;
      addChannelSums(s.into.sums, data);
      s.into.values += data.length - (data.length % s.channels);
    }
  };

  /** Adds one sample's statistics; called in sample order. */
  const addSample = async (inputs: RuntimeData[], run: RunOutput) => {
    const summary = run.values[0];
    if (!(summary instanceof Float32Array) || summary.length !== reduced.length) {
      throw new WorkbenchError('runtime', `LiteRT returned ${summary?.length ?? 'no'} calibration summary values, expected ${reduced.length}.`);
    }
    if (riding) {
      const rows = run.values[1];
      if (!(rows instanceof Float32Array)) throw new WorkbenchError('runtime', 'LiteRT returned no layer rows with the calibration summary.');
      takers.shift()!(rows);
    }
    inputStats.forEach((stats, i) => stats && accumulate(stats, inputs[i] as Float32Array, momentum, 1, false));
    for (const m of inputMeans) {
      const data = inputs[m.input] as Float32Array;
      addChannelSums(m.into.sums, data);
      m.into.values += data.length - (data.length % m.into.sums.length);
    }
    if (!run.outputsFinite || !allFinite(summary)) return measureValues(inputs);
    const n = reduced.taps.length;
    for (let k = 0; k < n; k++) accumulateSummary(tapStats[k], summary[k], summary[n + k], reduced.taps[k].count, momentum);
    for (const s of sums) {
      for (let c = 0; c < s.channels; c++) s.into.sums[c] += summary[s.offset + c];
      s.into.values += s.positions * s.channels;
    }
  };

  const runs = new OrderedRuns(runHere, helpers, addSample);
  if (riding) settings.rider!.attached(); // nothing here fails from now on: the rider's own model can go

  return {
    batch: 1,
    tensors,
    means: plan.meanTensors.flatMap((t) => [...inputMeans, ...sums].filter((m) => m.into.tensor === t).map((m) => m.into)),
    statsThread: 'main',
    reductions: 'litert',
    get statsReason() {
      return `reduced inside LiteRT (REDUCE_MIN / REDUCE_MAX of ${reduced.taps.length} activations, SUM for ${sums.length} channel means): ${reduced.length} values per sample leave the run${riding ? ", with the layer-input sampler's rows" : ''}${runs.describe()}`;
    },
    async add(samples, firstIndex) {
      for (let k = 0; k < samples.length; k++) {
        const inputs = toModelInputs(samples[k], modelInputs, firstIndex + k);
        if (riding) {
          const next = settings.rider!.next();
          takers.push(next.take);
          inputs.splice(indexPosition, 0, next.indices);
        }
        await runs.push(inputs);
      }
    },
    finish: () => runs.finish(),
    dispose() {
      runs.release();
      runner.delete();
      full?.delete();
    },
  };
}


/**
 * The reduced model with a rider's ops (run-rider.ts), loaded, or null when there is no rider or
 * LiteRT rejects the joint model. The rider's gathers go after every op (the reductions keep the
 * activations alive to the end anyway, and the model's own ops stay one unbroken run).
 */
async function loadRiding(reduced: ModelGraph, summary: number, rider: RunRider | undefined) {
  if (!rider) return null;
  let runner: TappedRunner | null = null;
  try {
    const joint = rider.attach(reduced);
    runner = await loadTapped(joint.graph, { select: (t) => t === summary || t === joint.rows, pack: false });
    const indexPosition = runner.inputs.findIndex((info) => info.name === joint.indexInput);
    const rowsTap = runner.taps.findIndex((tap) => tap.tensorIndex === joint.rows);
    if (indexPosition < 0 || rowsTap !== 1 || runner.taps[0]?.tensorIndex !== summary) throw new Error('unexpected inputs or outputs');
    return { runner, model: joint.graph, select: [summary, joint.rows], indexPosition, rowsName: runner.taps[1].outputName };
  } catch {
    runner?.delete();
    return null;
  }
}
