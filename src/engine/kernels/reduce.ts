/** Reductions over constant axes (MEAN, SUM, REDUCE_MAX/MIN/PROD with keep_dims) and ARG_MAX/ARG_MIN. */
import * as tf from '@tensorflow/tfjs-core';
import { constantInts, type Kernel, type KernelTable } from '../kernel';

function reducer(fn: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor): Kernel {
  return (args) => {
    const x = args.inputs[0]!;
    const axes = [...new Set(constantInts(args, 1, 'axes').map((a) => (a < 0 ? a + x.rank : a)))];
    return fn(x, axes, !!args.options?.keepDims);
  };
}

function arg(fn: (x: tf.Tensor, axis: number) => tf.Tensor): Kernel {
  return (args) => {
    const x = args.inputs[0]!;
    const axis = constantInts(args, 1, 'axis')[0];
    return fn(x, axis < 0 ? axis + x.rank : axis);
  };
}

export const reduceKernels: KernelTable = {
  MEAN: reducer(tf.mean),
  SUM: reducer(tf.sum),
  REDUCE_MAX: reducer(tf.max),
  REDUCE_MIN: reducer(tf.min),
  REDUCE_PROD: reducer(tf.prod),
  REDUCE_ANY: reducer((x, axes, keep) => tf.any(tf.cast(x, 'bool'), axes, keep)),
  ARG_MAX: arg(tf.argMax),
  ARG_MIN: arg(tf.argMin),
};
