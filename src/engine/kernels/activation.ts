/** Standalone activations: RELU family, LOGISTIC, TANH, HARD_SWISH, PRELU, LEAKY_RELU, ELU, GELU. */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

function unary(fn: (x: tf.Tensor) => tf.Tensor): Kernel {
  return (args) => fn(args.inputs[0]!);
}

/** x * relu6(x + 3) / 6, as TFLite defines it. */
const hardSwish = (x: tf.Tensor) => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6);

/** 0.5 x (1 + erf(x / sqrt 2)), or TFLite's tanh approximation when `approximate`. */
function gelu(x: tf.Tensor, approximate: boolean): tf.Tensor {
  if (approximate) {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  }
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
}

export const activationKernels: KernelTable = {
  RELU: unary(tf.relu),
  RELU6: unary(tf.relu6),
  RELU_N1_TO_1: unary((x) => tf.clipByValue(x, -1, 1)),
  RELU_0_TO_1: unary((x) => tf.clipByValue(x, 0, 1)),
  LOGISTIC: unary(tf.sigmoid),
  TANH: unary(tf.tanh),
  ELU: unary(tf.elu),
  HARD_SWISH: unary(hardSwish),
  LEAKY_RELU: (args) => tf.leakyRelu(args.inputs[0]!, args.options?.alpha ?? 0.2),
  // TFLite broadcasts alpha against x (typically [1, 1, C] or [C]).
  PRELU: (args) => {
    const [x, alpha] = args.inputs as tf.Tensor[];
    return tf.where(tf.greaterEqual(x, 0), x, tf.mul(alpha, x));
  },
  GELU: (args) => gelu(args.inputs[0]!, !!args.options?.approximate),
};
