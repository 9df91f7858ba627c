/** FULLY_CONNECTED: y = x W^T + b over the last dimension, weights stored [units, inputs]. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

const fullyConnected: Kernel = (args) => {
  const [x, weights, bias] = args.inputs;
  const inner = weights!.shape[1]!;
  const units = weights!.shape[0]!;
  let y = tf.matMul(tf.reshape(x!, [-1, inner]), weights!, false, true);
  if (bias) y = tf.add(y, bias);
  if (args.options?.keepNumDims) y = tf.reshape(y, [...x!.shape.slice(0, -1), units]);
  return y;
};

export const fullyConnectedKernels: KernelTable = { FULLY_CONNECTED: fullyConnected };
