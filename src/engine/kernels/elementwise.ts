/** Broadcasting binary arithmetic: ADD, SUB, MUL, DIV, and friends. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

function binary(fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Kernel {
  return (args) => fn(args.inputs[0]!, args.inputs[1]!);
}

export const elementwiseKernels: KernelTable = {
  ADD: binary(tf.add),
  SUB: binary(tf.sub),
  MUL: binary(tf.mul),
  DIV: binary(tf.div),
  MAXIMUM: binary(tf.maximum),
  MINIMUM: binary(tf.minimum),
  SQUARED_DIFFERENCE: binary(tf.squaredDifference),
  POW: binary(tf.pow),
  FLOOR_DIV: binary(tf.floorDiv),
  FLOOR_MOD: binary(tf.mod),
};
