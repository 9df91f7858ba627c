/**
 * Histogram statistics and range algorithms on synthetic data with known answers (no LiteRT).
 */
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../errors';
import { seededRandom } from '../../test-support/shared';
import { accumulate, binWidth, newTensorStats, occupiedBins, type TensorStats } from './statistics/histogram';
import { percentileRange, rangeOf, rangesFrom } from './ranges';
import { activationParams } from '../quantize/params';

function statsOf(chunks: Float32Array[], bins = 2048, momentum = 0.99): TensorStats {
  const stats = newTensorStats(0, 1, 't', bins);
  for (const chunk of chunks) accumulate(stats, chunk, momentum);
  return stats;
}

/** Absolute bin -> count, from the histogram. */
function absoluteBins(stats: TensorStats): Map<number, number> {
  const h = stats.histogram;
  const result = new Map<number, number>();
  h.counts.forEach((c, i) => {
    if (c) result.set(h.origin + i, c);
  });
  return result;
}

/** Real mean squared error of quantizing `values` to the int8 grid activationParams builds for [lo, hi]. */
function int8Error(values: Float32Array, lo: number, hi: number): number {
  const { scale, zeroPoint } = activationParams(lo, hi, 8);
  let sum = 0;
  for (const v of values) {
    const q = Math.min(127, Math.max(-128, Math.round(v / scale[0]) + zeroPoint[0]));
    const d = v - scale[0] * (q - zeroPoint[0]);
    sum += d * d;
  }
  return sum / values.length;
}

function gaussian(random: () => number): number {
  // Irwin-Hall: sum of 12 uniforms - 6 has mean 0, variance 1.
  let s = 0;
  for (let i = 0; i < 12; i++) s += random();
  return s - 6;
}

describe('histogram statistics', () => {
  it('counts min, max, zeros (including -0) and leaves NaN and infinities out', () => {
    const stats = statsOf([Float32Array.of(0, -0, 1.5, NaN, -2, Infinity, 0, -Infinity, 3)]);
    expect(stats.count).toBe(6);
    expect(stats.nonFinite).toBe(3);
    expect(stats.zeros).toBe(3);
    expect(stats.min).toBe(-2);
    expect(stats.max).toBe(3);
    expect(occupiedBins(stats).total).toBe(6);
    expect(stats.samples).toBe(1);
  });

  it('keeps a moving average of per-sample min and max (first sample initializes)', () => {
    const stats = statsOf([Float32Array.of(-1, 2), Float32Array.of(-3, 4), Float32Array.of(0, 1)], 2048, 0.5);
    // min: -1, then 0.5*-1 + 0.5*-3 = -2, then 0.5*-2 + 0.5*0 = -1; max: 2, 3, 2.
    expect(stats.movingMin).toBe(-1);
    expect(stats.movingMax).toBe(2);
    expect(stats.min).toBe(-3);
    expect(stats.max).toBe(4);
  });

  it('bins exactly, whatever the order of samples (growth re-bins exactly)', () => {
    const random = seededRandom(11);
    // Samples whose range grows by orders of magnitude, one of them constant.
    const chunks = [
      Float32Array.from({ length: 500 }, () => 0.001 * random()),
      new Float32Array(300).fill(0.25),
      Float32Array.from({ length: 5000 }, () => gaussian(random)),
      Float32Array.from({ length: 100 }, () => 1000 * (random() - 0.3)),
      Float32Array.from({ length: 7000 }, () => Math.max(0, gaussian(random) * 3)),
    ];
    const forward = statsOf(chunks);
    const backward = statsOf([...chunks].reverse());
    const constantFirst = statsOf([chunks[1], ...chunks.filter((_, i) => i !== 1)]);
    for (const other of [backward, constantFirst]) {
      expect(other.histogram.exponent).toBe(forward.histogram.exponent);
      expect(absoluteBins(other)).toEqual(absoluteBins(forward));
      expect([other.min, other.max, other.count, other.zeros]).toEqual([forward.min, forward.max, forward.count, forward.zeros]);
    }
    // Brute force at the final width.
    const w = binWidth(forward.histogram);
    const expected = new Map<number, number>();
    for (const chunk of chunks) for (const v of chunk) expected.set(Math.floor(v / w), (expected.get(Math.floor(v / w)) ?? 0) + 1);
    expect(absoluteBins(forward)).toEqual(expected);
    // The width is the finest power of two at which [min, max] spans at most 2048 bins.
    const span = (width: number) => Math.floor(forward.max / width) - Math.floor(forward.min / width) + 1;
    expect(span(w)).toBeLessThanOrEqual(2048);
    expect(span(w / 2)).toBeGreaterThan(2048);
  });

  it('handles a tensor that is always zero', () => {
    const stats = statsOf([new Float32Array(10), new Float32Array(5)]);
    expect([stats.min, stats.max, stats.zeros, stats.count]).toEqual([0, 0, 15, 15]);
    for (const algorithm of ['minmax', 'moving-average', 'percentile', 'mse'] as const) expect(rangeOf(stats, algorithm)).toEqual({ min: 0, max: 0 });
  });
});

describe('range algorithms', () => {
  const random = seededRandom(5);
  const uniform = Float32Array.from({ length: 100_000 }, () => random());
  const uniformStats = statsOf([uniform]);

  it('percentile: two-sided, interpolated, within [min, max]', () => {
    const r = percentileRange(uniformStats, 99);
    expect(r.min).toBeCloseTo(0.01, 2);
    expect(r.max).toBeCloseTo(0.99, 2);
    const full = percentileRange(uniformStats, 100);
    expect(full).toEqual({ min: uniformStats.min, max: uniformStats.max });
    const tight = rangeOf(uniformStats, 'percentile', 8, 99.99);
    expect(tight.min).toBeGreaterThanOrEqual(uniformStats.min);
    expect(tight.max).toBeLessThanOrEqual(uniformStats.max);
  });

  it('mse: keeps (nearly) the full range of a uniform distribution', () => {
    const r = rangeOf(uniformStats, 'mse');
    expect(r.min).toBe(uniformStats.min);
    expect(r.max).toBeGreaterThan(0.98);
    expect(r.max).toBeLessThanOrEqual(uniformStats.max);
  });

  /** The best real int8 error over a grid of clipping ranges (brute force). */
  function bruteForce(values: Float32Array, stats: TensorStats): number {
    const lows = stats.min < 0 ? Array.from({ length: 41 }, (_, i) => stats.min * (0.2 + i * 0.02)) : [0];
    let best = Infinity;
    for (const lo of lows) for (let k = 20; k <= 100; k += stats.min < 0 ? 2 : 1) best = Math.min(best, int8Error(values, lo, (stats.max * k) / 100));
    return best;
  }

  it('mse: clips the long tail of an exponential (ReLU-like) distribution, only at the top', () => {
    const values = Float32Array.from({ length: 200_000 }, () => -Math.log(1 - random()));
    const stats = statsOf([values.subarray(0, 100_000), values.subarray(100_000)]);
    const mse = rangeOf(stats, 'mse');
    expect(mse.min).toBe(stats.min);
    expect(mse.max).toBeLessThan(stats.max * 0.95);
    const error = int8Error(values, mse.min, mse.max);
    expect(error).toBeLessThan(int8Error(values, stats.min, stats.max) * 0.9);
    // Within 2% of the best clip found by sweeping the real quantization error.
    expect(error).toBeLessThan(bruteForce(values, stats) * 1.02);
  });

  it('mse: searches both ends of a two-sided (Laplace) distribution', () => {
    const values = Float32Array.from({ length: 50_000 }, () => {
      const u = random() - 0.5;
      return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    });
    const stats = statsOf([values]);
    const mse = rangeOf(stats, 'mse');
    expect(mse.min).toBeGreaterThan(stats.min * 0.95);
    expect(mse.max).toBeLessThan(stats.max * 0.95);
    const error = int8Error(values, mse.min, mse.max);
    expect(error).toBeLessThan(int8Error(values, stats.min, stats.max) * 0.9);
    expect(error).toBeLessThan(bruteForce(values, stats) * 1.02);
  });

  it('mse: keeps rare far outliers when clipping them would cost more than the rounding saved', () => {
    // 40 values at 40..50 among 100,000 |N(0,1)|: clipping them to ~5 costs 40 * 40^2, far more
    // than the rounding noise of a wide grid (100,000 * (50/255)^2 / 12).
    const values = Float32Array.from({ length: 200_000 }, (_, i) => (i % 5000 === 0 ? 40 + random() * 10 : Math.max(0, gaussian(random))));
    const stats = statsOf([values]);
    const mse = rangeOf(stats, 'mse');
    expect(mse.max).toBeGreaterThan(40);
    expect(int8Error(values, mse.min, mse.max)).toBeLessThanOrEqual(int8Error(values, stats.min, stats.max) * 1.01);
  });

  it('mse for 16 bits: symmetric bound, much less clipping than 8 bits', () => {
    const values = Float32Array.from({ length: 100_000 }, (_, i) => (i % 5000 === 0 ? 30 : gaussian(random)));
    const stats = statsOf([values]);
    const r8 = rangeOf(stats, 'mse', 8);
    const r16 = rangeOf(stats, 'mse', 16);
    expect(r16.max).toBeGreaterThan(r8.max);
    const bound16 = Math.max(-r16.min, r16.max);
    expect(bound16).toBeLessThanOrEqual(30);
    expect(bound16).toBeGreaterThan(5);
  });

  it('rangesFrom: one range per tensor with data, for every algorithm; rejects bad options', () => {
    const a = statsOf([Float32Array.of(1, 2, 3)]);
    const b = newTensorStats(0, 2, 'empty');
    const source = { tensors: new Map([['0:1', a], ['0:2', b]]) };
    for (const algorithm of ['minmax', 'moving-average', 'percentile', 'mse'] as const) {
      const ranges = rangesFrom(source, algorithm);
      expect([...ranges.keys()]).toEqual(['0:1']);
      const r = ranges.get('0:1')!;
      expect(r.min).toBeGreaterThanOrEqual(1);
      expect(r.max).toBeLessThanOrEqual(3);
    }
    expect(rangesFrom(source, 'minmax').get('0:1')).toEqual({ min: 1, max: 3 });
    expect(() => rangesFrom(source, 'percentile', { percentile: 30 })).toThrow(WorkbenchError);
    expect(() => rangesFrom(source, 'kl' as never)).toThrow(/Unknown calibration algorithm/);
    expect(() => rangesFrom(source, 'mse', { bits: 4 as never })).toThrow(WorkbenchError);
  });
});
