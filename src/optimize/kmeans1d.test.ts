/** 1-D k-means: the DP is exact, sorted Lloyd equals naive Lloyd, and the optimum beats every Lloyd init. */
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { seededRandom } from '../test-support/shared';
import { CLUSTER_INITS, clusterError, initialCentroidsOf, kmeans1d, lloydNaive } from './kmeans1d';
import { kthSmallest } from './prune';

/** Exact k-means by the plain O(k n^2) DP over sorted values (the reference). */
function bruteForceOptimum(data: number[], k: number): number {
  const x = [...data].sort((a, b) => a - b);
  const n = x.length;
  const cost = (a: number, b: number) => {
    let s = 0;
    for (let i = a; i < b; i++) s += x[i];
    const m = s / (b - a);
    let e = 0;
    for (let i = a; i < b; i++) e += (x[i] - m) ** 2;
    return e;
  };
  let prev = Array.from({ length: n + 1 }, (_, i) => (i ? cost(0, i) : 0));
  for (let j = 2; j <= k; j++) {
    const cur = new Array<number>(n + 1).fill(Infinity);
    for (let i = j; i <= n; i++) for (let l = j - 1; l < i; l++) cur[i] = Math.min(cur[i], prev[l] + cost(l, i));
    prev = cur;
  }
  return prev[n];
}

function gaussianish(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (random() + random() + random() - 1.5) * (random() < 0.05 ? 4 : 1));
}

describe('kmeans1d', () => {
  it('finds the exact optimum (same SSE as a brute-force DP)', () => {
    for (const [n, k, seed] of [[60, 3, 1], [120, 7, 2], [200, 16, 3]] as const) {
      const data = gaussianish(n, seed);
      const result = kmeans1d(data, k);
      expect(result.exact).toBe(true);
      expect(result.centroids.length).toBe(k);
      expect(result.sse).toBeCloseTo(bruteForceOptimum([...data], k), 6);
      expect(clusterError(data, result.centroids)).toBeCloseTo(result.sse, 6);
    }
  });

  it('sorted Lloyd gives the same iterates as naive O(nk) Lloyd, and never beats the optimum', () => {
    const data = gaussianish(5000, 7);
    const optimum = kmeans1d(data, 16);
    for (const init of CLUSTER_INITS) {
      const fast = kmeans1d(data, 16, { algorithm: 'lloyd', init, seed: 3 });
      const naive = lloydNaive(data, initialCentroidsOf(data, 16, init, 3));
      expect(fast.sse).toBeCloseTo(naive.sse, 4);
      expect(fast.sse).toBeGreaterThanOrEqual(optimum.sse * (1 - 1e-9));
    }
  });

  it('is near-exact on a large tensor (binned DP, then Lloyd on all values)', () => {
    const data = gaussianish(200_000, 11);
    const near = kmeans1d(data, 32);
    expect(near.exact).toBe(false);
    const exact = kmeans1d(data, 32, { maxPoints: 1 << 20 });
    expect(exact.exact).toBe(true);
    expect(near.sse).toBeLessThanOrEqual(exact.sse * 1.001);
    const lloyd = kmeans1d(data, 32, { algorithm: 'lloyd', init: 'linear' });
    expect(near.sse).toBeLessThan(lloyd.sse);
  });

  it('returns the values themselves when there are at most k of them, and refuses k < 2', () => {
    expect([...kmeans1d([3, 1, 1, 2], 4).centroids]).toEqual([1, 2, 3]);
    expect(() => kmeans1d([1, 2, 3], 1)).toThrow(WorkbenchError);
    expect(() => kmeans1d([1, 2, 3], 2.5)).toThrow(/k >= 2/);
  });

  it('kthSmallest (quickselect) agrees with a sort', () => {
    const data = gaussianish(10_001, 5).map(Math.abs);
    const sorted = [...data].sort((a, b) => a - b);
    for (const k of [0, 1, 17, 5000, 9999, 10_000]) expect(kthSmallest(Float32Array.from(data), k)).toBe(sorted[k]);
    const ties = Float32Array.from({ length: 1000 }, (_, i) => i % 3);
    expect(kthSmallest(ties.slice(), 500)).toBe(1);
  });
});
