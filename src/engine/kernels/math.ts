/** Elementwise unary math: SQRT, RSQRT, LOG, EXP, SIN, COS, ABS, NEG, SQUARE, FLOOR, CEIL, ROUND, SIGN. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

function unary(fn: (x: tf.Tensor) => tf.Tensor): Kernel {
  return (args) => fn(args.inputs[0]!);
}

/** TFLite's ROUND rounds half to even, like tf.round. */
export const mathKernels: KernelTable = {
  SQRT: unary(tf.sqrt),
  RSQRT: unary(tf.rsqrt),
  LOG: unary(tf.log),
  EXP: unary(tf.exp),
  SIN: unary(tf.sin),
  COS: unary(tf.cos),
  ABS: unary(tf.abs),
  NEG: unary(tf.neg),
  SQUARE: unary(tf.square),
  FLOOR: unary(tf.floor),
  CEIL: unary(tf.ceil),
  ROUND: unary(tf.round),
  SIGN: unary(tf.sign),
};
