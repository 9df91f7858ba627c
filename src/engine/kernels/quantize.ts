/**
 * QUANTIZE and DEQUANTIZE. Values in the engine are already real numbers, so both pass the value on;
 * the executor then fake-quantizes the output when it is an integer tensor (QUANTIZE, requantize).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

/** A new handle on the same data, so freeing the input never frees the output. */
const passThrough: Kernel = (args) => tf.clone(args.inputs[0]!);

export const quantizeKernels: KernelTable = {
  QUANTIZE: passThrough,
  DEQUANTIZE: passThrough,
};
