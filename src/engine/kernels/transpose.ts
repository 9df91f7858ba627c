/** TRANSPOSE (constant permutation), SPACE_TO_DEPTH and DEPTH_TO_SPACE (NHWC). */
import * as tf from '@tensorflow/tfjs-core';
import { constantInts, type Kernel, type KernelTable } from '../kernel';

const transpose: Kernel = (args) => tf.transpose(args.inputs[0]!, constantInts(args, 1, 'perm'));

/** NHWC space-to-depth as reshape + transpose (tfjs has only depthToSpace). */
function spaceToDepth(x: tf.Tensor, block: number): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const blocks = tf.reshape(x, [n, h / block, block, w / block, block, c]);
  return tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]), [n, h / block, w / block, block * block * c]);
}

export const transposeKernels: KernelTable = {
  TRANSPOSE: transpose,
  SPACE_TO_DEPTH: (args) => spaceToDepth(args.inputs[0]!, args.options?.blockSize ?? 2),
  DEPTH_TO_SPACE: (args) => tf.depthToSpace(args.inputs[0] as tf.Tensor4D, args.options?.blockSize ?? 2),
};
