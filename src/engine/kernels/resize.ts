/**
 * RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR to the constant size in input 1. tfjs implements the
 * same sampling as TFLite: align_corners scales by (in - 1) / (out - 1); half_pixel_centers samples at
 * (y + 0.5) * scale - 0.5, clamped at the border.
 */
import * as tf from '@tensorflow/tfjs-core';
import { constantInts, type Kernel, type KernelArgs, type KernelTable } from '../kernel';

function sizeOf(args: KernelArgs): [number, number] {
  const c = args.constant(1);
  if (c) {
    const [h, w] = Array.from(c.values as ArrayLike<number>);
    return [h, w];
  }
  const shape = args.outputTensors[0].shape;
  if (shape.length === 4) return [shape[1], shape[2]];
  const [h, w] = constantInts(args, 1, 'size');
  return [h, w];
}

const resizeBilinear: Kernel = (args) => {
  const o = args.options ?? {};
  return tf.image.resizeBilinear(args.inputs[0] as tf.Tensor4D, sizeOf(args), !!o.alignCorners, !!o.halfPixelCenters);
};

const resizeNearest: Kernel = (args) => {
  const o = args.options ?? {};
  return tf.image.resizeNearestNeighbor(args.inputs[0] as tf.Tensor4D, sizeOf(args), !!o.alignCorners, !!o.halfPixelCenters);
};

export const resizeKernels: KernelTable = {
  RESIZE_BILINEAR: resizeBilinear,
  RESIZE_NEAREST_NEIGHBOR: resizeNearest,
};
