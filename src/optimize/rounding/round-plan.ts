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
import { channelError, layoutOf, type LayerRows, type RoundingBits, type RoundingMethod, type RoundingProblem } from './problem';
import { roundWeights, type RoundOptions } from './round-weights';

export interface RoundPlanOptions extends RoundOptions {
  method: Exclude<RoundingMethod, 'nearest'>;
  /** Minimize the error left after bias correction (the rows' covariance), see RoundingProblem.centered. */
  centered: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RoundPlanResult {
  weights: Map<string, Int8Array>;
  /** Layers rounded by the method, and those left to nearest (no rows sampled). */
  layers: number;
  skipped: number;
  /** Sum over layers of the sampled output error ||X (W - Wq)||^2 / n relative to the layer's output power, nearest vs the method. */
  nearestError: number;
  methodError: number;
}

const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function roundPlannedWeights(graph: ModelGraph, plan: QuantizationPlan, rows: Map<string, LayerRows>, options: RoundPlanOptions): Promise<RoundPlanResult> {
  const subgraph = graph.subgraphs[0];
  const ops = plan.subgraphs[0]?.ops.filter((op) => op.mode === 'quantized' && op.weights && (op.weights.bits === 8 || op.weights.bits === 4)) ?? [];
  const weights = new Map<string, Int8Array>();
  const result: RoundPlanResult = { weights, layers: 0, skipped: 0, nearestError: 0, methodError: 0 };
  const work = ops.flatMap((op) => {
    const inputs = rows.get(rangeKey(0, subgraph.operators[op.opIndex].outputs[0]));
    if (!inputs || inputs.count === 0) {
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
      values: constantAsFloat32(graph, 0, w.tensorIndex),
      shape: [...subgraph.tensors[w.tensorIndex].shape],
      scales: w.scales,
      axis: w.axis ?? 0,
      bits: w.bits as RoundingBits,
      inputs,
      centered: options.centered,
    };
    const q = roundWeights(options.method, problem, options);
    weights.set(key, q);
    result.layers++;
    const { nearest, method } = relativeErrors(problem, q);
    result.nearestError += nearest;
    result.methodError += method;
    options.onProgress?.(i + 1, work.length);
  }
  return result;
}

/** The layer's sampled output error with nearest and with `q`, relative to its output power (so layers add up comparably). */
export function relativeErrors(problem: RoundingProblem, q: Int8Array): { nearest: number; method: number } {
  const layout = layoutOf(problem);
  const near = roundWeights('nearest', problem);
  let nearest = 0;
  let method = 0;
  let power = 0;
  const zero = new Int8Array(problem.values.length);
  for (const group of layout.groups) {
    for (const c of group.channels) {
      const s = layout.scaleOf(c);
      nearest += channelError(group, problem.values, c, s, near);
      method += channelError(group, problem.values, c, s, q);
      power += channelError(group, problem.values, c, s, zero);
    }
  }
  return power > 0 ? { nearest: nearest / power, method: method / power } : { nearest: 0, method: 0 };
}
