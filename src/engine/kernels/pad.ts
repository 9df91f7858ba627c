/** PAD, PADV2 (constant value) and MIRROR_PAD. Paddings are a constant [rank, 2] tensor. */
import * as tf from '@tensorflow/tfjs-core';
import { MirrorPadMode } from '../../tflite/schema/generated/tflite_generated';
import { constantInts, type Kernel, type KernelArgs, type KernelTable } from '../kernel';

function paddingsOf(args: KernelArgs): [number, number][] {
  const flat = constantInts(args, 1, 'paddings');
  const pairs: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs;
}

const pad: Kernel = (args) => {
  const value = args.inputs[2] ? (args.constant(2)?.values[0] ?? 0) : 0;
  return tf.pad(args.inputs[0]!, paddingsOf(args), Number(value));
};

const mirrorPad: Kernel = (args) => {
  const mode = args.options?.mode === MirrorPadMode.SYMMETRIC ? 'symmetric' : 'reflect';
  return tf.mirrorPad(args.inputs[0]!, paddingsOf(args), mode);
};

export const padKernels: KernelTable = {
  PAD: pad,
  PADV2: pad,
  MIRROR_PAD: mirrorPad,
};
