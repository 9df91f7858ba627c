/**
 * The little chart geometry the results need: a linear scale and "nice" tick values. Plain
 * functions, no React, so they are unit-testable and cost nothing to call on every render.
 */

export type Scale = (value: number) => number;

/** Maps [d0, d1] linearly onto [r0, r1] (a zero-width domain maps to the middle of the range). */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  if (span === 0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** A round step (1, 2 or 5 x 10^n) giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** Ticks from a multiple of the step at or below `lo` to one at or above `hi` (the domain to use). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const step = niceStep(hi - lo, count);
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const n = Math.round((last - first) / step);
  // Rounded to the step's precision so labels read 0.3 and not 0.30000000000000004.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Array.from({ length: Math.max(1, n) + 1 }, (_, i) => Number((first + i * step).toFixed(digits)));
}
