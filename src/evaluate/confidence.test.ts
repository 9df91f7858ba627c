/** The Wilson interval against Newcombe's (1998) published table and against its defining equation. */
import { describe, expect, it } from 'vitest';
import { rateInterval, wilsonInterval, Z95 } from './confidence';

describe('wilsonInterval', () => {
  it("matches Newcombe's published 95% intervals (method 3, Statistics in Medicine 1998, table I)", () => {
    const table: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, low, high] of table) {
      const ci = wilsonInterval(k, n);
      expect(ci.low).toBeCloseTo(low, 4);
      expect(ci.high).toBeCloseTo(high, 4);
      expect(ci.n).toBe(n);
    }
  });

  it('its bounds solve |p - k/n| = z sqrt(p (1 - p) / n), the score test it inverts', () => {
    for (const [k, n] of [[3, 10], [497, 500], [200, 200], [1, 1000]]) {
      const { low, high } = wilsonInterval(k, n);
      const gap = (p: number) => Math.abs(p - k / n) - Z95 * Math.sqrt((p * (1 - p)) / n);
      if (k > 0) expect(Math.abs(gap(low))).toBeLessThan(1e-9);
      if (k < n) expect(Math.abs(gap(high))).toBeLessThan(1e-9);
      expect(low).toBeLessThanOrEqual(k / n);
      expect(high).toBeGreaterThanOrEqual(k / n);
    }
  });

  it('is never degenerate at 100% (Wald would say [1, 1]) and narrows with more samples', () => {
    const small = wilsonInterval(200, 200);
    expect(small.high).toBe(1);
    expect(small.low).toBeCloseTo(0.98116, 4);
    const big = wilsonInterval(5000, 5000);
    expect(big.low).toBeGreaterThan(small.low);
    expect(rateInterval(0.985, 200)).toEqual(wilsonInterval(197, 200));
  });

  it('refuses impossible counts; no trials means no information', () => {
    expect(() => wilsonInterval(5, 4)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 4)).toThrow(RangeError);
    expect(wilsonInterval(0, 0)).toMatchObject({ low: 0, high: 1, n: 0 });
  });
});
