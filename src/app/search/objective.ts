/**
 * What the search minimizes among the candidates that meet the budget: file size, LiteRT latency, or
 * both. For 'both' the answer is a set, the size / latency Pareto front (no other meeting candidate is
 * at once no larger and no slower, and better on one), and the pick is one compromise on it:
 * the smallest candidate whose latency is within BOTH_LATENCY_SLACK of the fastest meeting one. A
 * fixed slack rather than a normalized product (bytes x ms): it is a promise a user can read ("at
 * most 10% slower than the fastest that meets the budget, and the smallest such"), and two candidates
 * of equal speed do not swap on a few percent of noise.
 * Latency here is the 10th percentile of LATENCY_RUNS timed runs, not the median: other work on the
 * machine only adds time, and under load the median is mostly that (bench:search --objective both on
 * the shared 2-core machine, load average 10: all-int8 MobileNetV1 0.25 median 14.99 ms, min 2.31 ms,
 * while the int8 candidates' minima all lay within 2.2-2.6 ms). The median and the spread (min, p90)
 * are reported beside it.
 */

export type SearchObjective = 'size' | 'latency' | 'both';
export const SEARCH_OBJECTIVES: readonly SearchObjective[] = ['size', 'latency', 'both'];

/** How much slower than the fastest meeting candidate the 'both' pick may be (0.1 = 10%). */
export const BOTH_LATENCY_SLACK = 0.1;

/** Timed runs per candidate when the objective needs latency (after the warm-up). */
export const LATENCY_RUNS = 100;
export const LATENCY_WARMUP = 10;

/** What the choice reads of a candidate. */
export interface Costed {
  bytes: number;
  loss: number;
  meets: boolean;
  smaller?: boolean;
  fits?: boolean;
  latencyMs?: number;
}

/** The meeting candidates with a latency that no other meeting candidate dominates on (bytes, latency), smallest first. */
export function sizeLatencyFront<C extends Costed>(candidates: C[]): C[] {
  const meeting = candidates.filter((c) => c.meets && c.latencyMs !== undefined);
  const sorted = [...meeting].sort((a, b) => a.bytes - b.bytes || a.latencyMs! - b.latencyMs!);
  const front: C[] = [];
  let fastest = Infinity;
  for (const c of sorted) {
    // Same bytes and latency as one on the front already: a duplicate, not a new trade-off.
    if (c.latencyMs! < fastest) {
      front.push(c);
      fastest = c.latencyMs!;
    }
  }
  return front;
}

/** The 'both' compromise (file comment): the smallest front candidate within the slack of the fastest. */
export function compromise<C extends Costed>(front: C[], slack = BOTH_LATENCY_SLACK): C | undefined {
  if (!front.length) return undefined;
  const fastest = Math.min(...front.map((c) => c.latencyMs!));
  return front.filter((c) => c.latencyMs! <= fastest * (1 + slack)).sort((a, b) => a.bytes - b.bytes || a.latencyMs! - b.latencyMs!)[0];
}

/**
 * The best candidate that met the budget by the objective, else the one smaller than the float model
 * (and fitting the target, if any does) that lost least.
 */
export function pick<C extends Costed>(candidates: C[], objective: SearchObjective): C {
  const meeting = candidates.filter((c) => c.meets);
  if (!meeting.length) {
    const fitting = candidates.filter((c) => c.fits !== false);
    if (fitting.length && fitting.length < candidates.length) return pick(fitting, objective);
    const answers = candidates.filter((c) => c.smaller !== false);
    return [...(answers.length ? answers : candidates)].sort((a, b) => a.loss - b.loss || a.bytes - b.bytes)[0];
  }
  if (objective === 'both') {
    const chosen = compromise(sizeLatencyFront(meeting));
    if (chosen) return chosen;
  }
  const cost = (c: C) => (objective === 'latency' ? (c.latencyMs ?? Infinity) : c.bytes);
  return [...meeting].sort((a, b) => cost(a) - cost(b) || a.loss - b.loss)[0];
}
