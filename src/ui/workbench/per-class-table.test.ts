import { describe, expect, it } from 'vitest';
import { newPerClassCounter } from '../../evaluate/per-class';
import { heatMap, sortedClasses } from './per-class-table';

describe('per-class view data', () => {
  const counter = newPerClassCounter(4, 'labels');
  // Truth 0: 3 samples (2 right), 1: 1 (right), 2: 4 (2 right), 3: never the truth, predicted once.
  for (const [t, p] of [[0, 0], [0, 0], [0, 1], [1, 1], [2, 1], [2, 2], [2, 2], [2, 3]]) counter.add(t, p);
  const summary = counter.summary();

  it('sorts rows with samples by a column, ties by class id', () => {
    expect(sortedClasses(summary, 'recall', 'ascending').map((c) => c.classId)).toEqual([2, 0, 1]);
    expect(sortedClasses(summary, 'samples', 'descending').map((c) => c.classId)).toEqual([2, 0, 1]);
    // Precision: 0 -> 2/2, 1 -> 1/3, 2 -> 2/2.
    expect(sortedClasses(summary, 'precision', 'descending').map((c) => c.classId)).toEqual([0, 2, 1]);
    expect(sortedClasses(summary, 'classId', 'descending').map((c) => c.classId)).toEqual([2, 1, 0]);
  });

  it('heat map over the classes with most samples; row totals keep predictions outside the map', () => {
    const map = heatMap(summary, 2)!;
    expect(map.classes).toEqual([0, 2]);
    expect(map.counts).toEqual([[2, 0], [0, 2]]);
    expect(map.rowTotals).toEqual([3, 4]);
    expect(heatMap({ ...summary, matrix: undefined })).toBeNull();
  });
});
