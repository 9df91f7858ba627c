/**
 * RESHAPE, SQUEEZE, EXPAND_DIMS and SHAPE. RESHAPE takes the output shape the file states (it is static in every converter
 * output we have seen) and frees dimension 0 when the run is batched.
 */
import * as tf from '@tensorflow/tfjs-core';
import { constantInts, type Kernel, type KernelTable } from '../kernel';

const reshape: Kernel = (args) => {
  const x = args.inputs[0]!;
  let shape = args.outputTensors[0].shape.slice();
  if (shape.length === 0 && x.size !== 1) {
    const fromInput = args.constant(1);
    shape = fromInput ? Array.from(fromInput.values as ArrayLike<number>) : (args.options?.newShape ?? []);
  }
  if (args.batched && shape.length > 0) shape[0] = -1;
  return tf.reshape(x, shape);
};

const squeeze: Kernel = (args) => {
  const dims: number[] = args.options?.squeezeDims ?? [];
  return tf.squeeze(args.inputs[0]!, dims.length ? dims : undefined);
};

const expandDims: Kernel = (args) => {
  const x = args.inputs[0]!;
  const axis = constantInts(args, 1, 'axis')[0];
  return tf.expandDims(x, axis < 0 ? axis + x.rank + 1 : axis);
};

/** SHAPE: the run's shape (the batch may differ from the file's). */
const shape: Kernel = (args) => tf.tensor1d(args.inputs[0]!.shape, 'int32');

export const reshapeKernels: KernelTable = {
  RESHAPE: reshape,
  SQUEEZE: squeeze,
  EXPAND_DIMS: expandDims,
  SHAPE: shape,
};
