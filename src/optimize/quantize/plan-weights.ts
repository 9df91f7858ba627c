/**
 * Weight and bias parameters of one quantized op, for the plan. Weights are symmetric (zero point 0),
 * per output channel where the op allows it and the recipe asks for it (FULLY_CONNECTED only when it
 * pays, see perChannelPays), unless the caller's hook knows better (clustered weights); the bias sits
 * at input_scale * weight_scale[c], int32 (int64 with int16 activations).
 */
import type { ModelGraph } from '../../tflite/graph';
import { BuiltinOperator } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32 } from './fold-dequantize';
import { perChannelPays, symmetricWeightParams, type ActivationBits, type WeightParamsHook } from './params';
import type { BiasPlan, WeightPlan } from './plan-types';
import type { OpRule } from './rules';

/** Weight bits of every quantized op today; the plan carries them per op so int4 can go there. */
export const WEIGHT_BITS = 8;

export function planWeights(
  graph: ModelGraph,
  s: number,
  builtin: BuiltinOperator,
  inputs: number[],
  weights: NonNullable<OpRule['weights']>,
  options: { perChannel: boolean; weightParams?: WeightParamsHook },
): WeightPlan {
  const w = inputs[weights.input];
  const { axis } = weights;
  const values = constantAsFloat32(graph, s, w);
  const shape = graph.subgraphs[s].tensors[w].shape;
  const perChannel = weights.perChannel && options.perChannel && (builtin !== BuiltinOperator.FULLY_CONNECTED || perChannelPays(values, shape, axis));
  const custom = options.weightParams?.(values, shape, axis, perChannel) ?? null;
  const params = custom ?? symmetricWeightParams(values, shape, axis, perChannel);
  // A hook may answer per-tensor to a per-channel request (clusters shared by the whole tensor).
  const channelwise = custom ? params.scale.length > 1 : perChannel;
  return {
    tensorIndex: w,
    name: graph.subgraphs[s].tensors[w].name,
    role: 'weight',
    dtype: 'int8',
    bits: WEIGHT_BITS,
    granularity: channelwise ? 'per-channel' : 'per-tensor',
    ...(channelwise ? { axis } : {}),
    scales: params.scale,
    zeroPoints: params.zeroPoint,
    input: weights.input,
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
