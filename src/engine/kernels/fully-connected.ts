/**
 * FULLY_CONNECTED: y = x W^T + b over the last dimension, weights stored [units, inputs].
 *
 * A weight that is a constant of the file is transposed once to [inputs, units] and kept with the
 * executor (KernelArgs.cached): tfjs WASM's matMul with transposeB is 6-12x slower than on the
 * transposed weights (7.5 vs 0.7 ms on audio_event's 32x512 by 512x257 layers). Trainable weights keep
 * matMul(x, W, transposeB): the other summation order moves a QAT run's results by ~1e-3 (int8
 * rounding amplifies float rounding), past training-unchanged.test.ts' tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';
import { integerMac } from './integer';

/** `transposed` is `weights` as [inputs, units] when kept, else null (then matMul transposes). */
function dense(x: tf.Tensor, weights: tf.Tensor, transposed: tf.Tensor | null, bias: tf.Tensor | null): tf.Tensor {
  const rows = tf.reshape(x, [-1, weights.shape[1]!]);
  const y = transposed ? tf.matMul(rows, transposed) : tf.matMul(rows, weights, false, true);
  return bias ? tf.add(y, bias) : y;
}

const fullyConnected: Kernel = (args) => {
  const x = args.inputs[0]!;
  const units = args.inputs[1]!.shape[0]!;
  // Simulating an int8/uint8 FC: exact integer accumulation and XNNPACK's requantization.
  const mac = integerMac(args, 0);
  let y: tf.Tensor;
  if (mac) {
    // Integer products and sums below 2^24 are exact in float32: the order does not matter here.
    const transposed = args.cached?.(1, 'integer-io', () => tf.transpose(mac.weights)) ?? null;
    y = mac.requantize(dense(mac.input, mac.weights, transposed, mac.bias));
  } else {
    const transposed = args.cached?.(1, 'io', (w) => tf.transpose(w)) ?? null;
    y = dense(x, args.inputs[1]!, transposed, args.inputs[2] ?? null);
  }
  if (args.options?.keepNumDims) y = tf.reshape(y, [...x.shape.slice(0, -1), units]);
  return y;
};

export const fullyConnectedKernels: KernelTable = { FULLY_CONNECTED: fullyConnected };
