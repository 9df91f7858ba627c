/** BATCH_MATMUL with adj_x / adj_y, broadcasting the batch dimensions as TFLite does. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

const batchMatMul: Kernel = (args) => {
  const [a, b] = args.inputs as tf.Tensor[];
  return tf.matMul(a, b, !!args.options?.adjX, !!args.options?.adjY);
};

export const matmulKernels: KernelTable = { BATCH_MATMUL: batchMatMul };
