import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeEngine } from './backend-node';
import { registerConvGradients, restoreTfjsConvGradients } from './conv-gradients';

/** Gradients on the WASM backend (our replacements) vs tfjs' reference gradients on the CPU backend. */
async function gradients(backend: 'cpu' | 'wasm', kind: 'conv' | 'depthwise', xs: Float32Array, ws: Float32Array, xShape: number[], wShape: number[], strides: number, pad: 'same' | 'valid', dilation = 1) {
  await tf.setBackend(backend);
  const x = tf.tensor4d(xs, xShape as [number, number, number, number]);
  const w = tf.tensor4d(ws, wShape as [number, number, number, number]);
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    const y = kind === 'conv' ? tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad, 'NHWC', dilation) : tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad, 'NHWC', dilation);
    return tf.sum(tf.mul(y, tf.sin(y))); // a loss with a non-uniform dy
  };
  const [gx, gw] = tf.grads(f)([x, w]);
  const out = [await gx.data(), await gw.data()] as Float32Array[];
  tf.dispose([x, w, gx, gw]);
  return out;
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return err / ref;
}

describe('convolution gradients on WASM', () => {
  beforeAll(async () => {
    await initNodeEngine();
  });
  const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const cases: [kind: 'conv' | 'depthwise', xShape: number[], wShape: number[], strides: number, pad: 'same' | 'valid', dilation?: number][] = [
    ['conv', [2, 6, 5, 4], [1, 1, 4, 3], 1, 'same'],
    ['depthwise', [2, 7, 6, 3], [3, 3, 3, 2], 1, 'same'],

    ['conv', [2, 7, 6, 3], [3, 3, 3, 4], 1, 'same'],
    ['conv', [2, 9, 8, 3], [3, 3, 3, 5], 2, 'same'],
    ['conv', [1, 8, 8, 2], [1, 1, 2, 3], 2, 'valid'],
    ['conv', [1, 9, 7, 2], [3, 2, 2, 3], 2, 'valid'],
    ['depthwise', [2, 7, 6, 3], [3, 3, 3, 1], 1, 'same'],
    ['depthwise', [2, 9, 8, 4], [3, 3, 4, 1], 2, 'same'],
    ['depthwise', [2, 8, 8, 2], [3, 3, 2, 2], 2, 'same'],
    ['depthwise', [1, 9, 7, 3], [3, 3, 3, 1], 2, 'valid'],
  ];
  for (const [kind, xShape, wShape, strides, pad, dilation = 1] of cases) {
    it(`${kind} x${xShape.join('x')} w${wShape.join('x')} stride ${strides} ${pad}${dilation > 1 ? ` dilation ${dilation}` : ''}`, async () => {
      const xs = random(xShape.reduce((a, b) => a * b), 1);
      const ws = random(wShape.reduce((a, b) => a * b), 2);
      restoreTfjsConvGradients(); // tfjs' own gradients, which only the CPU backend can run
      const reference = await gradients('cpu', kind, xs, ws, xShape, wShape, strides, pad, dilation);
      registerConvGradients();
      const ours = await gradients('wasm', kind, xs, ws, xShape, wShape, strides, pad, dilation);
      expect(maxRelative(ours[0], reference[0])).toBeLessThan(1e-5);
      expect(maxRelative(ours[1], reference[1])).toBeLessThan(1e-5);
    });
  }
});
