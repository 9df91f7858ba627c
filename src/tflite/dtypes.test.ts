import { describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from './dtypes';

describe('float16', () => {
  it('float16 conversion is exact for representable values and rounds to nearest even', () => {
    const values = Float32Array.of(0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e6, -1e-9);
    const back = fromFloat16(toFloat16(values));
    expect(Array.from(back.slice(0, 7))).toEqual([0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8]);
    expect(back[7]).toBe(1); // tie rounds to even
    expect(back[8]).toBe(1 + 2 * 2 ** -10); // tie rounds to even (up)
    expect(back[9]).toBe(Infinity);
    expect(Object.is(back[10], -0)).toBe(true);
    // Random values: the error is at most half an ulp of half precision.
    const random = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const roundTrip = fromFloat16(toFloat16(random));
    for (let i = 0; i < random.length; i++) {
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(random[i]))) - 10);
      expect(Math.abs(roundTrip[i] - random[i])).toBeLessThanOrEqual(ulp / 2 + 1e-12);
    }
  });
});
