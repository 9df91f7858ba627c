/**
 * The per-class view's data as plain functions (no React): the rows sorted by a column, and a small
 * confusion heat map over the classes with the most samples (a 1,000-class matrix does not fit on
 * a page; its top confusions are listed instead).
 */
import type { ClassFigures, PerClassSummary } from '../../evaluate/per-class';

export type PerClassColumn = 'classId' | 'samples' | 'recall' | 'precision';
export type SortDirection = 'ascending' | 'descending';

/** Rows with samples, sorted; NaN (never predicted: no precision) sorts last either way. Ties by class id. */
export function sortedClasses(summary: PerClassSummary, column: PerClassColumn, direction: SortDirection): ClassFigures[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return summary.perClass
    .filter((c) => c.samples > 0)
    .sort((a, b) => {
      const x = a[column];
      const y = b[column];
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
      return (Number.isNaN(x) ? 0 : sign * (x - y)) || a.classId - b.classId;
    });
}

export interface HeatMap {
  /** Class ids on both axes (truth rows, predicted columns), by id. */
  classes: number[];
  /** counts[row][column]: samples of truth `classes[row]` predicted as `classes[column]`. */
  counts: number[][];
  /** Each row's samples (all predictions, also those outside the map's classes). */
  rowTotals: number[];
}

/** The heat map over the `limit` classes with the most samples; null without a matrix. */
export function heatMap(summary: PerClassSummary, limit = 12): HeatMap | null {
  if (!summary.matrix) return null;
  const classes = summary.perClass
    .filter((c) => c.samples > 0)
    .sort((a, b) => b.samples - a.samples || a.classId - b.classId)
    .slice(0, limit)
    .map((c) => c.classId)
    .sort((a, b) => a - b);
  const at = new Map(classes.map((c, i) => [c, i]));
  const counts = classes.map(() => classes.map(() => 0));
  const rowTotals = classes.map(() => 0);
  for (const [t, p, n] of summary.matrix) {
    const row = at.get(t);
    if (row === undefined) continue;
    rowTotals[row] += n;
    const column = at.get(p);
    if (column !== undefined) counts[row][column] += n;
  }
  return { classes, counts, rowTotals };
}
