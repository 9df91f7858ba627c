/** L2_NORMALIZATION over the last dimension: x / max(||x||, 1e-6), TFLite's epsilon. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

const l2Normalization: Kernel = (args) => {
  const x = args.inputs[0]!;
  const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
  return tf.div(x, tf.maximum(norm, 1e-6));
};

export const normalizationKernels: KernelTable = { L2_NORMALIZATION: l2Normalization };
