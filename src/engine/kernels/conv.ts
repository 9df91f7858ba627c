/**
 * CONV_2D, DEPTHWISE_CONV_2D and transposed convolutions: TFLite's OHWI / 1HW(I*M) filters become
 * tfjs' HWIO / HWIM; a transposed convolution's OHWI filter becomes tfjs' [h, w, out, in].
 */
import * as tf from '@tensorflow/tfjs-core';
import { Padding } from '../../tflite/schema/generated/tflite_generated';
import type { Kernel, KernelArgs, KernelTable } from '../kernel';
import { integerMac } from './integer';

export function paddingOf(padding: Padding | undefined): 'same' | 'valid' {
  return padding === Padding.VALID ? 'valid' : 'same';
}

function withBias(y: tf.Tensor, bias: tf.Tensor | null | undefined): tf.Tensor {
  return bias ? tf.add(y, bias) : y;
}

/** Runs `compute(input, filter, bias)` on the reals, or on the integers when simulating an int8/uint8 op. */
function macOp(args: KernelArgs, outputChannelAxis: number, compute: (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | null) => tf.Tensor): tf.Tensor {
  const mac = integerMac(args, outputChannelAxis);
  if (mac) return mac.requantize(compute(mac.input, mac.weights, mac.bias));
  return compute(args.inputs[0]!, args.inputs[1]!, args.inputs[2] ?? null);
}

const conv2d: Kernel = (args) =>
  macOp(args, 0, (x, filter, bias) => {
    const o = args.options ?? {};
    // The file's filter transposed once (KernelArgs.derived), unless it trains or is an integer form.
    const toHwio = (f: tf.Tensor) => tf.transpose(f, [1, 2, 3, 0]);
    const hwio = (filter === args.inputs[1] && args.derived ? args.derived(1, 'hwio', toHwio) : toHwio(filter)) as tf.Tensor4D;
    const y = tf.conv2d(x as tf.Tensor4D, hwio, [o.strideH || 1, o.strideW || 1], paddingOf(o.padding), 'NHWC', [o.dilationHFactor || 1, o.dilationWFactor || 1]);
    return withBias(y, bias);
  });

const depthwiseConv2d: Kernel = (args) =>
  macOp(args, 3, (x, filter, bias) => {
    const o = args.options ?? {};
    const inChannels = x.shape[3]!;
    const [, h, w, total] = filter.shape as number[];
    const hwim = tf.reshape(filter, [h, w, inChannels, total / inChannels]) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(x as tf.Tensor4D, hwim, [o.strideH || 1, o.strideW || 1], paddingOf(o.padding), 'NHWC', [o.dilationHFactor || 1, o.dilationWFactor || 1]);
    return withBias(y, bias);
  });

/**
 * The gradient of a convolution with respect to its input, whose output shape [n, h, w, c] is given.
 * SAME padding is the forward convolution's padding for that output size, as TFLite computes it.
 */
function transposedConv(x: tf.Tensor, filterOhwi: tf.Tensor, bias: tf.Tensor | null, outShape: number[], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor {
  const filter = tf.transpose(filterOhwi, [1, 2, 0, 3]) as tf.Tensor4D;
  const shape: [number, number, number, number] = [x.shape[0], outShape[1], outShape[2], outShape[3]];
  const y = tf.conv2dTranspose(x as tf.Tensor4D, filter, shape, strides, padding);
  return withBias(y, bias);
}

/** TRANSPOSE_CONV: inputs output_shape, weights (OHWI), input, optional bias. */
const transposeConv: Kernel = (args) => {
  const [, filter, x, bias] = args.inputs;
  const o = args.options ?? {};
  const c = args.constant(0);
  const outShape = c ? Array.from(c.values as ArrayLike<number>) : args.outputTensors[0].shape;
  return transposedConv(x!, filter!, bias ?? null, outShape, [o.strideH || 1, o.strideW || 1], paddingOf(o.padding));
};

/**
 * MediaPipe's custom Convolution2DTransposeBias: inputs input, weights (OHWI), bias; its custom options
 * are the raw C struct TfLiteTransposeConvParams {padding (1 SAME, 2 VALID), stride_width, stride_height}
 * as int32s. The output size is the output tensor's.
 */
const convolution2dTransposeBias: Kernel = (args) => {
  const [x, filter, bias] = args.inputs;
  const raw = args.op.customOptions;
  if (!raw || raw.length < 12) throw new Error('custom options must hold padding and strides (12 bytes)');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const [padding, strideW, strideH] = [0, 4, 8].map((at) => view.getInt32(at, true));
  return transposedConv(x!, filter!, bias ?? null, args.outputTensors[0].shape, [strideH || 1, strideW || 1], padding === 2 ? 'valid' : 'same');
};

export const convKernels: KernelTable = {
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
  TRANSPOSE_CONV: transposeConv,
  Convolution2DTransposeBias: convolution2dTransposeBias,
};
