/**
 * Output bias correction (the empirical form of Nagel et al., "Data-Free Quantization", 2019,
 * section 4.2, as AIMET implements it): run the quantized model and the float model on calibration
 * samples, and per output channel of a chosen op take the mean of (quantized output - float output);
 * that mean, taken out of the op's bias, removes the systematic part of the op's output error.
 *
 * bias-correction.ts already removes the mean shift of the op's own weight rounding, from the float
 * inputs' means. What it cannot see is measured here: the mean shift the op's *quantized* inputs
 * carry in (the error of every earlier layer and of the int8 activations, which at int4 weights add
 * up through MobileNetV2's 50 layers) and the requantization of the op's output. On a classifier's
 * logits layer that shift is a per-class offset of the logits, which moves top-1 directly.
 *
 * Fused activations: LiteRT hands out the op's output after RELU / RELU6. The mean is taken there
 * (what the next op reads), and the bias moves by mean / (share of unclamped positions), the
 * first-order change of a clamped output's mean with its bias.
 *
 * Ops are corrected one after the other in graph order, each measured with the earlier ones
 * corrected: the quantized model is walked from site to site (segment-walk.ts), each op run about
 * once per sample in all, where the tensors live between sites fit in memory; otherwise each site
 * costs a LiteRT pass of the model up to it.
 */
import { WorkbenchError } from '../../errors';
import { loadTapped, type TappedRunner } from '../../runtime/taps';
import { eachSample, sampleCount, toModelInputs, type Samples } from '../../runtime/samples';
import type { RuntimeData } from '../../runtime/types';
import type { ModelGraph } from '../../tflite/graph';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import { cloneGraph } from '../../tflite/edit';
import { prefixGraph } from '../../tflite/prefix';
import { SegmentWalk, walkObstacle } from './segment-walk';
import { applyInteger, type IntegerOptions, type IntegerResult, type PlannedInteger } from './integer';

/** An op whose output error is measured: its output tensor's name (the same in both models). */
export interface OutputSite {
  /** Key the caller finds the result under (the plan's op index). */
  opIndex: number;
  tensorName: string;
}

export interface OutputShift {
  /** Mean of (quantized - float) per output channel (last axis), after the fused activation. */
  mean: Float64Array;
  /** Share of positions per channel where the quantized output is not clamped: d mean / d bias. */
  linear: Float64Array;
}

const INTEGER_LIMITS: Partial<Record<TensorType, [number, number]>> = {
  [TensorType.INT8]: [-128, 127],
  [TensorType.UINT8]: [0, 255],
  [TensorType.INT16]: [-32768, 32767],
};

interface Side {
  runner: TappedRunner;
  /** Per site: position of its tap in a run's values. */
  tapOf: number[];
}

/** The tensors of these names in subgraph 0 (the first of each name). */
function tensorsNamed(graph: ModelGraph, names: string[]): number[] {
  const indexOf = new Map<string, number>();
  graph.subgraphs[0].tensors.forEach((t, i) => {
    if (!indexOf.has(t.name)) indexOf.set(t.name, i);
  });
  return names.map((n) => {
    const t = indexOf.get(n);
    if (t === undefined) throw new WorkbenchError('bad-input', `output bias correction: no tensor '${n}' in the model`);
    return t;
  });
}

async function open(graph: ModelGraph, wanted: number[]): Promise<Side> {
  const set = new Set(wanted);
  const runner = await loadTapped(graph, { select: (t) => set.has(t), tapsOnly: true });
  const position = new Map(runner.taps.map((tap, k) => [tap.tensorIndex, k]));
  return { runner, tapOf: wanted.map((t) => position.get(t)!) };
}

/** One site's float outputs summed per channel (last axis) over the samples, and the positions summed. */
export interface FloatSum {
  sum: Float64Array | null;
  positions: number;
}

/** One pass of the float model over the samples, tapped at every site: what each site's mean error is measured against. */
export async function floatOutputSums(floatGraph: ModelGraph, sites: OutputSite[], samples: Samples, signal?: AbortSignal): Promise<FloatSum[]> {
  const float = await open(floatGraph, tensorsNamed(floatGraph, sites.map((s) => s.tensorName)));
  const fTensors = floatGraph.subgraphs[0].tensors;
  const sums: FloatSum[] = sites.map(() => ({ sum: null, positions: 0 }));
  try {
    let index = 0;
    for await (const sample of eachSample(samples)) {
      if (signal?.aborted) throw new WorkbenchError('cancelled', 'Output bias correction was cancelled.');
      const f = await float.runner.run(toModelInputs(sample, float.runner.inputs, index++));
      sums.forEach((site, s) => {
        const yf = f.values[float.tapOf[s]] as Float32Array;
        const channels = fTensors[float.runner.taps[float.tapOf[s]].tensorIndex].shape.at(-1) ?? 1;
        const sum = (site.sum ??= new Float64Array(channels));
        for (let i = 0, c = 0; i < yf.length; i++, c = c + 1 === channels ? 0 : c + 1) sum[c] += yf[i];
        site.positions += yf.length / channels;
      });
    }
  } finally {
    float.runner.delete();
  }
  return sums;
}

/**
 * Mean output error per channel of one site, quantized model against the float model's sums
 * (floatOutputSums, on the same samples in the same order); null when the site stayed float. The
 * quantized model runs cut after the site (tflite/prefix.ts): a site early in the model costs only
 * the ops before it.
 */
export async function measureOutputShift(quantizedGraph: ModelGraph, site: OutputSite, float: FloatSum, samples: Samples, signal?: AbortSignal, walk?: SegmentWalk): Promise<OutputShift | null> {
  const [wanted] = tensorsNamed(quantizedGraph, [site.tensorName]);
  const tensor = quantizedGraph.subgraphs[0].tensors[wanted];
  const scale = tensor.quantization?.scale?.[0];
  const limits = INTEGER_LIMITS[tensor.type];
  if (!scale || !limits || !float.sum) return null; // the op stayed float in the quantized model: nothing to correct
  const info = { scale, zeroPoint: Number(tensor.quantization?.zeroPoint?.[0] ?? 0), limits };
  const channels = tensor.shape.at(-1) ?? 1;
  const sum = new Float64Array(channels);
  const count = new Float64Array(channels);
  let positions = 0;
  const add = (yq: RuntimeData) => {
    accumulate(yq, channels, info, sum, count);
    positions += yq.length / channels;
  };
  if (walk) await walk.next(quantizedGraph, wanted, add);
  else {
    const quantized = await open(prefixGraph(quantizedGraph, 0, [wanted]), [wanted]);
    try {
      let index = 0;
      for await (const sample of eachSample(samples)) {
        if (signal?.aborted) throw new WorkbenchError('cancelled', 'Output bias correction was cancelled.');
        const q = await quantized.runner.run(toModelInputs(sample, quantized.runner.inputs, index++));
        add(q.values[quantized.tapOf[0]]);
      }
    } finally {
      quantized.runner.delete();
    }
  }
  if (float.sum.length !== channels || float.positions !== positions) {
    throw new WorkbenchError('runtime', `output bias correction: '${site.tensorName}' has ${float.positions * float.sum.length} float and ${positions * channels} quantized values`);
  }
  return { mean: sum.map((v, c) => (v - float.sum![c]) / positions), linear: count.map((v) => v / positions) };
}

/**
 * Adds one sample's dequantized outputs per channel, and counts the positions where the quantized
 * output is unclamped (where a bias change moves the output).
 */
export function accumulate(
  yq: ArrayLike<number>,
  channels: number,
  { scale, zeroPoint, limits: [qmin, qmax] }: { scale: number; zeroPoint: number; limits: [number, number] },
  sum: Float64Array,
  linear: Float64Array,
): void {
  for (let i = 0, c = 0; i < yq.length; i++, c = c + 1 === channels ? 0 : c + 1) {
    const q = yq[i];
    sum[c] += scale * (q - zeroPoint);
    if (q > qmin && q < qmax) linear[c]++;
  }
}

/** Least share of unclamped positions a channel needs to be corrected. */
const MIN_LINEAR = 0.05;

/** Calibration samples output bias correction reads at most (the first ones). */
export const OUTPUT_BIAS_SAMPLES = 128;

export interface OutputBiasOptions {
  /** Measure-and-correct rounds: each measures the model with the corrections so far. */
  passes: number;
  /**
   * Which ops (each needs a bias): every one with int4 weights ('int4', the default), the last one
   * with int4 weights ('last': a classifier's logits layer), or every quantized one with weights.
   * Measured (npm run bench:w4a8, 100 calibration images, 400 others): MobileNetV1 0.25 W4A8 top-1
   * 52.5% without, 54.8% 'last', 56.3% 'int4'; MobileNetV2 W4A8 74.3% without, 75.0% 'last', 75.5%
   * 'int4'. 'int4' was an option while each op cost a LiteRT pass of the model up to it (V2: 1342 s);
   * walked segment by segment (segment-walk.ts) V2 takes 188 s in all, V1 27 s, idle machine.
   */
  ops: 'int4' | 'all' | 'last';
  /**
   * Where the model cannot be walked (segment-walk.ts walkObstacle: the cache too large, a tensor
   * type LiteRT.js takes no input of), measure each op from the model's inputs ('each', a pass of
   * the model up to it per op) or correct only the last of them ('last', what the pipeline's
   * default does: a large model with a hundred int4 layers would otherwise take hours). Default 'each'.
   */
  unwalkable?: 'each' | 'last';
  /** Largest cache the walk may hold (default WALK_CACHE_BYTES). */
  walkCacheBytes?: number;
  signal?: AbortSignal;
}

export interface OutputBiasResult {
  result: IntegerResult;
  /** Ops corrected. */
  ops: number;
  /** Per pass: root mean square over the corrected channels of the mean output error measured (before that pass's correction). */
  measured: number[];
  /** Why the model was not walked from op to op, when it was not (walkObstacle's words). */
  notWalked?: string;
  /** True when only the last op was corrected because the model could not be walked (unwalkable: 'last'). */
  narrowed?: boolean;
}

/**
 * Quantizes `planned` with its biases corrected by the measured mean output error of the chosen ops
 * (see the top of this file). `planned` is not changed (each pass rewrites a copy); the first pass
 * measures the model `options` make without corrections.
 */
export async function quantizeWithOutputBias(
  floatGraph: ModelGraph,
  planned: PlannedInteger,
  integerOptions: IntegerOptions,
  samples: Samples,
  options: OutputBiasOptions,
): Promise<OutputBiasResult> {
  const apply = (shifts: Map<number, Float64Array>) =>
    applyInteger({ graph: cloneGraph(planned.graph), plan: structuredClone(planned.plan) }, { ...integerOptions, biasShifts: shifts });
  const subgraph = planned.graph.subgraphs[0];
  const candidates = (planned.plan.subgraphs[0]?.ops ?? []).filter((op) => op.mode === 'quantized' && op.weights && op.bias && (options.ops === 'all' || op.weights.bits === 4));
  let sites: OutputSite[] = (options.ops === 'last' ? candidates.slice(-1) : candidates)
    .map((op) => {
      const operator = subgraph.operators[op.opIndex];
      return { opIndex: op.opIndex, tensorName: subgraph.tensors[operator.outputs[0]].name };
    });
  const shifts = new Map<number, Float64Array>();
  let result = apply(shifts);
  const measured: number[] = [];
  // Sites walked segment by segment where the cache fits (segment-walk.ts), else each from the model's inputs.
  const quantizedOps = result.graph.subgraphs[0];
  const writers = sites.map((site) => quantizedOps.operators.findIndex((op) => op.outputs.some((t) => quantizedOps.tensors[t]?.name === site.tensorName)));
  const obstacle = writers.some((w, k) => w < 0 || (k > 0 && w <= writers[k - 1])) ? 'the sites are not ops in graph order' : walkObstacle(result.graph, writers, sampleCount(samples) ?? OUTPUT_BIAS_SAMPLES, options.walkCacheBytes);
  const narrowed = Boolean(obstacle) && options.unwalkable === 'last' && sites.length > 1;
  if (narrowed) sites = sites.slice(-1);
  // The float model's side is the same for every measurement: one pass for all sites.
  const float = sites.length ? await floatOutputSums(floatGraph, sites, samples, options.signal) : [];
  let walk: SegmentWalk | undefined;
  const correct = async (k: number): Promise<number[]> => {
    const error = await measureOutputShift(result.graph, sites[k], float[k], samples, options.signal, walk);
    if (!error) return [];
    const { mean, linear } = error;
    const opIndex = sites[k].opIndex;
    const shift = shifts.get(opIndex) ?? new Float64Array(mean.length);
    const squares: number[] = [];
    for (let c = 0; c < mean.length; c++) {
      // A channel clamped nearly everywhere: its bias barely moves its mean; leave it.
      if (linear[c] >= MIN_LINEAR) shift[c] -= mean[c] / linear[c];
      squares.push(mean[c] * mean[c]);
    }
    shifts.set(opIndex, shift);
    result = apply(shifts);
    return squares;
  };
  for (let pass = 0; pass < options.passes && sites.length; pass++) {
    // Op after op in graph order, each measured with the ops before it corrected: an op's error
    // includes what its inputs carry in, so correcting all from one measurement over-corrects the
    // later ones (MobileNetV1 W4A8 with all 15 int4 ops from one measurement: top-1 52.5% -> 11.8%,
    // and 0.5% after a second pass).
    walk = obstacle ? undefined : new SegmentWalk(samples, options.signal);
    const squares = (await serial(sites.map((_, k) => k), correct)).flat();
    measured.push(Math.sqrt(squares.reduce((a, v) => a + v, 0) / Math.max(1, squares.length)));
  }
  return { result, ops: sites.length, measured, ...(obstacle ? { notWalked: obstacle } : {}), ...(narrowed ? { narrowed } : {}) };
}

async function serial<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await work(item));
  return out;
}
