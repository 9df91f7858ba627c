/** The search's candidates as points of the size / quality plot the panel draws. */
import type { Candidate } from '../../app/search/precision-search';
import type { ParetoPoint } from '../workbench/charts/ParetoChart';

/**
 * The candidates as points of the size / quality plane, with the float model (its quality is each
 * candidate's plus the points it lost, the same for all: rate metrics only).
 */
export function frontPoints(candidates: Candidate[], floatBytes: number): ParetoPoint[] {
  const floatValue = candidates[0].quality.value + candidates[0].loss / 100;
  const point = (id: string, name: string, bytes: number, quality: number, low: number, high: number, n: number): ParetoPoint => ({ id, name, size: bytes, gzip: bytes, latency: 0, quality, low, high, n });
  return [
    point('float', 'float model', floatBytes, floatValue, floatValue, floatValue, candidates[0].quality.samples),
    ...candidates.map((c, i) => point(`c${i + 1}`, `${i + 1}. ${c.label}`, c.bytes, c.quality.value, c.quality.interval[0], c.quality.interval[1], c.quality.samples)),
  ];
}


/** A candidate on the size / latency plane (objective both): the latency ranked (10th percentile), median and spread, and whether it is on the front. */
export interface SizeLatencyPoint {
  id: string;
  name: string;
  bytes: number;
  latencyMs: number;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  meets: boolean;
  front: boolean;
}

/** The timed candidates as points, numbered as in the candidate table; `front` as the search returned it. */
export function sizeLatencyPoints(candidates: Candidate[], front: Candidate[] = []): SizeLatencyPoint[] {
  const onFront = new Set(front.map((c) => `${c.label}/${c.bytes}/${c.latencyMs}`));
  return candidates.flatMap((c, i) =>
    c.latency
      ? [{ id: `c${i + 1}`, name: `${i + 1}. ${c.label}`, bytes: c.bytes, latencyMs: c.latency.p10Ms, medianMs: c.latency.medianMs, minMs: c.latency.minMs, p90Ms: c.latency.p90Ms, meets: c.meets, front: onFront.has(`${c.label}/${c.bytes}/${c.latencyMs}`) }]
      : [],
  );
}
