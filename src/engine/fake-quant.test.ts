/**
 * Fake quantization against its definition computed value by value in JavaScript (float32 via
 * Math.fround): q = clamp(roundHalfEven(x / s) + z, qmin, qmax), x' = (q - z) * s, and the clipped
 * straight-through gradient, dy where lo <= x <= hi (lo = (qmin - z) * s, hi = (qmax - z) * s), else 0.
 * Values sit on and next to the range ends and on rounding ties, where a cheaper formula would slip.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeEngine } from './backend-node';
import { fakeQuantize, fakeQuantizeSte, type FakeQuantParams } from './fake-quant';

beforeAll(async () => {
  await initNodeEngine();
});

const f = Math.fround;

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function reference(x: Float32Array, p: FakeQuantParams, dy: Float32Array): { value: Float32Array; grad: Float32Array } {
  const s = f(p.scale[0]);
  const z = p.zeroPoint[0];
  const lo = f((p.qmin - z) * s);
  const hi = f((p.qmax - z) * s);
  const value = new Float32Array(x.length);
  const grad = new Float32Array(x.length);
  x.forEach((v, i) => {
    const q = Math.min(p.qmax, Math.max(p.qmin, roundHalfEven(f(v / s)) + z));
    value[i] = f((q - z) * s);
    grad[i] = v >= lo && v <= hi ? dy[i] : 0;
  });
  return { value, grad };
}

/** Random values, the range ends and their float32 neighbours, exact ties, tiny and huge values. */
function probes(p: FakeQuantParams): Float32Array {
  const s = f(p.scale[0]);
  const z = p.zeroPoint[0];
  const ends = [f((p.qmin - z) * s), f((p.qmax - z) * s)];
  const next = (v: number, dir: number) => {
    if (v === 0) return dir * 1e-45; // the smallest subnormal, either side
    const a = new Float32Array([v]);
    const bits = new Int32Array(a.buffer);
    bits[0] += v > 0 === dir > 0 ? 1 : -1;
    return a[0];
  };
  const values = [0, -0, 1e-45, -1e-45, 1e-38, 3e38, -3e38, ...ends.flatMap((e) => [e, next(e, 1), next(e, -1)])];
  for (let k = -140; k <= 140; k++) values.push(f((k + 0.5) * s), f(k * s));
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push(f((seed / 2 ** 31 - 0.5) * 300 * s));
  }
  return new Float32Array(values);
}

describe('fake quantization (per tensor) matches its definition to the bit', () => {
  const cases: [string, FakeQuantParams][] = [
    ['int8, zero point -128 (a ReLU output)', { scale: [0.0235294], zeroPoint: [-128], axis: 0, qmin: -128, qmax: 127 }],
    ['int8, zero point 13', { scale: [0.11], zeroPoint: [13], axis: 0, qmin: -128, qmax: 127 }],
    ['uint8, zero point 128', { scale: [1 / 64], zeroPoint: [128], axis: 0, qmin: 0, qmax: 255 }],
    ['int16, symmetric', { scale: [3e-4], zeroPoint: [0], axis: 0, qmin: -32768, qmax: 32767 }],
  ];
  for (const [name, p] of cases) {
    it(name, async () => {
      const x = probes(p);
      const dy = new Float32Array(x.length).map((_, i) => f(((i % 7) - 3) * 0.37));
      const want = reference(x, p, dy);
      const xt = tf.tensor1d(x);
      const simulated = fakeQuantize(xt, p);
      expect(Array.from(await simulated.data()).map((v) => v + 0)).toEqual(Array.from(want.value).map((v) => v + 0)); // -0 and 0 alike
      const variable = tf.variable(xt, true, `fq-${name}`);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(fakeQuantizeSte(variable, p), tf.tensor1d(dy))) as tf.Scalar, [variable]);
      expect(Array.from(await grads[variable.name].data()).map((g) => g + 0)).toEqual(Array.from(want.grad).map((g) => g + 0)); // +0: -0 and 0 alike
      const steValue = fakeQuantizeSte(xt, p);
      expect(Array.from(await steValue.data()).map((v) => v + 0)).toEqual(Array.from(want.value).map((v) => v + 0));
      tf.dispose([xt, variable, simulated, value, steValue, ...Object.values(grads)]);
    });
  }
});
