/** Metrics against hand-computed values. */
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  addError,
  addPrediction,
  argmax,
  compareArrays,
  cosineSimilarity,
  maxAbsError,
  meanSquaredError,
  mergeErrors,
  newClassificationStats,
  newErrorStats,
  sqnrDb,
  summarizeClassification,
  summarizeErrors,
  topK,
} from './metrics';

describe('error metrics', () => {
  it('SQNR of x vs x + noise of known power', () => {
    // Signal power 1 per value (+-1), noise power 0.01 per value (+-0.1): SQNR = 10 log10(100) = 20 dB.
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1));
    const noisy = Float64Array.from(x, (v, i) => v + (i % 3 ? 0.1 : -0.1));
    expect(sqnrDb(x, noisy)).toBeCloseTo(20, 10);
    // 3-4-5: signal 9 + 16 = 25, noise 1: 10 log10(25) = 13.9794 dB.
    expect(sqnrDb([3, 4], [3, 5])).toBeCloseTo(13.979400086720377, 12);
  });

  it('cosine similarity, max abs error, MSE', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 15);
    expect(cosineSimilarity([1, 0], [-1, 0])).toBe(-1);
    expect(maxAbsError([1, 2, 3], [1.5, 2, 0])).toBe(3);
    expect(meanSquaredError([1, 2, 3], [1.5, 2, 0])).toBeCloseTo((0.25 + 0 + 9) / 3, 15);
    expect(compareArrays([1, 2, 3], [1.5, 2, 0])).toEqual({
      sqnrDb: 10 * Math.log10(14 / 9.25),
      cosine: (1.5 + 4) / Math.sqrt(14 * 6.25),
      maxAbsError: 3,
      mse: 9.25 / 3,
      count: 3,
    });
  });

  it('edge cases: identical, zero reference, all zeros, NaN', () => {
    expect(compareArrays([1, 2], [1, 2])).toMatchObject({ sqnrDb: Infinity, cosine: 1, maxAbsError: 0, mse: 0 });
    expect(compareArrays([0, 0], [0, 1])).toMatchObject({ sqnrDb: -Infinity, cosine: 0, maxAbsError: 1 });
    expect(compareArrays([0, 0], [0, 0])).toMatchObject({ sqnrDb: Infinity, cosine: 1 });
    expect(Number.isNaN(compareArrays([1, 2], [1, NaN]).maxAbsError)).toBe(true);
    expect(Number.isNaN(summarizeErrors(newErrorStats()).mse)).toBe(true);
    expect(() => compareArrays([1], [1, 2])).toThrow(RangeError);
  });

  it('pools over samples: total signal over total noise, not the mean of per-sample SQNRs', () => {
    const pooled = newErrorStats();
    addError(pooled, [3, 4], [3, 5]); // signal 25, noise 1
    addError(pooled, [5, 5, 5], [5, 5, 5]); // signal 75, noise 0
    const summary = summarizeErrors(pooled);
    expect(summary.sqnrDb).toBeCloseTo(20, 12); // 10 log10(100 / 1)
    expect(summary.mse).toBeCloseTo(1 / 5, 15);
    expect(summary.maxAbsError).toBe(1);
    expect(summary.count).toBe(5);
    expect(summary.cosine).toBeCloseTo((9 + 20 + 75) / Math.sqrt(100 * (9 + 25 + 75)), 15);
    // Merging partial sums gives the same result.
    const a = newErrorStats();
    const b = newErrorStats();
    addError(a, [3, 4], [3, 5]);
    addError(b, [5, 5, 5], [5, 5, 5]);
    mergeErrors(a, b);
    expect(summarizeErrors(a)).toEqual(summary);
  });
});

describe('classification metrics', () => {
  it('topK: largest first, ties to the lower index, NaN last', () => {
    expect(topK([0.1, 0.5, 0.5, 0.2], 3)).toEqual([1, 2, 3]);
    expect(topK([0.1, 0.5, 0.5, 0.2], 10)).toEqual([1, 2, 3, 0]);
    expect(topK([NaN, 1, 2], 3)).toEqual([2, 1, 0]);
    expect(topK(Float32Array.of(3, 1, 4, 1, 5, 9, 2, 6), 5)).toEqual([5, 7, 4, 2, 0]);
    expect(argmax([2, 7, 1, 8, 2, 8])).toBe(3);
    expect(argmax([])).toBe(-1);
  });

  it('agreement and top-1 / top-5 accuracy', () => {
    const stats = newClassificationStats();
    const scores = (best: number[]) => Array.from({ length: 10 }, (_, i) => (best.includes(i) ? 10 - best.indexOf(i) : 0));
    // Sample 1: both predict 3, label 3. Sample 2: reference 1, candidate 2 (label 2, in both top-5).
    // Sample 3: both predict 0, label 9 (in neither top-5). Sample 4: no label, reference 5, candidate 6.
    // The returned hit bits (top-1 = 1, top-5 = 2) are the candidate's, per sample.
    expect(addPrediction(stats, scores([3, 1]), scores([3, 2]), 3)).toBe(3);
    expect(addPrediction(stats, scores([1, 2, 3]), scores([2, 1, 3]), 2)).toBe(3);
    expect(addPrediction(stats, scores([0, 1, 2, 3, 4]), scores([0, 1, 2, 3, 4]), 9)).toBe(0);
    expect(addPrediction(stats, scores([5]), scores([6]))).toBe(0);
    expect(addPrediction(newClassificationStats(), scores([4]), scores([1, 4]), 4)).toBe(2);
    const summary = summarizeClassification(stats);
    expect(summary.count).toBe(4);
    expect(summary.agreement).toBe(0.5);
    expect(summary.accuracy).toEqual({
      labeled: 3,
      reference: { top1: 1 / 3, top5: 2 / 3 },
      candidate: { top1: 2 / 3, top5: 2 / 3 },
    });
    expect(summarizeClassification(newClassificationStats()).accuracy).toBeUndefined();
    expect(accuracy([scores([3]), scores([1, 2]), scores([0, 1, 2, 3, 4, 5])], [3, 2, 5])).toEqual({ top1: 1 / 3, top5: 2 / 3 });
  });
});
