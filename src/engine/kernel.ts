/**
 * The contract between the executor and the per-op kernels.
 *
 * A kernel turns one TFLite operator into tfjs ops on real-valued tensors. It never sees quantization
 * (the executor dequantizes constants and fake-quantizes outputs), fused activations (applied by the
 * executor from the op's options) or the graph beyond its own operator.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Operator, Tensor } from '../tflite/graph';
import type { ConstantValues } from './constants';

export interface KernelArgs {
  /** "CONV_2D", or the custom code for custom ops. */
  opName: string;
  op: Operator;
  /** The op's builtin options object (flatc object API), or null. */
  options: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- one options class per op
  /** Input values in operator order; null where the operator omits an optional input (-1). */
  inputs: (tf.Tensor | null)[];
  /** Static descriptions of the inputs and outputs as the file states them. */
  inputTensors: (Tensor | null)[];
  outputTensors: Tensor[];
  /** The values of input i when it is a constant in the file (shapes, axes, paddings...), else null. */
  constant(i: number): ConstantValues | null;
  /**
   * `make(input i)`, kept with the executor when input i is a constant of the file (a weight in the
   * layout a kernel wants, made once instead of at every run), made afresh otherwise (a trainable
   * weight, a computed operand). Optional: absent, kernels call make themselves.
   */
  derived?(i: number, key: string, make: (value: tf.Tensor) => tf.Tensor): tf.Tensor;
  /**
   * Like `derived` when input i is a constant of the file in this run, else null (a trainable weight,
   * a computed operand): for kernels whose uncached form computes differently (another layout, another
   * summation order) and should stay as it is where training reads it.
   */
  cached?(i: number, key: string, make: (value: tf.Tensor) => tf.Tensor): tf.Tensor | null;
  /**
   * True when the run's batch differs from the file's static batch (dimension 0 of the first input):
   * kernels that read static shapes (RESHAPE, SLICE sizes...) then leave dimension 0 free.
   */
  batched: boolean;
  /**
   * True when the executor simulates quantization (integer tensors fake-quantized). Kernels may then
   * compute a quantized op's integer arithmetic exactly (see kernels/integer.ts); optional, absent = false.
   */
  simulateQuantization?: boolean;
}

export type Kernel = (args: KernelArgs) => tf.Tensor | tf.Tensor[];

export type KernelTable = Readonly<Record<string, Kernel>>;

/** Integer values of a constant operand a kernel needs to know at build time (shapes, axes...). */
export function constantInts(args: KernelArgs, i: number, what: string): number[] {
  const c = args.constant(i);
  if (!c) throw new Error(`${args.opName}: ${what} (input ${i}) must be a constant in the file`);
  return Array.from(c.values as ArrayLike<number>);
}
