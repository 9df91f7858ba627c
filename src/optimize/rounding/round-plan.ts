/**
 * Rounding optimization of a planned full-integer model: for every quantized op with weights whose
 * input rows were sampled (layer-inputs.ts), the integers for the plan's scales by the chosen
 * method (round-weights.ts), keyed by rangeKey of the weight tensor for the rewrite
 * (IntegerOptions.roundedWeights). Ops without rows keep nearest rounding. One layer at a time,
 * yielding between layers, so progress is reported and a cancel gets through.
 */
import { WorkbenchError } from '../../errors';
import type { ModelGraph } from '../../tflite/graph';
import { constantAsFloat32 } from '../quantize/fold-dequantize';
import type { QuantizationPlan } from '../quantize/plan-types';
import { rangeKey } from '../quantize/ranges';
import { channelError, layoutOf, type LayerLayout, type LayerRows, type RoundingBits, type RoundingMethod, type RoundingProblem } from './problem';
import { roundWeights, type RoundOptions } from './round-weights';
import { searchScales } from './scale-search';

export interface RoundPlanOptions extends RoundOptions {
  method: Exclude<RoundingMethod, 'nearest'>;
  /** Minimize the error left after bias correction (the rows' covariance), see RoundingProblem.centered. */
  centered: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Only these ops (plan op indices); default every quantized op with weights. */
  only?: ReadonlySet<number>;
  /** Weights to round in place of the graph's, by rangeKey of the weight tensor (asymmetric-target.ts). */
  targets?: ReadonlyMap<string, Float32Array>;
}

export interface RoundPlanResult {
  weights: Map<string, Int8Array>;
  /** Layers rounded by the method, and those left to nearest (no rows sampled, or a failure). */
  layers: number;
  skipped: number;
  failures: string[];
  /** Mean over layers of the method's sampled output error ||X (W - Wq)||^2 over nearest rounding's. */
  errorRatio: number;
}

/**
 * Widest layer input (kh * kw * in for a convolution) rounding optimization takes on: MobileNetV2's
 * 1280-wide classifier still is; pose_landmark_heavy's nine 1632-wide layers took most of 10 minutes
 * (int8 + 16x8 on a loaded 2-core machine) before this bound, 26 s of rounding in all with it.
 */
export const MAX_WIDTH = 1280;

const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function roundPlannedWeights(graph: ModelGraph, plan: QuantizationPlan, rows: Map<string, LayerRows>, options: RoundPlanOptions): Promise<RoundPlanResult> {
  const subgraph = graph.subgraphs[0];
  const ops = plan.subgraphs[0]?.ops.filter((op) => op.mode === 'quantized' && op.weights && (op.weights.bits === 8 || op.weights.bits === 4) && (!options.only || options.only.has(op.opIndex))) ?? [];
  const weights = new Map<string, Int8Array>();
  const result: RoundPlanResult = { weights, layers: 0, skipped: 0, failures: [], errorRatio: 0 };
  let ratios = 0;
  const work = ops.flatMap((op) => {
    const inputs = rows.get(rangeKey(0, subgraph.operators[op.opIndex].outputs[0]));
    // GPTQ factorizes a k x k matrix per layer (k^3) and AdaRound iterates over it: wider inputs
    // would take minutes each in JS, so they keep nearest rounding.
    if (!inputs || inputs.count === 0 || (inputs.layout === 'dense' && inputs.width > MAX_WIDTH)) {
      result.skipped++;
      return [];
    }
    return [{ op, inputs }];
  });
  options.onProgress?.(0, work.length);
  for (let i = 0; i < work.length; i++) {
    await yieldToEventLoop();
    if (options.signal?.aborted) throw new WorkbenchError('cancelled', `Rounding optimization was cancelled after ${i} of ${work.length} layers.`);
    const { op, inputs } = work[i];
    const w = op.weights!;
    const key = rangeKey(0, w.tensorIndex);
    if (weights.has(key)) {
      options.onProgress?.(i + 1, work.length);
      continue; // a shared weight tensor is rounded for its first op
    }
    const problem: RoundingProblem = {
      values: options.targets?.get(key) ?? constantAsFloat32(graph, 0, w.tensorIndex),
      shape: [...subgraph.tensors[w.tensorIndex].shape],
      scales: w.scales,
      axis: w.axis ?? 0,
      bits: w.bits as RoundingBits,
      // int8 layers take H from the reservoir rows (layer-inputs.ts GRAM_ROWS says why).
      inputs: w.bits === 4 ? inputs : { ...inputs, moments: undefined },
      centered: options.centered,
    };
    let layout: LayerLayout;
    let q: Int8Array;
    try {
      layout = layoutOf(problem);
      if (problem.bits === 4 && problem.scales.length > 1) {
        // int4: the clipping per channel by the layer's output error, then rounding for those scales.
        const scales = searchScales(problem, layout);
        problem.scales = scales;
        layout = { ...layout, scaleOf: (c: number) => scales[c] };
        setWeightScales(plan, w.tensorIndex, Array.from(scales));
      }
      q = roundWeights(options.method, problem, options, layout);
    } catch (error) {
      // A layout the sampler and the plan disagree on: this layer keeps nearest rounding, the rest go on.
      result.skipped++;
      result.failures.push(`op #${op.opIndex}: ${error instanceof Error ? error.message : String(error)}`);
      options.onProgress?.(i + 1, work.length);
      continue;
    }
    weights.set(key, q);
    result.layers++;
    const ratio = errorRatio(problem, layout, q);
    if (Number.isFinite(ratio)) {
      result.errorRatio += ratio;
      ratios++;
    }
    options.onProgress?.(i + 1, work.length);
  }
  result.errorRatio = ratios ? result.errorRatio / ratios : 1;
  return result;
}

/** Output channels the error note measures per layer at most (evenly spread): it costs k^2 per channel. */
const ERROR_CHANNELS = 32;

/** The layer's sampled output error with `q` over its error with nearest rounding (NaN when nearest is exact). */
export function errorRatio(problem: RoundingProblem, layout: LayerLayout, q: Int8Array): number {
  const near = roundWeights('nearest', problem, {}, layout);
  let nearest = 0;
  let method = 0;
  const step = Math.max(1, Math.floor(layout.outChannels / ERROR_CHANNELS));
  for (const group of layout.groups) {
    for (const c of group.channels) {
      if (c % step !== 0) continue;
      const s = layout.scaleOf(c);
      nearest += channelError(group, problem.values, c, s, near);
      method += channelError(group, problem.values, c, s, q);
    }
  }
  return method / nearest;
}

/** New scales for a weight tensor, in every op of the plan that reads it, with their bias scales (input_scale * s_c). */
function setWeightScales(plan: QuantizationPlan, tensorIndex: number, scales: number[]): void {
  for (const op of plan.subgraphs[0]?.ops ?? []) {
    if (op.weights?.tensorIndex !== tensorIndex) continue;
    op.weights.scales = scales;
    if (op.bias) op.bias.scales = scales.map((s) => op.bias!.inputScale * s);
  }
}
