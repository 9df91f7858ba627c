/** AVERAGE_POOL_2D / MAX_POOL_2D. Average pooling with SAME padding averages only real pixels, as TFLite does. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';
import { paddingOf } from './conv';

function pool(kind: 'avg' | 'max'): Kernel {
  return (args) => {
    const x = args.inputs[0] as tf.Tensor4D;
    const o = args.options ?? {};
    const size: [number, number] = [o.filterHeight || 1, o.filterWidth || 1];
    const strides: [number, number] = [o.strideH || 1, o.strideW || 1];
    return kind === 'avg' ? tf.avgPool(x, size, strides, paddingOf(o.padding)) : tf.maxPool(x, size, strides, paddingOf(o.padding));
  };
}

export const poolKernels: KernelTable = {
  AVERAGE_POOL_2D: pool('avg'),
  MAX_POOL_2D: pool('max'),
};
