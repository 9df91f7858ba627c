/** CONCATENATION, PACK, UNPACK, TILE and BROADCAST_TO. */
import * as tf from '@tensorflow/tfjs-core';
import { constantInts, type Kernel, type KernelTable } from '../kernel';

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

const concatenation: Kernel = (args) => {
  const xs = args.inputs as tf.Tensor[];
  return tf.concat(xs, normalizeAxis(args.options?.axis ?? 0, xs[0].rank));
};

const pack: Kernel = (args) => {
  const xs = args.inputs as tf.Tensor[];
  return tf.stack(xs, normalizeAxis(args.options?.axis ?? 0, xs[0].rank + 1));
};

const unpack: Kernel = (args) => {
  const x = args.inputs[0]!;
  return tf.unstack(x, normalizeAxis(args.options?.axis ?? 0, x.rank));
};

const tile: Kernel = (args) => tf.tile(args.inputs[0]!, constantInts(args, 1, 'multiples'));

const broadcastTo: Kernel = (args) => {
  const shape = constantInts(args, 1, 'shape');
  if (args.batched) shape[0] = args.inputs[0]!.shape[0];
  return tf.broadcastTo(args.inputs[0]!, shape);
};

export const concatKernels: KernelTable = {
  CONCATENATION: concatenation,
  PACK: pack,
  UNPACK: unpack,
  TILE: tile,
  BROADCAST_TO: broadcastTo,
};
