/**
 * How far a candidate's outputs are from the reference's: error metrics for float arrays (the
 * candidate already dequantized) and classification metrics, each either for one pair of arrays
 * or pooled over a dataset.
 *
 * Pooling: sums, not averages of per-sample figures. SQNR over a dataset is
 * 10 log10(sum of signal power / sum of noise power) over all values of all samples; cosine
 * similarity is that of the concatenated vectors; MSE is the total squared error over the total
 * count; max abs error is the largest seen. Sums are float64.
 *
 * Edge cases: no noise gives SQNR +Infinity (and cosine 1); a zero reference with noise gives
 * -Infinity; two all-zero vectors have cosine 1, one zero vector and one not 0.
 */
import { sqnrFromPowers } from '../sqnr';

export interface ErrorStats {
  /** Sum of reference^2. */
  signal: number;
  /** Sum of (reference - candidate)^2. */
  noise: number;
  /** Sum of reference * candidate, and of candidate^2 (for the cosine). */
  dot: number;
  candidateEnergy: number;
  maxAbsError: number;
  count: number;
}

export interface ErrorSummary {
  /** Signal-to-quantization-noise ratio, dB. */
  sqnrDb: number;
  cosine: number;
  maxAbsError: number;
  /** Mean squared error. */
  mse: number;
  count: number;
}

export function newErrorStats(): ErrorStats {
  return { signal: 0, noise: 0, dot: 0, candidateEnergy: 0, maxAbsError: 0, count: 0 };
}

type Numbers = ArrayLike<number>;

/** Adds one pair of arrays (same length) to the pooled sums. */
export function addError(stats: ErrorStats, reference: Numbers, candidate: Numbers): void {
  const n = reference.length;
  if (candidate.length !== n) throw new RangeError(`cannot compare ${n} reference values with ${candidate.length} candidate values`);
  let signal = 0;
  let noise = 0;
  let dot = 0;
  let energy = 0;
  let maxAbs = stats.maxAbsError;
  for (let i = 0; i < n; i++) {
    const r = reference[i];
    const c = candidate[i];
    const d = r - c;
    signal += r * r;
    noise += d * d;
    dot += r * c;
    energy += c * c;
    const a = d < 0 ? -d : d;
    if (a > maxAbs || a !== a) maxAbs = a !== a ? NaN : a;
  }
  stats.signal += signal;
  stats.noise += noise;
  stats.dot += dot;
  stats.candidateEnergy += energy;
  stats.maxAbsError = maxAbs;
  stats.count += n;
}

/** Merges `other` into `into` (e.g. per-worker partial sums). */
export function mergeErrors(into: ErrorStats, other: ErrorStats): void {
  into.signal += other.signal;
  into.noise += other.noise;
  into.dot += other.dot;
  into.candidateEnergy += other.candidateEnergy;
  into.maxAbsError = Math.max(into.maxAbsError, other.maxAbsError);
  into.count += other.count;
}

export function summarizeErrors(stats: ErrorStats): ErrorSummary {
  return {
    sqnrDb: sqnrFromPowers(stats.signal, stats.noise),
    cosine: cosineFromSums(stats.dot, stats.signal, stats.candidateEnergy),
    maxAbsError: stats.maxAbsError,
    mse: stats.count ? stats.noise / stats.count : NaN,
    count: stats.count,
  };
}

/** Everything for one pair of arrays. */
export function compareArrays(reference: Numbers, candidate: Numbers): ErrorSummary {
  const stats = newErrorStats();
  addError(stats, reference, candidate);
  return summarizeErrors(stats);
}

export function sqnrDb(reference: Numbers, candidate: Numbers): number {
  return compareArrays(reference, candidate).sqnrDb;
}

export function cosineSimilarity(reference: Numbers, candidate: Numbers): number {
  return compareArrays(reference, candidate).cosine;
}

export function maxAbsError(reference: Numbers, candidate: Numbers): number {
  return compareArrays(reference, candidate).maxAbsError;
}

export function meanSquaredError(reference: Numbers, candidate: Numbers): number {
  return compareArrays(reference, candidate).mse;
}

export { sqnrFromPowers };

function cosineFromSums(dot: number, a: number, b: number): number {
  if (a === 0 && b === 0) return 1;
  if (a === 0 || b === 0) return 0;
  return dot / Math.sqrt(a * b);
}

// ---------------------------------------------------------------------------------------------
// Classification

/** Indices of the k largest scores, largest first; ties go to the lower index. NaN scores sort last. */
export function topK(scores: Numbers, k: number): number[] {
  const n = scores.length;
  const best: number[] = [];
  const better = (i: number, j: number) => {
    const a = scores[i];
    const b = scores[j];
    if (a !== a) return false;
    if (b !== b) return true;
    return a > b || (a === b && i < j);
  };
  for (let i = 0; i < n; i++) {
    if (best.length === k && !better(i, best[k - 1])) continue;
    let at = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(i);
    while (at > 0 && better(i, best[at - 1])) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = i;
  }
  return best;
}

export function argmax(scores: Numbers): number {
  return topK(scores, 1)[0] ?? -1;
}

export interface ClassificationStats {
  /** Predictions compared (rows of the classifier output). */
  count: number;
  /** Rows where the candidate's top-1 class equals the reference's. */
  agreements: number;
  /** With labels: rows whose label is the top-1 / among the top-5 of the reference and of the candidate. */
  labeled: number;
  referenceTop1: number;
  referenceTop5: number;
  candidateTop1: number;
  candidateTop5: number;
}

export interface ClassificationSummary {
  count: number;
  /** Fraction of rows where the candidate's top-1 equals the reference's. */
  agreement: number;
  /** Present when labels were given. */
  accuracy?: {
    labeled: number;
    reference: { top1: number; top5: number };
    candidate: { top1: number; top5: number };
  };
}

export function newClassificationStats(): ClassificationStats {
  return { count: 0, agreements: 0, labeled: 0, referenceTop1: 0, referenceTop5: 0, candidateTop1: 0, candidateTop5: 0 };
}

/**
 * Adds one prediction: the reference's and the candidate's scores for one row, and the row's label
 * (class index) when known. Returns the candidate's hits on that label (bit 0: top-1 is the label,
 * bit 1: top-5 holds it; 0 without a label), for callers that keep them per sample.
 */
export function addPrediction(stats: ClassificationStats, reference: Numbers, candidate: Numbers, label?: number): number {
  const r = topK(reference, 5);
  const c = topK(candidate, 5);
  stats.count++;
  if (r[0] === c[0]) stats.agreements++;
  if (label === undefined || label === null || Number.isNaN(label)) return 0;
  stats.labeled++;
  if (r[0] === label) stats.referenceTop1++;
  if (r.includes(label)) stats.referenceTop5++;
  const hits = (c[0] === label ? 1 : 0) | (c.includes(label) ? 2 : 0);
  stats.candidateTop1 += hits & 1;
  stats.candidateTop5 += hits >> 1;
  return hits;
}

export function summarizeClassification(stats: ClassificationStats): ClassificationSummary {
  const summary: ClassificationSummary = { count: stats.count, agreement: stats.count ? stats.agreements / stats.count : NaN };
  if (stats.labeled) {
    const n = stats.labeled;
    summary.accuracy = {
      labeled: n,
      reference: { top1: stats.referenceTop1 / n, top5: stats.referenceTop5 / n },
      candidate: { top1: stats.candidateTop1 / n, top5: stats.candidateTop5 / n },
    };
  }
  return summary;
}

/** Top-1 / top-5 accuracy of one model's scores against labels (one row of scores per label). */
export function accuracy(scores: Numbers[], labels: ArrayLike<number>): { top1: number; top5: number } {
  let top1 = 0;
  let top5 = 0;
  scores.forEach((row, i) => {
    const best = topK(row, 5);
    if (best[0] === labels[i]) top1++;
    if (best.includes(labels[i])) top5++;
  });
  return { top1: scores.length ? top1 / scores.length : NaN, top5: scores.length ? top5 / scores.length : NaN };
}
