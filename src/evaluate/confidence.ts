/**
 * 95% confidence intervals for the figures the workbench shows, so a reader can tell a real
 * difference from sampling noise: Wilson's score interval for proportions (top-1, agreement; it
 * stays inside [0, 1] and is sensible at 0% and 100%, where the normal approximation collapses to
 * a point), and a seeded percentile bootstrap over samples for statistics that are not a mean of
 * 0/1 outcomes (mAP, mIoU, SQNR).
 */
import { seededRandom } from '../seeded-random';

export type Interval = [low: number, high: number];

const Z95 = 1.959963984540054;
export const BOOTSTRAP_ROUNDS = 200;

/** Wilson score interval for `successes` out of `n`; [NaN, NaN] for n = 0. */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (n <= 0) return [NaN, NaN];
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

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
