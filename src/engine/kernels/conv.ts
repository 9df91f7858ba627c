/** CONV_2D and DEPTHWISE_CONV_2D: TFLite's OHWI / 1HW(I*M) filters become tfjs' HWIO / HWIM. */
import * as tf from '@tensorflow/tfjs-core';
import { Padding } from '../../tflite/schema/generated/tflite_generated';
import type { Kernel, KernelArgs, KernelTable } from '../kernel';

export function paddingOf(padding: Padding | undefined): 'same' | 'valid' {
  return padding === Padding.VALID ? 'valid' : 'same';
}

function withBias(args: KernelArgs, y: tf.Tensor): tf.Tensor {
  const bias = args.inputs[2];
  return bias ? tf.add(y, bias) : y;
}

const conv2d: Kernel = (args) => {
  const [x, filter] = args.inputs as tf.Tensor[];
  const o = args.options ?? {};
  const hwio = tf.transpose(filter, [1, 2, 3, 0]) as tf.Tensor4D;
  const y = tf.conv2d(x as tf.Tensor4D, hwio, [o.strideH || 1, o.strideW || 1], paddingOf(o.padding), 'NHWC', [o.dilationHFactor || 1, o.dilationWFactor || 1]);
  return withBias(args, y);
};

const depthwiseConv2d: Kernel = (args) => {
  const [x, filter] = args.inputs as tf.Tensor[];
  const o = args.options ?? {};
  const inChannels = x.shape[3]!;
  const [, h, w, total] = filter.shape as number[];
  const hwim = tf.reshape(filter, [h, w, inChannels, total / inChannels]) as tf.Tensor4D;
  const y = tf.depthwiseConv2d(x as tf.Tensor4D, hwim, [o.strideH || 1, o.strideW || 1], paddingOf(o.padding), 'NHWC', [o.dilationHFactor || 1, o.dilationWFactor || 1]);
  return withBias(args, y);
};

export const convKernels: KernelTable = {
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
};
