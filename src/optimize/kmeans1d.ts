/**
 * k-means on one dimension (weight clustering).
 *
 * In 1-D every optimal cluster is a contiguous run of the sorted values, so the problem is solved
 * on sorted data:
 * - `optimal`: dynamic programming over the sorted distinct values (D[j][i] = min over l of
 *   D[j-1][l-1] + cost(l..i), cost from prefix sums, the argmin monotone in i, so divide and
 *   conquer gives O(k m log m)). Exact when the tensor has at most `maxPoints` distinct values;
 *   above that the sorted values are first merged into at most ~2 x maxPoints weighted runs (split
 *   by count and by width, so the sparse tails keep their resolution), the DP is exact on the runs,
 *   and Lloyd steps on the full data then let the boundaries move freely ("near-exact").
 * - `lloyd`: Lloyd's algorithm from an initialization (linear, k-means++, density, random), done
 *   on the sorted array with prefix sums: assignment is a binary search for the k-1 midpoints and
 *   the update a difference of prefix sums, so one iteration costs O(k log n) instead of O(n k).
 *   The iterates are the same as naive Lloyd's (lloydNaive, kept for tests and the benchmark).
 * All bulk work is on typed arrays; the only O(n log n) step is one native sort per tensor.
 */
import { seededRandom } from '../seeded-random';
import { WorkbenchError } from '../errors';

export type ClusterInit = 'linear' | 'kmeans++' | 'density' | 'random';
export const CLUSTER_INITS: readonly ClusterInit[] = ['linear', 'kmeans++', 'density', 'random'];
export type ClusterAlgorithm = 'optimal' | 'lloyd';

export interface KMeansOptions {
  algorithm?: ClusterAlgorithm;
  /** Initialization for Lloyd (ignored by `optimal`). Default kmeans++. */
  init?: ClusterInit;
  seed?: number;
  /** Lloyd iterations at most (default 300; it stops earlier once no boundary moves). */
  maxIterations?: number;
  /** `optimal`: largest number of (weighted) points the DP runs on exactly (default 4096). */
  maxPoints?: number;
}

export interface KMeansResult {
  /** Sorted ascending, distinct, at most k. */
  centroids: Float64Array;
  /** Sum of squared distances of the values to their nearest centroid. */
  sse: number;
  iterations: number;
  /** True when the DP ran on every distinct value (a proven optimum). */
  exact: boolean;
}

/** Sorted distinct values with their counts, and prefix sums (centered on the mean for precision). */
interface Sorted {
  values: Float64Array;
  counts: Float64Array;
  /** prefix sums over the distinct values: P1[i] = sum of count*x over [0, i), P2 of count*x^2, W of count. */
  p1: Float64Array;
  p2: Float64Array;
  w: Float64Array;
  mean: number;
  n: number;
}

function sortedDistinct(data: ArrayLike<number>): Sorted {
  const sorted = Float32Array.from(data as ArrayLike<number>);
  sorted.sort();
  const n = sorted.length;
  let m = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) m++;
  const values = new Float64Array(m);
  const counts = new Float64Array(m);
  let sum = 0;
  let j = -1;
  for (let i = 0; i < n; i++) {
    const v = sorted[i];
    sum += v;
    if (i === 0 || v !== sorted[i - 1]) values[++j] = v;
    counts[j]++;
  }
  return withPrefix(values, counts, n ? sum / n : 0, n);
}

function withPrefix(values: Float64Array, counts: Float64Array, mean: number, n: number): Sorted {
  const m = values.length;
  const p1 = new Float64Array(m + 1);
  const p2 = new Float64Array(m + 1);
  const w = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    const x = values[i] - mean;
    const c = counts[i];
    p1[i + 1] = p1[i] + c * x;
    p2[i + 1] = p2[i] + c * x * x;
    w[i + 1] = w[i] + c;
  }
  return { values, counts, p1, p2, w, mean, n };
}

/** Squared error of points [a, b) around their mean. */
function segmentCost(s: Sorted, a: number, b: number): number {
  const w = s.w[b] - s.w[a];
  if (w <= 0) return 0;
  const p1 = s.p1[b] - s.p1[a];
  const cost = s.p2[b] - s.p2[a] - (p1 * p1) / w;
  return cost > 0 ? cost : 0;
}

function segmentMean(s: Sorted, a: number, b: number): number {
  const w = s.w[b] - s.w[a];
  return (s.p1[b] - s.p1[a]) / w + s.mean;
}

/** Merge sorted distinct values into at most ~2*target weighted runs (by count and by width). */
function mergeRuns(s: Sorted, target: number): Sorted {
  const m = s.values.length;
  const perRun = s.n / target;
  const width = (s.values[m - 1] - s.values[0]) / target;
  const values: number[] = [];
  const counts: number[] = [];
  let start = 0;
  for (let i = 0; i < m; i++) {
    const last = i === m - 1;
    const runCount = s.w[i + 1] - s.w[start];
    if (last || runCount >= perRun || s.values[i + 1] - s.values[start] > width) {
      values.push(segmentMean(s, start, i + 1));
      counts.push(runCount);
      start = i + 1;
    }
  }
  return withPrefix(Float64Array.from(values), Float64Array.from(counts), s.mean, s.n);
}

/**
 * Exact k-means of weighted sorted points (divide and conquer over the monotone argmin).
 * Returns the start index of each of the k segments (k <= number of points).
 */
function optimalSegments(s: Sorted, k: number): Int32Array {
  const m = s.values.length;
  let previous = new Float64Array(m + 1); // D[j-1][i]: best cost of points [0, i) in j-1 segments
  let current = new Float64Array(m + 1);
  const starts = Array.from({ length: k }, () => new Int32Array(m + 1));
  for (let i = 0; i <= m; i++) previous[i] = segmentCost(s, 0, i);
  // previous = D[1]
  const { p1, p2, w } = s;
  // D[j][i] for i in [j, m]: min over l in [j-1, i-1] of D[j-1][l] + cost(l, i); an explicit stack
  // of (lo, hi, optLo, optHi) ranges instead of recursion, cost inlined (this loop is all the time).
  const stack = new Int32Array(4 * 64);
  for (let j = 2; j <= k; j++) {
    const arg = starts[j - 1];
    let top = 0;
    stack[0] = j;
    stack[1] = m;
    stack[2] = j - 1;
    stack[3] = m - 1;
    top = 1;
    while (top > 0) {
      top--;
      const lo = stack[4 * top];
      const hi = stack[4 * top + 1];
      const optLo = stack[4 * top + 2];
      const optHi = stack[4 * top + 3];
      if (lo > hi) continue;
      const mid = (lo + hi) >> 1;
      let best = Infinity;
      let bestL = optLo;
      const upper = Math.min(mid - 1, optHi);
      const p1m = p1[mid];
      const p2m = p2[mid];
      const wm = w[mid];
      for (let l = optLo; l <= upper; l++) {
        const sw = wm - w[l];
        const s1 = p1m - p1[l];
        const c = previous[l] + (p2m - p2[l] - (s1 * s1) / sw);
        if (c < best) {
          best = c;
          bestL = l;
        }
      }
      current[mid] = best;
      arg[mid] = bestL;
      stack[4 * top] = lo;
      stack[4 * top + 1] = mid - 1;
      stack[4 * top + 2] = optLo;
      stack[4 * top + 3] = bestL;
      stack[4 * top + 4] = mid + 1;
      stack[4 * top + 5] = hi;
      stack[4 * top + 6] = bestL;
      stack[4 * top + 7] = optHi;
      top += 2;
    }
    [previous, current] = [current, previous];
  }
  const result = new Int32Array(k);
  let end = m;
  for (let j = k; j >= 2; j--) {
    const l = starts[j - 1][end];
    result[j - 1] = l;
    end = l;
  }
  result[0] = 0;
  return result;
}

/** Centroids of segments starting at `starts` (of the points in s). */
function segmentCentroids(s: Sorted, starts: Int32Array): Float64Array {
  const k = starts.length;
  const m = s.values.length;
  const c = new Float64Array(k);
  for (let j = 0; j < k; j++) c[j] = segmentMean(s, starts[j], j + 1 < k ? starts[j + 1] : m);
  return c;
}

/** First index i of s.values with values[i] >= x. */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lloyd iterations on sorted points with prefix sums; centroids sorted in place. Empty clusters are dropped. */
function lloydSorted(s: Sorted, initial: Float64Array, maxIterations: number): { centroids: Float64Array; iterations: number } {
  let c = Float64Array.from(initial).sort();
  const m = s.values.length;
  let bounds = new Int32Array(c.length + 1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const k = c.length;
    const next = new Int32Array(k + 1);
    next[k] = m;
    // Ties at a midpoint go to the lower centroid, as naive Lloyd's first-minimum scan does.
    for (let j = 1; j < k; j++) next[j] = upperBoundMid(s.values, (c[j - 1] + c[j]) / 2);
    let changed = iterations === 0 || next.length !== bounds.length;
    if (!changed) for (let j = 0; j <= k; j++) if (next[j] !== bounds[j]) changed = true;
    bounds = next;
    if (!changed) break;
    const kept: number[] = [];
    for (let j = 0; j < k; j++) if (bounds[j + 1] > bounds[j]) kept.push(segmentMean(s, bounds[j], bounds[j + 1]));
    c = Float64Array.from(kept);
  }
  return { centroids: c, iterations };
}

/** First index with values[i] > x (points equal to a midpoint stay with the lower cluster). */
function upperBoundMid(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}


/** Initial centroids on sorted distinct points `s` (k-means++ on runs for big tensors). */
function initialCentroids(s: Sorted, k: number, init: ClusterInit, seed: number): Float64Array {
  const m = s.values.length;
  const lo = s.values[0];
  const hi = s.values[m - 1];
  const random = seededRandom(seed);
  switch (init) {
    case 'linear':
      return Float64Array.from({ length: k }, (_, j) => lo + ((hi - lo) * (j + 0.5)) / k);
    case 'density': {
      // Quantiles of the value distribution (the CDF split into k equal parts).
      return Float64Array.from({ length: k }, (_, j) => s.values[Math.min(m - 1, lowerBound(s.w, ((j + 0.5) * s.n) / k + 1e-9) - 1)] ?? lo);
    }
    case 'random': {
      // k draws from the data (weighted by how often each value occurs), duplicates redrawn.
      const chosen = new Set<number>();
      for (let tries = 0; chosen.size < k && tries < 50 * k; tries++) {
        const i = Math.max(0, lowerBound(s.w, random() * s.n + 1e-9) - 1);
        chosen.add(Math.min(m - 1, i));
      }
      return Float64Array.from([...chosen].map((i) => s.values[i]));
    }
    case 'kmeans++': {
      const points = m > 8192 ? mergeRuns(s, 4096) : s;
      const p = points.values.length;
      const d2 = new Float64Array(p).fill(Infinity);
      const centers: number[] = [];
      let pick = Math.max(0, lowerBound(points.w, random() * points.n + 1e-9) - 1);
      for (let j = 0; j < k; j++) {
        const c = points.values[Math.min(p - 1, pick)];
        centers.push(c);
        let total = 0;
        for (let i = 0; i < p; i++) {
          const d = points.values[i] - c;
          if (d * d < d2[i]) d2[i] = d * d;
          total += d2[i] * points.counts[i];
        }
        if (total <= 0) break;
        let r = random() * total;
        pick = p - 1;
        for (let i = 0; i < p; i++) {
          r -= d2[i] * points.counts[i];
          if (r <= 0) {
            pick = i;
            break;
          }
        }
      }
      return Float64Array.from(new Set(centers));
    }
  }
}

/** Squared error of the data against sorted centroids (each value to its nearest centroid). */
export function clusterError(data: ArrayLike<number>, centroids: Float64Array): number {
  const k = centroids.length;
  const mids = new Float64Array(Math.max(0, k - 1));
  for (let j = 1; j < k; j++) mids[j - 1] = (centroids[j - 1] + centroids[j]) / 2;
  let sse = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const d = v - centroids[nearestIndex(mids, v)];
    sse += d * d;
  }
  return sse;
}

/** Index of the nearest centroid, from the sorted midpoints between neighbours. */
export function nearestIndex(mids: Float64Array, v: number): number {
  let lo = 0;
  let hi = mids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (mids[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sseOf(s: Sorted, centroids: Float64Array): number {
  const k = centroids.length;
  const m = s.values.length;
  let sse = 0;
  let start = 0;
  for (let j = 0; j < k; j++) {
    const end = j + 1 < k ? upperBoundMid(s.values, (centroids[j] + centroids[j + 1]) / 2) : m;
    const w = s.w[end] - s.w[start];
    if (w > 0) {
      const p1 = s.p1[end] - s.p1[start];
      const c = centroids[j] - s.mean;
      sse += s.p2[end] - s.p2[start] - 2 * c * p1 + c * c * w;
    }
    start = end;
  }
  return Math.max(0, sse);
}

/** k-means of 1-D data. k must be at least 2 (a tensor with at most k distinct values is returned as is). */
export function kmeans1d(data: ArrayLike<number>, k: number, options: KMeansOptions = {}): KMeansResult {
  if (!Number.isInteger(k) || k < 2) throw new WorkbenchError('bad-input', `k-means needs k >= 2 clusters, got ${k}.`);
  if (data.length === 0) return { centroids: new Float64Array(0), sse: 0, iterations: 0, exact: true };
  const s = sortedDistinct(data);
  if (s.values.length <= k) return { centroids: s.values, sse: 0, iterations: 0, exact: true };
  const algorithm = options.algorithm ?? 'optimal';
  const maxIterations = options.maxIterations ?? 300;
  if (algorithm === 'lloyd') {
    const init = initialCentroids(s, k, options.init ?? 'kmeans++', options.seed ?? 0);
    const { centroids, iterations } = lloydSorted(s, init, maxIterations);
    return { centroids, sse: sseOf(s, centroids), iterations, exact: false };
  }
  const maxPoints = options.maxPoints ?? 4096;
  const exact = s.values.length <= maxPoints;
  const points = exact ? s : mergeRuns(s, maxPoints);
  if (points.values.length <= k) {
    const { centroids, iterations } = lloydSorted(s, points.values, maxIterations);
    return { centroids, sse: sseOf(s, centroids), iterations, exact: false };
  }
  let centroids = segmentCentroids(points, optimalSegments(points, k));
  let iterations = 0;
  if (!exact) {
    const polished = lloydSorted(s, centroids, maxIterations);
    centroids = polished.centroids;
    iterations = polished.iterations;
  }
  return { centroids, sse: sseOf(s, centroids), iterations, exact };
}

/** Naive Lloyd (assign every value to its nearest centroid by a scan, O(n k) per iteration): the baseline. */
export function lloydNaive(data: ArrayLike<number>, initial: Float64Array, maxIterations = 300): { centroids: Float64Array; sse: number; iterations: number } {
  let c = Float64Array.from(initial).sort();
  const n = data.length;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const k = c.length;
    const sums = new Float64Array(k);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const v = data[i];
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const d = (v - c[j]) * (v - c[j]);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      }
      sums[best] += v;
      counts[best]++;
    }
    const kept: number[] = [];
    for (let j = 0; j < k; j++) if (counts[j] > 0) kept.push(sums[j] / counts[j]);
    const next = Float64Array.from(kept);
    const same = next.length === c.length && next.every((x, j) => x === c[j]);
    c = next;
    if (same) break;
  }
  return { centroids: c, sse: clusterError(data, c), iterations };
}

/** The initial centroids an init would give (exposed for the benchmark and naive-Lloyd comparison). */
export function initialCentroidsOf(data: ArrayLike<number>, k: number, init: ClusterInit, seed = 0): Float64Array {
  return initialCentroids(sortedDistinct(data), k, init, seed);
}

export { seededRandom };
