import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../app/search/precision-search';
import { paretoFrontier } from '../workbench/charts/ParetoChart';
import { frontPoints, sizeLatencyPoints } from './search-front';

const candidate = (label: string, bytes: number, value: number, floatValue: number): Candidate => ({
  label, floatOps: [], int4Ops: [], bytes, meets: false, smaller: true, fits: true,
  loss: 100 * (floatValue - value),
  quality: { task: 'classification', metric: 'top1', against: 'labels', value, interval: [value - 0.05, value + 0.05], samples: 300 },
});

describe('frontPoints', () => {
  it('places the float model at the quality every candidate lost its points from, and each candidate with its interval', () => {
    const float = 0.8;
    const cs = [candidate('int8', 500, 0.79, float), candidate('int8+1int4', 400, 0.77, float), candidate('int8+2float', 700, 0.78, float)];
    const points = frontPoints(cs, 2000);
    expect(points[0]).toMatchObject({ id: 'float', size: 2000, n: 300 });
    expect(points[0].quality).toBeCloseTo(float, 12);
    expect(points.slice(1).map((p) => [p.name, p.size, p.quality, p.low, p.high])).toEqual([
      ['1. int8', 500, 0.79, 0.79 - 0.05, 0.79 + 0.05],
      ['2. int8+1int4', 400, 0.77, 0.77 - 0.05, 0.77 + 0.05],
      ['3. int8+2float', 700, 0.78, 0.78 - 0.05, 0.78 + 0.05],
    ]);
    // The frontier by size: the int4 candidate, int8, then the float model; the 2-float candidate is beaten by int8.
    expect(paretoFrontier(points, 'size').map((p) => p.id)).toEqual(['c2', 'c1', 'float']);
  });

  it('sizeLatencyPoints: the timed candidates only, numbered as in the table, with their spread and the front the search returned', () => {
    const timed = (c: Candidate, medianMs: number, meets: boolean): Candidate => ({ ...c, meets, latencyMs: medianMs, latency: { p10Ms: medianMs - 0.05, medianMs, minMs: medianMs - 0.1, p90Ms: medianMs + 0.3, runs: 100 } });
    const a = timed(candidate('int8', 500, 0.79, 0.8), 2, true);
    const b = candidate('untimed', 450, 0.79, 0.8);
    const c = timed(candidate('int8+1float', 700, 0.8, 0.8), 1.5, true);
    const d = timed(candidate('int8+1int4', 400, 0.7, 0.8), 2.2, false);
    const points = sizeLatencyPoints([a, b, c, d], [a, c]);
    expect(points.map((p) => [p.id, p.bytes, p.latencyMs, p.medianMs, p.minMs, p.p90Ms, p.meets, p.front])).toEqual([
      ['c1', 500, 2 - 0.05, 2, 2 - 0.1, 2 + 0.3, true, true],
      ['c3', 700, 1.5 - 0.05, 1.5, 1.5 - 0.1, 1.5 + 0.3, true, true],
      ['c4', 400, 2.2 - 0.05, 2.2, 2.2 - 0.1, 2.2 + 0.3, false, false],
    ]);
  });
});
