import { describe, expect, it } from 'vitest';
import { clusterWeightParams, activationParams, quantizeBias, quantizeInt8, symmetricWeightParams } from './params';

describe('quantization parameters', () => {
  it('asymmetric int8 activations: range widened to contain 0, zero exactly representable', () => {
    const p = activationParams(0, 6, 8);
    expect(p.scale[0]).toBeCloseTo(6 / 255, 12);
    expect(p.zeroPoint[0]).toBe(-128);
    const q = activationParams(-1, 1, 8);
    expect(q.zeroPoint[0]).toBe(Math.round(-128 + 1 / (2 / 255)));
    // A positive-only range still includes 0.
    const r = activationParams(2, 4, 8);
    expect(r.scale[0]).toBeCloseTo(4 / 255, 12);
    expect(r.zeroPoint[0]).toBe(-128);
    // Degenerate ranges still give a usable positive scale.
    expect(activationParams(0, 0, 8).scale[0]).toBeGreaterThan(0);
  });

  it('int16 activations are symmetric with zero point 0', () => {
    const p = activationParams(-3, 1.5, 16);
    expect(p.zeroPoint[0]).toBe(0);
    expect(p.scale[0]).toBeCloseTo(3 / 32767, 12);
  });

  it('symmetric per-channel weights: scale max|w|/127 per output channel, zero point 0, range -127..127', () => {
    // shape [2, 3]: channel 0 = [1, -2, 0.5], channel 1 = [0.1, 0.2, -0.4]
    const w = Float32Array.of(1, -2, 0.5, 0.1, 0.2, -0.4);
    const p = symmetricWeightParams(w, [2, 3], 0, true);
    expect(p.scale[0]).toBeCloseTo(2 / 127, 9);
    expect(p.scale[1]).toBeCloseTo(0.4 / 127, 9);
    expect(p.zeroPoint).toEqual([0, 0]);
    const q = quantizeInt8(w, [2, 3], p, true);
    expect(Array.from(q)).toEqual([64, -127, 32, 32, 64, -127]);
    // Depthwise layout: channels on the last axis.
    const dw = Float32Array.of(1, 10, -2, 20);
    const pd = symmetricWeightParams(dw, [1, 2, 2], 2, true);
    expect(pd.scale[0]).toBeCloseTo(2 / 127, 9);
    expect(pd.scale[1]).toBeCloseTo(20 / 127, 9);
    expect(Array.from(quantizeInt8(dw, [1, 2, 2], pd, true))).toEqual([64, 64, -127, 127]);
  });

  it('per-tensor weights use one scale', () => {
    const w = Float32Array.of(1, -2, 0.5, 0.1);
    const p = symmetricWeightParams(w, [2, 2], 0, false);
    expect(p.scale).toHaveLength(1);
    expect(p.scale[0]).toBeCloseTo(2 / 127, 9);
  });

  it('bias: int32 at input_scale * weight_scale[c], int64 for 16x8', () => {
    const { data, params } = quantizeBias(Float32Array.of(0.5, -0.25), 0.01, [0.1, 0.02], 32);
    expect(params.scale[0]).toBeCloseTo(0.001, 12);
    expect(params.scale[1]).toBeCloseTo(0.0002, 12);
    expect(Array.from(data as Int32Array)).toEqual([500, -1250]);
    const wide = quantizeBias(Float32Array.of(1000), 1e-6, [1e-6], 64);
    expect((wide.data as BigInt64Array)[0]).toBe(1000000000000000n);
  });
});

describe('all-zero (pruned) weight channels', () => {
  it('get a usable scale, so their bias still fits int32 at input_scale * weight_scale', () => {
    // Two output channels of a 1x1 conv (OHWI): channel 1 pruned away entirely.
    const weights = Float32Array.of(0.5, -0.25, 0, 0);
    const params = symmetricWeightParams(weights, [2, 1, 1, 2], 0, true);
    expect(params.scale[1]).toBeCloseTo(0.5 / 127, 12);
    const bias = quantizeBias(Float32Array.of(0.1, 0.3), 0.02, params.scale, 32);
    const real = Array.from(bias.data as Int32Array, (q, c) => q * bias.params.scale[c]);
    expect(real[0]).toBeCloseTo(0.1, 6);
    expect(real[1]).toBeCloseTo(0.3, 6); // was 2^31 * 0.02 * 1e-9 = 0.043 before the fix
  });

  it('clustered tensors too', () => {
    const weights = Float32Array.of(0.5, -0.25, 0, 0);
    const result = clusterWeightParams(weights, [2, 1, 1, 2], 0, true, true, 4);
    expect(result!.params.scale[1]).toBeGreaterThan(1e-3);
  });
});
