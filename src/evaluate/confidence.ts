/**
 * 95% confidence intervals for the figures the workbench shows, so a reader can tell a real
 * difference from sampling noise.
 *
 * Rates: the Wilson score interval of k successes in n trials (accuracy,
 * agreement). Chosen over the normal ("Wald") interval because it stays inside [0, 1] and keeps its
 * coverage at the rates quantized models reach (99%+ on a few hundred samples), where Wald collapses
 * to zero width. Reference values: Newcombe, "Two-sided confidence intervals for the single
 * proportion", Statistics in Medicine 17 (1998), method 3.
 *
 * Other statistics (mAP, mIoU, SQNR), which are not a mean of 0/1 outcomes: a seeded percentile
 * bootstrap over samples.
 */
import { seededRandom } from '../seeded-random';

/** The two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

export interface RateInterval {
  /** k / n. */
  rate: number;
  low: number;
  high: number;
  /** Trials it was measured on. */
  n: number;
}

/** Wilson score interval of `successes` out of `n` (n = 0 gives the whole [0, 1]). */
export function wilsonInterval(successes: number, n: number, z = Z95): RateInterval {
  if (!Number.isFinite(n) || n < 0 || !Number.isFinite(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: need 0 <= successes <= n, got ${successes} of ${n}`);
  }
  if (n === 0) return { rate: NaN, low: 0, high: 1, n };
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  // At k = 0 or k = n the bound is exactly 0 or 1 (the formula gives it up to rounding).
  const low = successes === 0 ? 0 : Math.max(0, (centre - spread) / denominator);
  const high = successes === n ? 1 : Math.min(1, (centre + spread) / denominator);
  return { rate: p, low, high, n };
}

/** A measured rate (fraction) on n trials: its interval, with k rounded from rate * n. */
export function rateInterval(rate: number, n: number): RateInterval {
  return wilsonInterval(Math.round(rate * n), n);
}

export type Interval = [low: number, high: number];

export const BOOTSTRAP_ROUNDS = 200;

/**
 * Percentile bootstrap: `statistic` of `rounds` resamples (with replacement) of the sample indices
 * 0..n-1, seeded so the same data give the same interval. NaN statistics of a resample are skipped.
 */
export function bootstrapInterval(n: number, statistic: (indices: Uint32Array) => number, rounds = BOOTSTRAP_ROUNDS, seed = 1): Interval {
  if (n <= 0) return [NaN, NaN];
  const random = seededRandom(seed);
  const values: number[] = [];
  const indices = new Uint32Array(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(random() * n);
    const value = statistic(indices);
    if (Number.isFinite(value)) values.push(value);
  }
  if (!values.length) return [NaN, NaN];
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))];
  return [at(0.025), at(0.975)];
}
