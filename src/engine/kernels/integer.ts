/**
 * Integer-exact simulation of the multiply-accumulate ops (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED) when the executor simulates a quantized graph.
 *
 * Computing on dequantized reals gives the right answer up to float32 rounding, and that is enough
 * to flip an output one step whenever the exact value lies within ~1e-5 of a rounding boundary; a
 * handful of flips per layer then cascade through a deep network (MobileNetV1: 1.6% top-1
 * disagreements with LiteRT). So, like XNNPACK's "fp32" requantization, this computes
 *   acc = sum (q_x - z_x) (q_w - z_w) + q_bias          (integers, exact in float32 below 2^24)
 *   q_y = round_half_even(float32(acc) * float32(s_x * s_w[c] / s_y)) + z_y
 * and returns s_y * (q_y - z_y); the executor then applies the fused activation and clamps
 * (fake-quantizing a value already on the grid changes nothing but the clamp).
 */
import * as tf from '@tensorflow/tfjs-core';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import type { Tensor } from '../../tflite/graph';
import type { KernelArgs } from '../kernel';

const INTEGER_TYPES = new Set([TensorType.INT8, TensorType.UINT8]);

function quantized(t: Tensor | null | undefined): t is Tensor {
  return !!t && INTEGER_TYPES.has(t.type) && !!t.quantization?.scale?.length;
}

export interface IntegerMac {
  /** The input as integers q - z. */
  input: tf.Tensor;
  /** The weights as integers q - z (same layout as in the file). */
  weights: tf.Tensor;
  /** The bias as integers (int32 units of s_x * s_w), or null. */
  bias: tf.Tensor | null;
  /** Turns the integer accumulator (output channels last) into the real output. */
  requantize(acc: tf.Tensor): tf.Tensor;
}

/** Per-channel values along `axis` of `like`, shaped to broadcast against it. */
function alongAxis(values: ArrayLike<number>, rank: number, axis: number): tf.Tensor {
  if (values.length === 1) return tf.scalar(values[0]);
  return tf.tensor(Float32Array.from(values), Array.from({ length: rank }, (_, i) => (i === axis ? values.length : 1)));
}

/**
 * The integer form of a quantized MAC op's operands (inputs 0, 1, 2 = input, weights, bias), or
 * null when the op is not an int8/uint8 op with per-tensor input and output (then compute in reals).
 * `outputChannelAxis` is the weights' dimension that indexes output channels.
 */
export function integerMac(args: KernelArgs, outputChannelAxis: number): IntegerMac | null {
  if (!args.simulateQuantization) return null;
  const [xT, wT, bT] = args.inputTensors;
  const yT = args.outputTensors[0];
  if (!quantized(xT) || !quantized(wT) || !quantized(yT)) return null;
  if (xT.quantization!.scale!.length !== 1 || yT.quantization!.scale!.length !== 1) return null;
  const [x, w, b] = args.inputs;
  const sx = xT.quantization!.scale![0];
  const sy = yT.quantization!.scale![0];
  const sw = wT.quantization!.scale!;
  if (sw.length !== 1 && wT.quantization!.quantizedDimension !== outputChannelAxis) return null;
  const input = tf.round(tf.div(x!, sx));
  const weights = tf.round(tf.div(w!, alongAxis(sw, w!.rank, outputChannelAxis)));
  let bias: tf.Tensor | null = null;
  if (b && bT?.quantization?.scale?.length) bias = tf.round(tf.div(b, alongAxis(bT.quantization.scale, 1, 0)));
  else if (b) bias = tf.round(tf.div(b, alongAxis(sw.map((s) => Math.fround(sx * s)), 1, 0)));
  const multipliers = Float32Array.from(sw, (s) => Math.fround(Math.fround(sx * s) / sy));
  return {
    input,
    weights,
    bias,
    requantize: (acc) => tf.mul(tf.round(tf.mul(acc, alongAxis(multipliers, acc.rank, acc.rank - 1))), sy),
  };
}
