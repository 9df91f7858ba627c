/**
 * The activation summary against brute force on synthetic data with known values: the clipped
 * shares from the fine histogram equal a direct count of the values outside the range when the
 * bounds lie on bin edges, and stay within the straddling bin's count otherwise; the 64 bins drawn
 * keep every value; the range is the plan's integer grid when the tensor is quantized.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../seeded-random';
import type { QuantizationPlan } from '../quantize/plan-types';
import { clippedFraction, coarseCounts, summarizeActivations, SUMMARY_BINS } from './activation-summary';
import { accumulate, binWidth, newTensorStats, occupiedBins, type TensorStats } from './statistics/histogram';

/** ReLU-like samples: a share of exact zeros, the rest exponential with a long tail, plus a few negatives. */
function samples(count: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const values = new Float32Array(1000);
    for (let i = 0; i < values.length; i++) {
      const u = random();
      values[i] = u < 0.35 ? 0 : u < 0.4 ? -random() * 0.5 : -Math.log(1 - random()) * 1.7;
    }
    return values;
  });
}

function statsOf(chunks: Float32Array[]): TensorStats {
  const stats = newTensorStats(0, 7, 'relu_out');
  for (const c of chunks) accumulate(stats, c);
  return stats;
}

function bruteForce(chunks: Float32Array[], lo: number, hi: number) {
  let below = 0;
  let above = 0;
  let n = 0;
  for (const c of chunks) {
    for (const v of c) {
      n++;
      if (v < lo) below++;
      else if (v > hi) above++;
    }
  }
  return { below: below / n, above: above / n, n };
}

const data = samples(20, 11);
const stats = statsOf(data);
const w = binWidth(stats.histogram);

describe('clippedFraction', () => {
  it('equals a brute-force count when the bounds lie on bin edges', () => {
    for (const [lo, hi] of [[-64 * w, 1024 * w], [0, 300 * w], [-3 * w, 1800 * w], [5 * w, 40 * w]]) {
      const expected = bruteForce(data, lo, hi);
      const got = clippedFraction(stats, lo, hi);
      expect(got.below, `below ${lo}`).toBeCloseTo(expected.below, 12);
      expect(got.above, `above ${hi}`).toBeCloseTo(expected.above, 12);
    }
  });

  it('counts the exact zeros below a range that starts above 0 (and not below one that starts at 0)', () => {
    const zeros = data.reduce((n, c) => n + c.filter((v) => v === 0).length, 0) / (data.length * 1000);
    expect(zeros).toBeGreaterThan(0.3);
    expect(clippedFraction(stats, w, stats.max).below).toBeCloseTo(bruteForce(data, w, stats.max).below, 12);
    expect(clippedFraction(stats, w, stats.max).below).toBeGreaterThan(zeros);
    expect(clippedFraction(stats, 0, stats.max).below).toBeCloseTo(bruteForce(data, 0, stats.max).below, 12);
  });

  it('is within the straddling bin of the count for bounds inside a bin, and 0 for [min, max]', () => {
    const bins = occupiedBins(stats);
    const binShareAt = (x: number) => {
      for (let i = 0; i < bins.count.length; i++) if (bins.lower[i] <= x && x < bins.upper[i]) return bins.count[i] / bins.total;
      return 0;
    };
    for (const [lo, hi] of [[-0.1234, 3.3333], [-0.41, 7.77], [0.01, 1.5]]) {
      const expected = bruteForce(data, lo, hi);
      const got = clippedFraction(stats, lo, hi);
      expect(Math.abs(got.below - expected.below)).toBeLessThanOrEqual(binShareAt(lo) + 1e-12);
      expect(Math.abs(got.above - expected.above)).toBeLessThanOrEqual(binShareAt(hi) + 1e-12);
      expect(got.below + got.above).toBeGreaterThan(0);
    }
    expect(clippedFraction(stats, stats.min, stats.max)).toEqual({ below: 0, above: 0 });
  });
});

describe('coarseCounts', () => {
  it('keeps every value, each within one fine bin of its brute-force bin', () => {
    const counts = coarseCounts(stats);
    expect(counts.length).toBe(SUMMARY_BINS);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(data.length * 1000);
    // Brute force: the same 64 bins over [min, max]; a value can only move to a neighbouring bin
    // when its fine bin straddles a coarse edge, so the counts agree up to those fine bins.
    const brute = new Array<number>(SUMMARY_BINS).fill(0);
    const span = stats.max - stats.min;
    for (const c of data) for (const v of c) brute[Math.min(SUMMARY_BINS - 1, Math.floor(((v - stats.min) / span) * SUMMARY_BINS))]++;
    const fine = occupiedBins(stats);
    let straddling = 0;
    for (let i = 0; i < fine.count.length; i++) {
      const a = Math.floor(((fine.lower[i] - stats.min) / span) * SUMMARY_BINS);
      const b = Math.floor(((fine.upper[i] - stats.min) / span) * SUMMARY_BINS);
      if (a !== b) straddling += fine.count[i];
    }
    const moved = counts.reduce((s, c, k) => s + Math.abs(c - brute[k]), 0);
    expect(moved).toBeLessThanOrEqual(2 * straddling);
    expect(moved / (data.length * 1000)).toBeLessThan(0.02);
  });
});

describe('summarizeActivations', () => {
  it('takes the plan’s int8 grid as the range when the tensor is quantized, else the calibrated range', () => {
    const other = newTensorStats(0, 9, 'float_only');
    accumulate(other, new Float32Array([-1, 0.5, 2, 3]));
    const tensors = new Map([[stats.key, stats], [other.key, other]]);
    const calibrated = new Map([[stats.key, { min: stats.min, max: stats.max }], [other.key, { min: -1, max: 2.5 }]]);
    const scale = 0.02;
    const plan = { activationBits: 8, perChannel: true, io: 'float', subgraphs: [{ index: 0, ops: [], io: { type: 'float', inputs: [], outputs: [] }, tensors: [{ tensorIndex: 7, name: 'relu_out', role: 'activation', dtype: 'int8', bits: 8, granularity: 'per-tensor', scales: [scale], zeroPoints: [-100] }] }] } as unknown as QuantizationPlan;
    const [s7, s9] = summarizeActivations(tensors, calibrated, plan);
    expect(s7.key).toBe('0:7');
    expect(s7.rangeSource).toBe('quantized');
    expect(s7.range[0]).toBeCloseTo(scale * (-128 + 100), 12);
    expect(s7.range[1]).toBeCloseTo(scale * (127 + 100), 12);
    expect(s7.clippedBelow + s7.clippedAbove).toBeCloseTo(clippedFraction(stats, s7.range[0], s7.range[1]).below + clippedFraction(stats, s7.range[0], s7.range[1]).above, 15);
    expect(s7.total).toBe(data.length * 1000);
    expect(s9.rangeSource).toBe('calibrated');
    expect(s9.range).toEqual([-1, 2.5]);
    expect(s9.clippedAbove).toBeCloseTo(0.25, 12); // the value 3, one of four, lies above 2.5
    expect(s9.clippedBelow).toBe(0);
    // Compact: what the session stores per tensor.
    expect(JSON.stringify(s7).length).toBeLessThan(800);
  });
});
