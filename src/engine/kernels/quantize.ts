/**
 * QUANTIZE and DEQUANTIZE. Values in the engine are already real numbers, so both pass the value on;
 * the executor then fake-quantizes the output when it is an integer tensor (QUANTIZE, requantize).
 */
import type { Kernel, KernelTable } from '../kernel';

const passThrough: Kernel = (args) => args.inputs[0]!;

export const quantizeKernels: KernelTable = {
  QUANTIZE: passThrough,
  DEQUANTIZE: passThrough,
};
