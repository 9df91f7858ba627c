/**
 * Weight and bias parameters of one quantized op, for the plan. Weights are symmetric (zero point 0):
 * int8 per output channel where the op allows it and the recipe asks for it (FULLY_CONNECTED only
 * when it pays, see perChannelPays), unless the caller's hook knows better (clustered weights); int4
 * (scale max|w| / 7) per channel wherever allowed. The bias sits at input_scale * weight_scale[c],
 * int32 (int64 with int16 activations), whatever the weight bits.
 */
import type { ModelGraph } from '../../tflite/graph';
import { BuiltinOperator } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32 } from './fold-dequantize';
import { int4WeightParams } from './int4';
import { perChannelPays, symmetricWeightParams, type ActivationBits, type QuantParams, type WeightParamsHook } from './params';
import type { BiasPlan, WeightPlan } from './plan-types';
import type { OpRule } from './rules';

/** Weight bits of a quantized op unless the recipe asks for int4. */
export const WEIGHT_BITS = 8;
export type PlanWeightBits = 8 | 4;

/**
 * The weight bits an op gets: the requested ones, unless LiteRT.js runs no int4 kernel for this op
 * at these activation bits (rules.ts `int4`): then int8, with the reason (never silently).
 */
export function weightBitsOf(builtin: BuiltinOperator, rule: OpRule, requested: PlanWeightBits, activationBits: ActivationBits): { bits: PlanWeightBits; note?: string } {
  if (requested === 8 || !rule.weights) return { bits: 8 };
  const key = activationBits === 8 ? 'int8' : 'int16';
  if (rule.int4?.[key] !== undefined) return { bits: 4 };
  const form = activationBits === 8 ? 'W4A8' : 'W4A16';
  return { bits: 8, note: `int4 asked; int8 weights, as LiteRT.js runs no ${form} ${BuiltinOperator[builtin]} kernel` };
}

export function planWeights(
  graph: ModelGraph,
  s: number,
  builtin: BuiltinOperator,
  inputs: number[],
  weights: NonNullable<OpRule['weights']>,
  options: { perChannel: boolean; weightParams?: WeightParamsHook; int4Scales?: Map<string, number[]> },
  bits: PlanWeightBits = WEIGHT_BITS,
): WeightPlan {
  const w = inputs[weights.input];
  const { axis } = weights;
  const values = constantAsFloat32(graph, s, w);
  const shape = graph.subgraphs[s].tensors[w].shape;
  if (bits === 4) {
    // int4 always per channel where allowed: one scale over a whole FC at 15 levels loses too much.
    // The caller's hook (cluster-preserving int8 params) does not apply to 4 bits.
    const perChannel = weights.perChannel && options.perChannel;
    const params = int4WeightParams(values, shape, axis, perChannel);
    // Learned steps (QAT) replace max|w| / 7 when they fit the granularity: the trained weights were
    // fake-quantized with exactly these, so nearest rounding with them writes what training saw.
    const given = options.int4Scales?.get(graph.subgraphs[s].tensors[w].name);
    if (given && given.length === params.scale.length && given.every((v) => v > 0 && Number.isFinite(v))) {
      return weightPlan(graph, s, w, weights.input, 4, perChannel, axis, { ...params, scale: given.slice() });
    }
    return weightPlan(graph, s, w, weights.input, 4, perChannel, axis, params);
  }
  const perChannel = weights.perChannel && options.perChannel && (builtin !== BuiltinOperator.FULLY_CONNECTED || perChannelPays(values, shape, axis));
  const custom = options.weightParams?.(values, shape, axis, perChannel) ?? null;
  const params = custom ?? symmetricWeightParams(values, shape, axis, perChannel);
  // A hook may answer per-tensor to a per-channel request (clusters shared by the whole tensor).
  const channelwise = custom ? params.scale.length > 1 : perChannel;
  return weightPlan(graph, s, w, weights.input, 8, channelwise, axis, params);
}

function weightPlan(graph: ModelGraph, s: number, w: number, input: number, bits: PlanWeightBits, channelwise: boolean, axis: number, params: QuantParams): WeightPlan {
  return {
    tensorIndex: w,
    name: graph.subgraphs[s].tensors[w].name,
    role: 'weight',
    dtype: bits === 4 ? 'int4' : 'int8',
    bits,
    granularity: channelwise ? 'per-channel' : 'per-tensor',
    ...(channelwise ? { axis } : {}),
    scales: params.scale,
    zeroPoints: params.zeroPoint,
    input,
  };
}

/** The activation input a bias is added to: TRANSPOSE_CONV takes (output_shape, weights, input, bias). */
export function biasActivationInput(builtin: BuiltinOperator, inputs: number[]): number {
  return builtin === BuiltinOperator.TRANSPOSE_CONV ? inputs[2] : inputs[0];
}

export function planBias(graph: ModelGraph, s: number, bias: number, input: number, inputScale: number, weights: WeightPlan, bits: ActivationBits): BiasPlan {
  const scales = weights.scales.map((w) => inputScale * w);
  return {
    tensorIndex: bias,
    name: graph.subgraphs[s].tensors[bias].name,
    role: 'bias',
    dtype: bits === 8 ? 'int32' : 'int64',
    bits: bits === 8 ? 32 : 64,
    granularity: scales.length > 1 ? 'per-channel' : 'per-tensor',
    ...(scales.length > 1 ? { axis: 0 } : {}),
    scales,
    zeroPoints: scales.map(() => 0),
    input,
    inputScale,
  };
}
