/**
 * Full-integer quantization (int8, or int16 activations with int8 weights: "16x8", for the whole
 * model or per op), as a plan and
 * its application: planQuantization (plan.ts) decides how every op runs and every integer tensor's
 * parameters from the recipe and the calibrated ranges; applyPlan (apply.ts) rewrites a copy of the
 * graph to match. Every op left in float is reported with the reason.
 */
import { WorkbenchError } from '../../errors';
import { cloneGraph } from '../../tflite/edit';
import type { ModelGraph, Operator } from '../../tflite/graph';
import { applyPlan } from './apply';
import { dropUnused, foldConstantDequantize } from './fold-dequantize';
import type { PrecisionOf } from './op-modes';
import type { ActivationBits, WeightParamsHook } from './params';
import { floatOpsOf, planQuantization } from './plan';
import type { FloatOp, IoType, QuantizationPlan } from './plan-types';
import type { PlanWeightBits } from './plan-weights';
import type { RangeMap } from './ranges';

export { rangeKey, type RangeMap, type TensorRange } from './ranges';
export type { FloatOp, IoType } from './plan-types';

export interface IntegerOptions {
  activationBits: ActivationBits;
  perChannel: boolean;
  /** Per op with weights, over `perChannel`: whether its int8 weights get per-channel scales (recipe granularityByScope). */
  perChannelOf?: (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => boolean;
  io: IoType;
  integerOnly: boolean;
  /**
   * Per-channel (last axis) means of float activations from calibration, by rangeKey: when given,
   * biases absorb the mean shift that rounding the weights causes (empirical bias correction).
   */
  channelMeans?: Map<string, Float64Array>;
  /**
   * The weights before earlier steps of a chain (pruning, clustering) changed them, by tensor name:
   * bias correction then removes the mean shift of those steps too, not only of int8 rounding.
   */
  referenceWeights?: Map<string, Float32Array>;
  /** True for ops the user keeps in float (by op type or tensor name). */
  keepFloat: (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => boolean;
  /**
   * Per op 'int8', 'int16x8' or 'float' (absent: every op at activationBits). Ops of different widths
   * are joined by QUANTIZE int8 <-> int16; keepFloat wins over it.
   */
  precision?: PrecisionOf;
  /** Optional: weight parameters from the caller (clustered weights); null or absent = the default. */
  weightParams?: WeightParamsHook;
  /** int4 weight scales from the caller (QAT's learned steps), by weight tensor name; see planWeights. */
  int4Scales?: Map<string, number[]>;
  /** Weight bits the recipe asks of each op with weights (default 8; 4 = packed int4 where LiteRT.js runs it). */
  weightBits?: (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => PlanWeightBits;
  /** Integers of weight tensors rounded otherwise than to nearest, by rangeKey of the planned graph (rounding/). */
  roundedWeights?: Map<string, Int8Array>;
  /**
   * Amounts added to the float bias of an op, per output channel, by the plan's op index (subgraph
   * 0): output bias correction's measured mean output errors, negated (output-bias.ts).
   */
  biasShifts?: Map<number, Float64Array>;
}

export interface IntegerResult {
  graph: ModelGraph;
  quantizedOps: number;
  /** Biases corrected for the weights' rounding shift. */
  correctedBiases: number;
  floatOps: FloatOp[];
  /** QUANTIZE/DEQUANTIZE ops added at float/integer boundaries (I/O included). */
  conversions: number;
  /** What was done: per op how it runs, per integer tensor its parameters (plain JSON). */
  plan: QuantizationPlan;
}

export function quantizeInteger(source: ModelGraph, ranges: RangeMap, options: IntegerOptions): IntegerResult {
  return applyInteger(planInteger(source, ranges, options), options);
}

/** A copy of the graph ready to rewrite, and the plan for it (what rounding optimization reads). */
export interface PlannedInteger {
  graph: ModelGraph;
  plan: QuantizationPlan;
}

/** The first half of quantizeInteger: copy, fold float16 weights, plan (activation tensor indices stay as in `source`). */
export function planInteger(source: ModelGraph, ranges: RangeMap, options: IntegerOptions): PlannedInteger {
  const graph = cloneGraph(source);
  // Float16 (or weight-only) weights behind DEQUANTIZE become float constants the plan can quantize.
  foldConstantDequantize(graph);
  return { graph, plan: planQuantization(graph, ranges, options) };
}

/** The second half: rewrite the planned copy (with `options.roundedWeights` where given). */
export function applyInteger({ graph, plan }: PlannedInteger, options: IntegerOptions): IntegerResult {
  const floatOps = floatOpsOf(plan);
  const counts = applyPlan(graph, plan, options);
  dropUnused(graph);
  if (options.integerOnly) {
    const computeFloat = floatOps.filter((f) => f.reason !== 'no float tensors');
    if (computeFloat.length) {
      throw new WorkbenchError(
        'unsupported',
        `integer-only quantization is impossible: ${computeFloat.length} op(s) would stay float: ${computeFloat
          .map((f) => `#${f.opIndex} ${f.op} (${f.reason})`)
          .join('; ')}`,
        computeFloat[0].opIndex,
      );
    }
  }
  return { graph, ...counts, floatOps, plan };
}
