/** Comparisons, logical ops, SELECT / SELECT_V2 and CAST. */
import * as tf from '@tensorflow/tfjs-core';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import type { Kernel, KernelTable } from '../kernel';

function binary(fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Kernel {
  return (args) => fn(args.inputs[0]!, args.inputs[1]!);
}

/** The tfjs dtype that holds a TFLite tensor type (int64 is narrowed to int32). */
export function engineDtype(type: TensorType): tf.DataType {
  switch (type) {
    case TensorType.BOOL:
      return 'bool';
    case TensorType.INT32:
    case TensorType.INT64:
    case TensorType.INT16:
    case TensorType.UINT16:
    case TensorType.UINT32:
    case TensorType.UINT64:
      return 'int32';
    default:
      // Float types, and int8/uint8 (which the engine either carries as real numbers or as small ints).
      return 'float32';
  }
}

/** SELECT (v1) takes a rank-1 condition over dimension 0; SELECT_V2 broadcasts. */
const select: Kernel = (args) => {
  const [condition, a, b] = args.inputs as tf.Tensor[];
  const cond = condition.rank === 1 && a.rank > 1 && condition.shape[0] === a.shape[0] ? tf.reshape(condition, [condition.shape[0], ...a.shape.slice(1).map(() => 1)]) : condition;
  return tf.where(tf.cast(cond, 'bool'), a, b);
};

const cast: Kernel = (args) => {
  const x = args.inputs[0]!;
  const to = engineDtype(args.outputTensors[0].type);
  if (to === x.dtype) return tf.clone(x);
  // TFLite truncates floats toward zero; tfjs' float->int32 cast does too.
  return tf.cast(x, to);
};

export const logicKernels: KernelTable = {
  LESS: binary(tf.less),
  LESS_EQUAL: binary(tf.lessEqual),
  GREATER: binary(tf.greater),
  GREATER_EQUAL: binary(tf.greaterEqual),
  EQUAL: binary(tf.equal),
  NOT_EQUAL: binary(tf.notEqual),
  LOGICAL_AND: binary(tf.logicalAnd),
  LOGICAL_OR: binary(tf.logicalOr),
  LOGICAL_NOT: (args) => tf.logicalNot(args.inputs[0]!),
  SELECT: select,
  SELECT_V2: select,
  CAST: cast,
};
