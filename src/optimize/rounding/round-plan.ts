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

export interface RoundPlanOptions extends RoundOptions {
  method: Exclude<RoundingMethod, 'nearest'>;
  /** Minimize the error left after bias correction (the rows' covariance), see RoundingProblem.centered. */
  centered: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
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

const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function roundPlannedWeights(graph: ModelGraph, plan: QuantizationPlan, rows: Map<string, LayerRows>, options: RoundPlanOptions): Promise<RoundPlanResult> {
  const subgraph = graph.subgraphs[0];
  const ops = plan.subgraphs[0]?.ops.filter((op) => op.mode === 'quantized' && op.weights && (op.weights.bits === 8 || op.weights.bits === 4)) ?? [];
  const weights = new Map<string, Int8Array>();
  const result: RoundPlanResult = { weights, layers: 0, skipped: 0, failures: [], errorRatio: 0 };
  let ratios = 0;
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
    let layout: LayerLayout;
    let q: Int8Array;
    try {
      layout = layoutOf(problem);
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

/** The layer's sampled output error with `q` over its error with nearest rounding (NaN when nearest is exact). */
export function errorRatio(problem: RoundingProblem, layout: LayerLayout, q: Int8Array): number {
  const near = roundWeights('nearest', problem, {}, layout);
  let nearest = 0;
  let method = 0;
  for (const group of layout.groups) {
    for (const c of group.channels) {
      const s = layout.scaleOf(c);
      nearest += channelError(group, problem.values, c, s, near);
      method += channelError(group, problem.values, c, s, q);
    }
  }
  return method / nearest;
}
