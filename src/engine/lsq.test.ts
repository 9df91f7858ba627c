/**
 * LSQ weight quantization (lsq.ts): the forward value is round-and-clamp in plain arithmetic, and
 * both gradients match central finite differences of the straight-through surrogate the paper
 * differentiates (the rounding frozen at the current point, the clamp kept), times the paper's
 * gradient scale for the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random';
import { initNodeEngine } from './backend-node';
import { lsqGradientScale, lsqQuantize, lsqQuantizeActivation } from './lsq';

beforeAll(async () => {
  await initNodeEngine();
});

// A [O, kh, kw, I] weight with per-output-channel steps (axis 0), int4 range as int4.ts stores it.
const shape = [3, 2, 2, 4];
const channels = shape[0];
const inner = 16;
const qmin = -8;
const qmax = 7;
const random = seededRandom(7);
const w = Float32Array.from({ length: channels * inner }, () => (random() - 0.5) * 2);
// Steps small enough that some weights clamp (|w| up to 1 against 7 * 0.1 = 0.7).
const steps = [0.1, 0.13, 0.2];
// The loss L = sum(c * w'): its gradients are the chain rule's dL/dw' = c applied to the quantizer.
const c = Float32Array.from({ length: w.length }, () => random() - 0.5);

/** w' with the rounding of each weight frozen at `frozen` (the STE surrogate), clamped as the quantizer clamps. */
function surrogate(values: Float32Array, s: number[], frozen: Int32Array): number {
  let loss = 0;
  for (let i = 0; i < values.length; i++) {
    const ch = Math.floor(i / inner);
    const v = values[i] / s[ch];
    // Inside: s * (round(v0) + (v - v0)) has d/dv = 1 and d/ds = round(v0) - v0 at the point; clamped: s * qmin|qmax.
    const clamped = v < qmin ? qmin : v > qmax ? qmax : null;
    const wq = clamped !== null ? s[ch] * clamped : s[ch] * (frozen[i] + v - frozenV[i]);
    loss += c[i] * wq;
  }
  return loss;
}
const frozen = Int32Array.from(w, (x, i) => Math.round(x / steps[Math.floor(i / inner)]));
const frozenV = Float64Array.from(w, (x, i) => x / steps[Math.floor(i / inner)]);

describe('LSQ weight quantization', () => {
  it('quantizes to s * clamp(round(w / s), qmin, qmax) per channel', async () => {
    const out = (await lsqQuantize(tf.tensor(w, shape), tf.tensor1d(steps), { axis: 0, qmin, qmax }).data()) as Float32Array;
    let clampedCount = 0;
    for (let i = 0; i < w.length; i++) {
      const s = steps[Math.floor(i / inner)];
      const q = Math.min(qmax, Math.max(qmin, Math.round(w[i] / s)));
      if (q !== Math.round(w[i] / s)) clampedCount++;
      expect(out[i]).toBeCloseTo(s * q, 6);
    }
    expect(clampedCount).toBeGreaterThan(0); // the test reaches the clamp
  });

  it('gives the weight and step gradients of the straight-through surrogate (finite differences), the step gradient scaled by 1 / sqrt(N qmax)', async () => {
    const grads = tf.grads((x: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(lsqQuantize(x, s, { axis: 0, qmin, qmax }), tf.tensor(c, shape))));
    const [dw, ds] = grads([tf.tensor(w, shape), tf.tensor1d(steps)]);
    const dwValues = (await dw.data()) as Float32Array;
    const dsValues = (await ds.data()) as Float32Array;
    const h = 1e-4;
    const g = lsqGradientScale(inner, qmax);
    for (let ch = 0; ch < channels; ch++) {
      const up = steps.slice();
      const down = steps.slice();
      up[ch] += h;
      down[ch] -= h;
      const numeric = (surrogate(w, up, frozen) - surrogate(w, down, frozen)) / (2 * h);
      expect(dsValues[ch]).toBeCloseTo(g * numeric, 4);
    }
    for (let i = 0; i < w.length; i += 5) {
      const up = w.slice();
      const down = w.slice();
      up[i] += h;
      down[i] -= h;
      const numeric = (surrogate(up, steps, frozen) - surrogate(down, steps, frozen)) / (2 * h);
      expect(dwValues[i]).toBeCloseTo(numeric, 3);
    }
  });

  it('has one step for the whole tensor when axis is null', async () => {
    const grads = tf.grads((x: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(lsqQuantize(x, s, { axis: null, qmin, qmax }), tf.tensor(c, shape))));
    const [, ds] = grads([tf.tensor(w, shape), tf.tensor1d([0.1])]);
    const flat = [0.1, 0.1, 0.1];
    const frozenFlat = Int32Array.from(w, (x) => Math.round(x / 0.1));
    const saved = frozenV.slice();
    frozenV.set(Float64Array.from(w, (x) => x / 0.1));
    const numeric = (surrogate(w, flat.map((s) => s + 1e-4), frozenFlat) - surrogate(w, flat.map((s) => s - 1e-4), frozenFlat)) / 2e-4;
    frozenV.set(saved);
    expect(ds.shape).toEqual([1]);
    expect(((await ds.data()) as Float32Array)[0]).toBeCloseTo(lsqGradientScale(w.length, qmax) * numeric, 4);
  });

  it('learns an affine activation step: value s * (clamp(round(x / s) + z) - z), step gradient as finite differences of the surrogate', async () => {
    const x = Float32Array.from({ length: 64 }, () => (random() - 0.3) * 8);
    const weights = Float32Array.from({ length: 64 }, () => random() - 0.5);
    const step = 0.02;
    const z = -50; // range [s * (-128 - z), s * (127 - z)] = [-1.56, 3.54]: both ends clamp some values
    const lo = -128 - z;
    const hi = 127 - z;
    const value = (await lsqQuantizeActivation(tf.tensor(x), tf.tensor1d([step]), z, -128, 127, x.length).data()) as Float32Array;
    let clamped = 0;
    x.forEach((xi, i) => {
      const q = Math.min(127, Math.max(-128, Math.round(xi / step) + z));
      if (q === 127 || q === -128) clamped++;
      expect(value[i]).toBeCloseTo(step * (q - z), 5);
    });
    expect(clamped).toBeGreaterThan(0);
    const [, ds] = tf.grads((a: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(lsqQuantizeActivation(a, s, z, -128, 127, x.length), tf.tensor(weights))))([tf.tensor(x), tf.tensor1d([step])]);
    const v0 = Float64Array.from(x, (xi) => xi / step);
    const surrogateAt = (s: number) => {
      let loss = 0;
      x.forEach((xi, i) => {
        const v = xi / s;
        const q = v < lo ? lo : v > hi ? hi : Math.round(v0[i]) + v - v0[i];
        loss += weights[i] * s * q;
      });
      return loss;
    };
    const numeric = (surrogateAt(step + 1e-6) - surrogateAt(step - 1e-6)) / 2e-6;
    expect(((await ds.data()) as Float32Array)[0]).toBeCloseTo(lsqGradientScale(x.length, 127 - z) * numeric, 3);
  });
});
