import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../seeded-random';
import { fromFloat16 } from '../../tflite/dtypes';
import { int4WeightParams, packInt4, quantizeBlockwiseInt4, quantizeInt4, unpackInt4 } from './int4';

/** Brute-force reference: nibble i of the packed bytes, as TFLite's schema defines it (low first). */
function nibbleAt(bytes: Uint8Array, i: number): number {
  const byte = bytes[Math.floor(i / 2)];
  const nibble = i % 2 === 0 ? byte % 16 : Math.floor(byte / 16);
  return nibble >= 8 ? nibble - 16 : nibble;
}

describe('int4 storage', () => {
  it('packs two values per byte, element 0 in the low nibble, and unpacks them back (odd lengths too)', () => {
    const random = seededRandom(4);
    for (const length of [1, 2, 7, 64, 1001]) {
      const values = Int8Array.from({ length }, () => Math.floor(random() * 16) - 8);
      const packed = packInt4(values);
      expect(packed.length).toBe(Math.ceil(length / 2));
      for (let i = 0; i < length; i++) expect(nibbleAt(packed, i)).toBe(values[i]);
      expect(Array.from(unpackInt4(packed, length))).toEqual(Array.from(values));
    }
    expect(Array.from(packInt4(Int8Array.of(1, -1, -8, 7)))).toEqual([0xf1, 0x78]);
  });

  it('per-channel params: scale max|w|/7, zero point 0, values round(w/scale) in -8..7', () => {
    const w = Float32Array.of(0.7, -1.4, 0.35, 0.1, 0.2, -0.05);
    const p = int4WeightParams(w, [2, 3], 0, true);
    expect(p.scale[0]).toBeCloseTo(1.4 / 7, 6);
    expect(p.scale[1]).toBeCloseTo(0.2 / 7, 6);
    expect(p.zeroPoint).toEqual([0, 0]);
    const q = quantizeInt4(w, [2, 3], p);
    expect(Array.from(q)).toEqual([4, -7, 2, 4, 7, -2]);
  });

  it('blockwise: one float16 scale per block along the last axis; values quantized with the stored scale', () => {
    const random = seededRandom(9);
    const shape = [3, 64];
    const w = Float32Array.from({ length: 192 }, () => random() * 2 - 1);
    w.fill(0, 64, 96); // an all-zero block still gets a positive scale
    const { values, scales } = quantizeBlockwiseInt4(w, shape, 32);
    const stored = fromFloat16(scales);
    expect(stored.length).toBe(6);
    for (let block = 0; block < 6; block++) {
      const slice = w.subarray(block * 32, block * 32 + 32);
      const max = slice.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(stored[block]).toBeGreaterThan(0);
      if (max > 0) expect(stored[block]).toBeCloseTo(max / 7, 3);
      for (let i = 0; i < 32; i++) {
        const expected = Math.max(-8, Math.min(7, Math.round(slice[i] / stored[block]))) + 0;
        expect(values[block * 32 + i]).toBe(expected);
      }
    }
  });
});
