/**
 * Quantized copies of float constants: weights (int8 or packed int4, symmetric; round-weights.ts), biases (int32 / int64, with the
 * weights' rounding shift added back when calibration gave input channel means: bias-correction.ts),
 * and constant activation inputs (e.g. the other operand of an ADD). Each copy is cached by source
 * buffer and parameters, so a constant shared by several ops stays one tensor in the result.
 */
import { newTensor } from '../../tflite/edit';
import type { Quantization, Tensor } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { correctBias, dequantizedWeights } from './bias-correction';
import { constantAsFloat32 } from './fold-dequantize';
import { packInt4 } from './int4';
import { bytesOf, quantizeBias, quantizeInt16, quantizeInt8, type ActivationBits, type QuantParams } from './params';
import type { OpPlan, TensorPlan, WeightPlan } from './plan-types';
import { biasActivationInput } from './plan-weights';
import { rangeKey } from './ranges';
import { roundWeights, weightParamsOf } from './round-weights';
import { quantizationOf, TENSOR_TYPES, type SubgraphRewrite } from './rewrite-context';

export interface ConstantOptions {
  /** Per-channel means of float activations by rangeKey, for bias correction. */
  channelMeans?: Map<string, Float64Array>;
  /** The weights before pruning / clustering changed them, by tensor name (see IntegerOptions). */
  referenceWeights?: Map<string, Float32Array>;
  /** Integers for the planned scales from rounding optimization, by rangeKey of the weight tensor; nearest rounding elsewhere. */
  roundedWeights?: Map<string, Int8Array>;
  /** Per-channel amounts added to an op's float bias, by op index of subgraph 0 (output-bias.ts). */
  biasShifts?: Map<number, Float64Array>;
}

/** The weights as they were meant to be, and as the int8 model computes with them. */
export interface WeightsUsed {
  values: Float32Array;
  rounded: Float32Array;
  shape: number[];
}

const paramsOf = (plan: TensorPlan): QuantParams => ({ scale: plan.scales, zeroPoint: plan.zeroPoints, axis: plan.axis ?? 0 });

function cachedConstant(rw: SubgraphRewrite, t: number, kind: string, make: () => { type: Tensor['type']; quantization: Quantization; data: Uint8Array }): number {
  const key = `${rw.subgraph.tensors[t].buffer}:${kind}`;
  const cached = rw.constants.get(key);
  if (cached !== undefined) return cached;
  const { type, quantization, data } = make();
  const source = rw.subgraph.tensors[t];
  const buffer = rw.addBuffer(data);
  const index = rw.addTensor({ ...newTensor({ name: source.name, type, shape: [...source.shape] }), quantization, hasRank: source.hasRank, buffer });
  rw.constants.set(key, index);
  return index;
}

export function weightConstant(rw: SubgraphRewrite, plan: WeightPlan, options: ConstantOptions): { tensor: number; used: WeightsUsed } {
  const w = plan.tensorIndex;
  const values = constantAsFloat32(rw.graph, rw.plan.index, w);
  const shape = rw.subgraph.tensors[w].shape;
  const rounded = options.roundedWeights?.get(rangeKey(rw.plan.index, w));
  const quantized = rounded && rounded.length === values.length ? rounded : roundWeights(values, shape, plan);
  const reference = options.referenceWeights?.get(rw.subgraph.tensors[w].name);
  const used = { values: reference && reference.length === values.length ? reference : values, rounded: dequantizedWeights(quantized, shape, weightParamsOf(plan)), shape };
  // int4 is packed two per byte; its key differs so an int8 and an int4 copy of one buffer stay apart.
  const int4 = plan.dtype === 'int4';
  const tensor = cachedConstant(rw, w, `w:${plan.axis ?? 0}:${plan.granularity}${int4 ? ':int4' : ''}`, () => ({
    type: TENSOR_TYPES[plan.dtype],
    quantization: quantizationOf(plan),
    data: int4 ? packInt4(quantized) : bytesOf(quantized),
  }));
  return { tensor, used };
}

export function biasConstant(rw: SubgraphRewrite, op: OpPlan, used: WeightsUsed | undefined, options: ConstantOptions): number {
  const plan = op.bias!;
  const t = plan.tensorIndex;
  const s = rw.plan.index;
  const operator = rw.subgraph.operators[op.opIndex];
  const builtin = builtinCodeOf(rw.graph.operatorCodes[operator.opcodeIndex]);
  const weightScales = op.weights!.scales;
  const bits = plan.bits as 32 | 64;
  let bias = constantAsFloat32(rw.graph, s, t);
  const means = options.channelMeans?.get(rangeKey(s, biasActivationInput(builtin, operator.inputs)));
  let corrected = false;
  if (means && used) {
    const better = correctBias(builtin, used.values, used.rounded, used.shape, bias, means);
    if (better) {
      bias = better;
      corrected = true;
      rw.correctedBiases++;
    }
  }
  const shift = s === 0 ? options.biasShifts?.get(op.opIndex) : undefined;
  if (shift && shift.length === bias.length) {
    bias = bias.map((b, c) => b + shift[c]);
    corrected = true;
  }
  // A corrected bias belongs to its op alone: another op sharing the float bias has other weights.
  return cachedConstant(rw, t, `b:${plan.inputScale}:${weightScales.join(',')}:${bits}:${corrected ? op.opIndex : ''}`, () => {
    const { data, params } = quantizeBias(bias, plan.inputScale, weightScales, bits);
    return { type: TENSOR_TYPES[plan.dtype], quantization: quantizationOf({ scales: params.scale, zeroPoints: params.zeroPoint }), data: bytesOf(data) };
  });
}

/** A constant read as an activation (e.g. an ADD operand): quantized with its tensor's activation params. */
export function activationConstant(rw: SubgraphRewrite, t: number, bits: ActivationBits): number {
  const plan = rw.activation(t, bits);
  return cachedConstant(rw, t, `act:${plan.scales[0]}:${plan.zeroPoints[0]}:${plan.bits}`, () => {
    const values = constantAsFloat32(rw.graph, rw.plan.index, t);
    const shape = rw.subgraph.tensors[t].shape;
    const params = paramsOf(plan);
    const data = plan.dtype === 'int8' ? bytesOf(quantizeInt8(values, shape, params)) : bytesOf(quantizeInt16(values, shape, params));
    return { type: TENSOR_TYPES[plan.dtype], quantization: quantizationOf(plan), data };
  });
}
