/**
 * SLICE, STRIDED_SLICE, SPLIT and SPLIT_V. Begin / size / end / strides are constants in the file. A
 * slice that takes all of dimension 0 of the file's static shape takes all of it in a batched run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { constantInts, type Kernel, type KernelArgs, type KernelTable } from '../kernel';

/** Dimension 0 as the file states it for input 0. */
function staticBatch(args: KernelArgs): number | undefined {
  return args.inputTensors[0]?.shape[0];
}

const slice: Kernel = (args) => {
  const x = args.inputs[0]!;
  const begin = constantInts(args, 1, 'begin');
  const size = constantInts(args, 2, 'size');
  if (args.batched && begin[0] === 0 && (size[0] === -1 || size[0] === staticBatch(args))) size[0] = -1;
  return tf.slice(x, begin, size);
};

/**
 * Strided slices with unit strides and no ellipsis / new-axis masks (what converters emit almost
 * always) become slice + reshape, which tfjs can differentiate; the rest go to tf.stridedSlice.
 */
const stridedSlice: Kernel = (args) => {
  const x = args.inputs[0]!;
  const begin = constantInts(args, 1, 'begin');
  const end = constantInts(args, 2, 'end');
  const strides = args.inputs[3] ? constantInts(args, 3, 'strides') : begin.map(() => 1);
  const o = args.options ?? {};
  let beginMask: number = o.beginMask ?? 0;
  let endMask: number = o.endMask ?? 0;
  const shrink: number = o.shrinkAxisMask ?? 0;
  const batch = staticBatch(args);
  if (args.batched && begin.length > 0 && strides[0] === 1 && !(shrink & 1) && ((beginMask & 1) || begin[0] === 0) && ((endMask & 1) || end[0] === batch)) {
    beginMask |= 1;
    endMask |= 1;
  }
  if (o.ellipsisMask || o.newAxisMask || strides.some((s) => s !== 1)) {
    return tf.stridedSlice(x, begin, end, strides, beginMask, endMask, o.ellipsisMask ?? 0, o.newAxisMask ?? 0, shrink);
  }
  const starts: number[] = [];
  const sizes: number[] = [];
  const outShape: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d];
    if (d >= begin.length) {
      starts.push(0);
      sizes.push(n);
      outShape.push(n);
      continue;
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const b = beginMask & (1 << d) ? 0 : clamp(begin[d]);
    if (shrink & (1 << d)) {
      starts.push(b);
      sizes.push(1);
      continue;
    }
    const e = endMask & (1 << d) ? n : clamp(end[d]);
    starts.push(b);
    sizes.push(Math.max(e - b, 0));
    outShape.push(Math.max(e - b, 0));
  }
  return tf.reshape(tf.slice(x, starts, sizes), outShape);
};

const split: Kernel = (args) => {
  const x = args.inputs[1]!;
  const axis = constantInts(args, 0, 'axis')[0];
  return tf.split(x, args.options?.numSplits ?? args.outputTensors.length, axis < 0 ? axis + x.rank : axis);
};

const splitV: Kernel = (args) => {
  const x = args.inputs[0]!;
  const sizes = constantInts(args, 1, 'size_splits');
  const axis = constantInts(args, 2, 'axis')[0];
  return tf.split(x, sizes, axis < 0 ? axis + x.rank : axis);
};

export const sliceKernels: KernelTable = {
  SLICE: slice,
  STRIDED_SLICE: stridedSlice,
  SPLIT: split,
  SPLIT_V: splitV,
};
