/**
 * Per-tensor activation statistics, accumulated one sample at a time: exact min/max, moving-average
 * min/max, a count of exact zeros, and a histogram fine enough for percentile and MSE clipping.
 *
 * The histogram has a fixed number of bins (2048 by default) whose width is a power of two, 2^e,
 * with bin edges on the multiples of the width (anchored at 0):
 *   bin i covers [(origin + i) * 2^e, (origin + i + 1) * 2^e).
 * When a sample falls outside the window, the window moves (exact: counts only change index) or,
 * when the data no longer spans fewer than `bins` bins, the width doubles as often as needed and
 * each coarse bin takes the sum of the fine bins inside it (exact too: coarse edges are fine edges).
 * So the final histogram is exactly the histogram of all values at the final width, and the width is
 * the smallest power of two at which the observed range spans at most `bins` bins (between bins/2
 * and bins bins cover [min, max]), whatever the order of the samples. Binning itself is exact (a
 * value times a power of two is exact in floating point, then floored). With 2048 bins the bin
 * width is at most 1/1024 of the range: four bins or more per int8 step over the full range, about
 * one per step for a clip that keeps a quarter of it.
 *
 * Everything is plain data (numbers and a Float64Array), so statistics cross worker boundaries by
 * structured clone. Non-finite values (NaN, +-Infinity) are counted and otherwise ignored.
 */

export const DEFAULT_BINS = 2048;
/** Moving-average momentum: after each sample, m = momentum * m + (1 - momentum) * sample value. */
export const DEFAULT_MOMENTUM = 0.99;

export interface Histogram {
  /** Bin width is 2^exponent. */
  exponent: number;
  /** Absolute index (in units of the bin width, from 0) of counts[0]. */
  origin: number;
  /** Counts per bin (float64: exact integers up to 2^53). */
  counts: Float64Array;
}

export interface TensorStats {
  /** `${subgraph}:${tensorIndex}` in the graph that was calibrated (see rangeKey). */
  key: string;
  subgraph: number;
  tensorIndex: number;
  name: string;
  /** Model runs (samples) that produced this tensor. */
  samples: number;
  /** Finite values seen. */
  count: number;
  /** NaN / infinite values seen (left out of everything else). */
  nonFinite: number;
  /** Values exactly 0 (ReLU outputs are often mostly zeros; zero quantizes without error). */
  zeros: number;
  min: number;
  max: number;
  /** Exponential moving average of each sample's min / max (the first sample initializes it). */
  movingMin: number;
  movingMax: number;
  histogram: Histogram;
}

export function newTensorStats(subgraph: number, tensorIndex: number, name: string, bins = DEFAULT_BINS): TensorStats {
  return {
    key: `${subgraph}:${tensorIndex}`,
    subgraph,
    tensorIndex,
    name,
    samples: 0,
    count: 0,
    nonFinite: 0,
    zeros: 0,
    min: Infinity,
    max: -Infinity,
    movingMin: NaN,
    movingMax: NaN,
    histogram: { exponent: 0, origin: 0, counts: new Float64Array(bins) },
  };
}

/** A deep copy (the histogram counts are copied). */
export function copyStats(stats: TensorStats): TensorStats {
  return { ...stats, histogram: { ...stats.histogram, counts: stats.histogram.counts.slice() } };
}

/** One chunk's range, zeros and non-finite values (reused: no allocation per call). */
const scanned = { lo: Infinity, hi: -Infinity, zeros: 0, nonFinite: 0 };

/**
 * Values per chunk: small enough that a chunk (16 KB) and the counts (16 KB) stay in the L1 cache
 * between the scan and the binning, so each value is fetched from memory once.
 */
const CHUNK = 4096;

/**
 * Adds one sample's values to the statistics, chunk by chunk: scan a chunk (min, max, zeros,
 * non-finite values), fit the histogram window to the range so far, bin the chunk. No allocation
 * beyond an Int32Array view per chunk. With `histogram` false, only min, max, the moving averages
 * and the counts: no binning and no zero count (what minmax / moving-average ranges need).
 */
export function accumulate(stats: TensorStats, data: Float32Array, momentum = DEFAULT_MOMENTUM, binStride = 1, histogram = true): void {
  const n = data.length;
  let sampleMin = Infinity;
  let sampleMax = -Infinity;
  let finite = 0;
  stats.samples++;
  for (let start = 0; start < n; start += CHUNK) {
    const chunk = n <= CHUNK ? data : data.subarray(start, Math.min(n, start + CHUNK));
    scan(chunk, histogram);
    const { lo, hi, zeros, nonFinite } = scanned;
    stats.nonFinite += nonFinite;
    const count = chunk.length - nonFinite;
    if (count === 0) continue;
    finite += count;
    stats.count += count;
    stats.zeros += zeros;
    if (lo < sampleMin) sampleMin = lo;
    if (hi > sampleMax) sampleMax = hi;
    const previousMin = stats.min;
    const previousMax = stats.max;
    if (lo < stats.min) stats.min = lo;
    if (hi > stats.max) stats.max = hi;
    if (!histogram) continue;
    fitWindow(stats.histogram, stats.min, stats.max, previousMin, previousMax);
    binChunk(stats.histogram, chunk, nonFinite > 0, binStride, start % binStride);
  }
  updateMovingAverage(stats, finite, sampleMin, sampleMax, momentum);
}

/**
 * Adds one sample known only by its summary, `count` finite values between `min` and `max`: what
 * `accumulate` with `histogram` false does from the values themselves, field by field and in the
 * same arithmetic (runs/reduced-in-litert.test.ts checks they are equal). The reductions inside LiteRT
 * (runs/reduced-in-litert.ts) hand over such summaries.
 */
export function accumulateSummary(stats: TensorStats, min: number, max: number, count: number, momentum = DEFAULT_MOMENTUM): void {
  stats.samples++;
  if (count === 0) return;
  stats.count += count;
  if (min < stats.min) stats.min = min;
  if (max > stats.max) stats.max = max;
  updateMovingAverage(stats, count, min, max, momentum);
}

function updateMovingAverage(stats: TensorStats, finite: number, sampleMin: number, sampleMax: number, momentum: number): void {
  if (finite === 0) return;
  if (Number.isNaN(stats.movingMin)) {
    stats.movingMin = sampleMin;
    stats.movingMax = sampleMax;
  } else {
    stats.movingMin = momentum * stats.movingMin + (1 - momentum) * sampleMin;
    stats.movingMax = momentum * stats.movingMax + (1 - momentum) * sampleMax;
  }
}

/**
 * Counts the values into the histogram, whose window covers them. Every finite value v satisfies
 * 0 <= v * scale - origin < bins, and that difference is exact (v * scale is exact, and the result
 * has at most 53 significant bits), so truncating it with `| 0` is the floor, and cheaper than
 * Math.floor.
 */
function binChunk(h: Histogram, data: Float32Array, hasNonFinite: boolean, stride: number, phase: number): void {
  const counts = h.counts;
  const scale = 2 ** -h.exponent;
  const origin = h.origin;
  const n = data.length;
  // With a stride, every stride-th value stands for `stride` values: the counts keep their totals.
  const first = phase === 0 ? 0 : stride - phase;
  if (!hasNonFinite) {
    if (stride === 1) {
      for (let i = 0; i < n; i++) counts[(data[i] * scale - origin) | 0] += 1;
      return;
    }
    for (let i = first; i < n; i += stride) counts[(data[i] * scale - origin) | 0] += stride;
    return;
  }
  for (let i = first; i < n; i += stride) {
    const v = data[i];
    if (v - v === 0) counts[(v * scale - origin) | 0] += stride; // false for NaN and +-Infinity
  }
}

/** Values binned per sample and tensor, at most (about): beyond it, a strided subset is binned. */
export const BINNED_VALUES_PER_SAMPLE = 16384;
const STRIDES = [1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31];

/**
 * The binning stride for a tensor: a small prime that does not divide the channel count, so the
 * subset walks through every channel of an NHWC tensor rather than sampling a few of them. Min, max,
 * zeros and moving averages always see every value; only the histogram is sampled.
 */
export function binStride(length: number, channels: number): number {
  const wanted = length / BINNED_VALUES_PER_SAMPLE;
  let stride = 1;
  for (const prime of STRIDES) {
    if (prime > wanted) break;
    if (channels % prime !== 0) stride = prime;
  }
  return stride;
}

/**
 * Min, max, zeros and non-finite count of a chunk into `scanned`. The hot loop keeps four
 * independent min/max lanes updated with selects (`v < lo ? v : lo`, compiled without a branch),
 * so its speed does not depend on the data: an earlier version (the min and max of each pair
 * first, then `if`s) ran 2.4 ns per value on real activations against 0.9 on uniform noise, this
 * one 1.4-1.7 on both (Node 20). Zeros are counted without a branch: for the float's bits b,
 * ((b & 0x7fffffff) - 1) >>> 31 is 1 exactly for +0 and -0. Non-finite values (which the selects
 * would skip) are caught from the bits too: (b & 0x7fffffff) + 2^23 has its sign bit set exactly
 * when the exponent is all ones (NaN, +-Infinity); any such value sends the chunk to an exact,
 * slower loop. `countZeros` false skips the zero count (reported as 0).
 */
function scan(data: Float32Array, countZeros = true): void {
  const n = data.length;
  const bits = new Int32Array(data.buffer, data.byteOffset, n);
  let l0 = Infinity;
  let h0 = -Infinity;
  let l1 = Infinity;
  let h1 = -Infinity;
  let l2 = Infinity;
  let h2 = -Infinity;
  let l3 = Infinity;
  let h3 = -Infinity;
  let zeros = 0;
  let flags = 0;
  let i = 0;
  if (countZeros) {
    for (; i + 3 < n; i += 4) {
      const v = data[i];
      const w = data[i + 1];
      const x = data[i + 2];
      const y = data[i + 3];
      l0 = v < l0 ? v : l0;
      h0 = v > h0 ? v : h0;
      l1 = w < l1 ? w : l1;
      h1 = w > h1 ? w : h1;
      l2 = x < l2 ? x : l2;
      h2 = x > h2 ? x : h2;
      l3 = y < l3 ? y : l3;
      h3 = y > h3 ? y : h3;
      const b0 = bits[i] & 0x7fffffff;
      const b1 = bits[i + 1] & 0x7fffffff;
      const b2 = bits[i + 2] & 0x7fffffff;
      const b3 = bits[i + 3] & 0x7fffffff;
      zeros += (((b0 - 1) >>> 31) + ((b1 - 1) >>> 31)) + (((b2 - 1) >>> 31) + ((b3 - 1) >>> 31));
      flags |= (b0 + 0x00800000) | (b1 + 0x00800000) | (b2 + 0x00800000) | (b3 + 0x00800000);
    }
  } else {
    for (; i + 3 < n; i += 4) {
      const v = data[i];
      const w = data[i + 1];
      const x = data[i + 2];
      const y = data[i + 3];
      l0 = v < l0 ? v : l0;
      h0 = v > h0 ? v : h0;
      l1 = w < l1 ? w : l1;
      h1 = w > h1 ? w : h1;
      l2 = x < l2 ? x : l2;
      h2 = x > h2 ? x : h2;
      l3 = y < l3 ? y : l3;
      h3 = y > h3 ? y : h3;
      flags |= ((bits[i] & 0x7fffffff) + 0x00800000) | ((bits[i + 1] & 0x7fffffff) + 0x00800000) | ((bits[i + 2] & 0x7fffffff) + 0x00800000) | ((bits[i + 3] & 0x7fffffff) + 0x00800000);
    }
  }
  for (; i < n; i++) {
    const v = data[i];
    const b = bits[i] & 0x7fffffff;
    l0 = v < l0 ? v : l0;
    h0 = v > h0 ? v : h0;
    if (countZeros) zeros += (b - 1) >>> 31;
    flags |= b + 0x00800000;
  }
  if (flags < 0) {
    scanExact(data);
    if (!countZeros) scanned.zeros = 0;
    return;
  }
  const lo01 = l0 < l1 ? l0 : l1;
  const lo23 = l2 < l3 ? l2 : l3;
  const hi01 = h0 > h1 ? h0 : h1;
  const hi23 = h2 > h3 ? h2 : h3;
  scanned.lo = lo01 < lo23 ? lo01 : lo23;
  scanned.hi = hi01 > hi23 ? hi01 : hi23;
  scanned.zeros = zeros;
  scanned.nonFinite = 0;
}

function scanExact(data: Float32Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  let zeros = 0;
  let nonFinite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v - v === 0)) {
      nonFinite++;
      continue;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v === 0) zeros++;
  }
  scanned.lo = lo;
  scanned.hi = hi;
  scanned.zeros = zeros;
  scanned.nonFinite = nonFinite;
}

/** Smallest exponent (>= `from`) at which [lo, hi] spans at most `bins` bins. */
function fitExponent(lo: number, hi: number, bins: number, from: number): number {
  let e = from;
  if (hi > lo) e = Math.max(e, Math.ceil(Math.log2((hi - lo) / bins)) - 1);
  while (Math.floor(hi * 2 ** -e) - Math.floor(lo * 2 ** -e) > bins - 1) e++;
  return e;
}

/** Exponent for a histogram that has seen a single value v so far: fine, but not absurdly so. */
function initialExponent(v: number, bins: number): number {
  const magnitude = Math.abs(v);
  // Bins of about |v| / bins; for 0, 2^-40 (any later data coarsens it exactly).
  return magnitude > 0 ? Math.floor(Math.log2(magnitude / bins)) : -40;
}

/**
 * Makes the histogram window cover [lo, hi] (the range including the new sample), given the range
 * [previousMin, previousMax] of the values already binned (empty when previousMin > previousMax).
 */
function fitWindow(h: Histogram, lo: number, hi: number, previousMin: number, previousMax: number): void {
  const bins = h.counts.length;
  if (previousMin > previousMax || (previousMin === previousMax && (lo < previousMin || hi > previousMax))) {
    // Nothing binned yet, or only copies of one value: start from the finest width that fits, and
    // put those copies (if any) back in their bin. This keeps the result independent of the order
    // of the samples even when the first ones are constant.
    const held = previousMin === previousMax ? h.counts.reduce((a, b) => a + b, 0) : 0;
    h.exponent = hi > lo ? fitExponent(lo, hi, bins, -1074) : initialExponent(lo, bins);
    h.origin = centeredOrigin(lo, hi, h.exponent, bins);
    h.counts.fill(0);
    if (held) h.counts[Math.floor(previousMin * 2 ** -h.exponent) - h.origin] = held;
    return;
  }
  const scale = 2 ** -h.exponent;
  const loBin = Math.floor(lo * scale);
  const hiBin = Math.floor(hi * scale);
  if (loBin >= h.origin && hiBin < h.origin + bins) return;
  const exponent = fitExponent(lo, hi, bins, h.exponent);
  const origin = centeredOrigin(lo, hi, exponent, bins);
  rebin(h, exponent, origin);
}

function centeredOrigin(lo: number, hi: number, exponent: number, bins: number): number {
  const scale = 2 ** -exponent;
  const loBin = Math.floor(lo * scale);
  const span = Math.floor(hi * scale) - loBin + 1;
  return loBin - Math.floor((bins - span) / 2);
}

function rebin(h: Histogram, exponent: number, origin: number): void {
  const old = h.counts;
  const counts = new Float64Array(old.length);
  const factor = 2 ** (exponent - h.exponent);
  for (let i = 0; i < old.length; i++) {
    const c = old[i];
    if (c === 0) continue;
    const j = Math.floor((h.origin + i) / factor) - origin;
    if (j < 0 || j >= counts.length) throw new Error(`histogram rebin out of range (${j})`);
    counts[j] += c;
  }
  h.counts = counts;
  h.exponent = exponent;
  h.origin = origin;
}

/** Bin width of a histogram. */
export function binWidth(h: Histogram): number {
  return 2 ** h.exponent;
}

/**
 * The histogram as occupied bins with bounds clipped to [min, max] (so the first and last bins
 * describe the data, not the grid): lower[i], upper[i], count[i], for the bins from the first to the
 * last non-empty one.
 */
export interface OccupiedBins {
  lower: Float64Array;
  upper: Float64Array;
  count: Float64Array;
  total: number;
  /** The bin [0, width) holding the exact zeros (at its lower bound), or -1. */
  zeroBin: number;
  /** How many of that bin's values are exactly 0. */
  zeros: number;
}

export function occupiedBins(stats: TensorStats): OccupiedBins {
  const h = stats.histogram;
  const counts = h.counts;
  let first = 0;
  while (first < counts.length && counts[first] === 0) first++;
  let last = counts.length - 1;
  while (last >= first && counts[last] === 0) last--;
  const n = Math.max(0, last - first + 1);
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  const count = new Float64Array(n);
  const w = binWidth(h);
  let total = 0;
  let zeroBin = -1;
  for (let k = 0; k < n; k++) {
    const abs = h.origin + first + k;
    lower[k] = Math.max(abs * w, stats.min);
    upper[k] = Math.min((abs + 1) * w, stats.max);
    count[k] = counts[first + k];
    total += count[k];
    if (abs === 0) zeroBin = k;
  }
  return { lower, upper, count, total, zeroBin, zeros: zeroBin >= 0 ? stats.zeros : 0 };
}
