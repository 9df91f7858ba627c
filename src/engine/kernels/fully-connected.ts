/** FULLY_CONNECTED: y = x W^T + b over the last dimension, weights stored [units, inputs]. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';
import { integerMac } from './integer';

function dense(x: tf.Tensor, weights: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  const y = tf.matMul(tf.reshape(x, [-1, weights.shape[1]!]), weights, false, true);
  return bias ? tf.add(y, bias) : y;
}

const fullyConnected: Kernel = (args) => {
  const x = args.inputs[0]!;
  const units = args.inputs[1]!.shape[0]!;
  // Simulating an int8/uint8 FC: exact integer accumulation and XNNPACK's requantization.
  const mac = integerMac(args, 0);
  let y = mac ? mac.requantize(dense(mac.input, mac.weights, mac.bias)) : dense(x, args.inputs[1]!, args.inputs[2] ?? null);
  if (args.options?.keepNumDims) y = tf.reshape(y, [...x.shape.slice(0, -1), units]);
  return y;
};

export const fullyConnectedKernels: KernelTable = { FULLY_CONNECTED: fullyConnected };
