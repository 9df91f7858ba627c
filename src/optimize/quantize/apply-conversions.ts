/**
 * QUANTIZE / DEQUANTIZE at float/integer boundaries. A tensor keeps the type its producer writes; a
 * consumer on the other side of the boundary reads a twin, made once per tensor and converted right
 * after the producer, so every consumer of one tensor shares one conversion.
 */
import { newTensor } from '../../tflite/edit';
import { BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import type { ActivationBits } from './params';
import { quantizationOf, TENSOR_TYPES, type SubgraphRewrite } from './rewrite-context';

/**
 * A version of activation tensor t at `bits` for quantized consumers of that width: t itself when it
 * is written at that width, else a twin: QUANTIZE'd from float, or requantized int8 <-> int16 from
 * the other width (LiteRT.js runs both directions, mixed-int16.test.ts) on the same calibrated range.
 */
export function integerActivation(rw: SubgraphRewrite, t: number, bits: ActivationBits): number {
  const home = rw.homeBits[t];
  if (home === bits) return t;
  const twins = rw.integerTwins;
  const key = `${t}:${bits}`;
  const existing = twins.get(key);
  if (existing !== undefined) return existing;
  const source = rw.subgraph.tensors[t];
  const plan = rw.activation(t, bits);
  const twin = rw.addTensor(
    newTensor({
      name: `${source.name}_${plan.dtype}`,
      type: TENSOR_TYPES[plan.dtype],
      shape: [...source.shape],
      shapeSignature: source.shapeSignature ? [...source.shapeSignature] : null,
      quantization: quantizationOf(plan),
    }),
  );
  // QUANTIZE to int16 is written as version 3 of the op, to int8 (from float or int16) as version 1.
  rw.convert(BuiltinOperator.QUANTIZE, t, twin, plan.dtype === 'int8' ? 1 : 3);
  twins.set(key, twin);
  return twin;
}

/** A float version of integer tensor t, for float consumers and float outputs. */
export function floatActivation(rw: SubgraphRewrite, t: number): number {
  if (!rw.homeBits[t]) return t;
  const twins = rw.floatTwins;
  const existing = twins.get(t);
  if (existing !== undefined) return existing;
  const source = rw.subgraph.tensors[t];
  const twin = rw.addTensor(
    newTensor({
      name: `${source.name}_float`,
      type: TensorType.FLOAT32,
      shape: [...source.shape],
      shapeSignature: source.shapeSignature ? [...source.shapeSignature] : null,
    }),
  );
  rw.convert(BuiltinOperator.DEQUANTIZE, t, twin, 2);
  twins.set(t, twin);
  return twin;
}
