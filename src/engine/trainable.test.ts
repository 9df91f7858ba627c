/**
 * A weight with its own rate (value = variable * rate) reads back as the weight it was made from,
 * and one Adam update moves each element by the learning rate times its rate, whatever the
 * gradient's size (Adam's first step is lr * sign(g)).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeEngine } from './backend-node';
import { trainableWeight } from './trainable';

beforeAll(async () => {
  await initNodeEngine();
});

describe('trainableWeight with a rate', () => {
  it('reads back the initial values and moves each element by lr x its rate on the first Adam step', async () => {
    const values = Float32Array.from([0.5, -0.25, 2, 0.125, -1, 3]);
    // One rate per row (axis 0): 1 for the first, 10 for the second; per element, for the check below.
    const w = trainableWeight({ tensorIndex: 7, name: 'w', shape: [2, 3], values, axis: 0, role: 'weight', rate: { axis: 0, values: Float32Array.from([1, 10]) } });
    const rate = [1, 1, 1, 10, 10, 10];
    try {
      const before = await w.read();
      before.forEach((v, i) => expect(v).toBeCloseTo(values[i], 6));
      // Gradients of very different sizes and signs: Adam's first step ignores the size.
      const g = tf.tensor([[3, -0.001, 50], [-2, 0.5, -7]]);
      const optimizer = tf.train.adam(0.01);
      optimizer.minimize(() => tf.sum(tf.mul(w.value(), g)) as tf.Scalar, false, [w.variable]);
      const after = await w.read();
      const signs = [1, -1, 1, -1, 1, -1];
      after.forEach((v, i) => expect(v - values[i]).toBeCloseTo(-0.01 * rate[i] * signs[i], 4));
      optimizer.dispose();
      g.dispose();
    } finally {
      w.dispose();
    }
  });
});
