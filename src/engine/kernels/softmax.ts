/** SOFTMAX over the last dimension, with TFLite's beta, and LOG_SOFTMAX. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

const softmax: Kernel = (args) => {
  const beta: number = args.options?.beta ?? 1;
  const x = args.inputs[0]!;
  return tf.softmax(beta === 1 ? x : tf.mul(x, beta));
};

export const softmaxKernels: KernelTable = {
  SOFTMAX: softmax,
  LOG_SOFTMAX: (args) => tf.logSoftmax(args.inputs[0]!),
};
