/**
 * How sure a measured rate is: the 95% Wilson score interval of k successes in n trials (accuracy,
 * agreement). Chosen over the normal ("Wald") interval because it stays inside [0, 1] and keeps its
 * coverage at the rates quantized models reach (99%+ on a few hundred samples), where Wald collapses
 * to zero width. Reference values: Newcombe, "Two-sided confidence intervals for the single
 * proportion", Statistics in Medicine 17 (1998), method 3.
 */

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
