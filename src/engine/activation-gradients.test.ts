/**
 * RELU6's gradient (activation-gradients.ts) against its definition value by value: dy where
 * 0 < x <= 6, else 0, on the edges (0, the smallest subnormals, 6 and its float32 neighbours) and
 * on random values; and the masks it is built from (float-masks.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeEngine } from './backend-node';
import { isOutside, isPositive } from './float-masks';

beforeAll(async () => {
  await initNodeEngine();
});

const below6 = new Float32Array(new Int32Array([new Int32Array(new Float32Array([6]).buffer)[0] - 1]).buffer)[0];
const above6 = new Float32Array(new Int32Array([new Int32Array(new Float32Array([6]).buffer)[0] + 1]).buffer)[0];

function probes(): Float32Array {
  const values = [0, -0, 1e-45, -1e-45, 1.2e-38, 6, below6, above6, -6, 3e38, -3e38, Infinity, -Infinity];
  let seed = 11;
  for (let i = 0; i < 3000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push((seed / 2 ** 31 - 0.3) * 12);
  }
  return new Float32Array(values);
}

describe('masks and RELU6 gradient from float kernels', () => {
  it('isPositive and isOutside are the comparisons, value by value', async () => {
    const x = probes();
    const t = tf.tensor1d(x);
    expect(Array.from(await isPositive(t).data())).toEqual(Array.from(x, (v) => (v > 0 ? 1 : 0)));
    expect(Array.from(await isOutside(t, -1.5, below6).data())).toEqual(Array.from(x, (v) => (v < -1.5 || v > below6 ? 1 : 0)));
  });

  it('RELU6 passes dy where 0 < x <= 6 and blocks it elsewhere', async () => {
    const x = probes();
    const dy = new Float32Array(x.length).map((_, i) => Math.fround(((i % 5) - 2) * 0.3 + 0.1));
    const variable = tf.variable(tf.tensor1d(x), true, 'relu6-x');
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.relu6(variable), tf.tensor1d(dy))) as tf.Scalar, [variable]);
    // + 0: a blocked negative dy gives -0 (dy * 0), as tfjs' own gradient does; -0 and 0 alike.
    expect(Array.from(await grads['relu6-x'].data(), (g) => g + 0)).toEqual(Array.from(x, (v, i) => (v > 0 && v <= 6 ? dy[i] : 0)));
    variable.dispose();
  });
});
