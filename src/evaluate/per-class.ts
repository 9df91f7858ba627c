/**
 * Per-class figures of a classifier and its confusions, from one evaluation: for each class its
 * samples (how often it is the truth), recall ("per-class accuracy") with a 95% Wilson interval,
 * how often it was predicted and precision; the most frequent confusions "truth -> predicted";
 * and, for up to MATRIX_CLASS_LIMIT classes, the whole confusion matrix stored sparsely (only the
 * cells that were hit, so 1,000 classes on 500 samples stay 500 entries at most).
 *
 * The truth is the label when there are labels, else the reference (float) model's top-1: then
 * "recall of class c" reads "how often the variant keeps the float model's answer c".
 */
import { WorkbenchError } from '../errors';
import { wilsonInterval, type RateInterval } from './confidence';

/** Above this many classes the report keeps the top confusions only, not the matrix. */
export const MATRIX_CLASS_LIMIT = 1000;
/** How many confusions the summary lists. */
export const TOP_CONFUSIONS = 10;
/** A class with fewer samples than this is flagged: its recall interval is wide. */
export const FEW_SAMPLES = 10;

export interface ClassFigures {
  classId: number;
  name?: string;
  /** Samples whose truth is this class. */
  samples: number;
  /** Of them, predicted as this class. */
  correct: number;
  /** correct / samples (NaN without samples), with its 95% Wilson interval. */
  recall: number;
  recallLow: number;
  recallHigh: number;
  /** Samples predicted as this class, and the share of them that are this class (NaN when never predicted). */
  predicted: number;
  precision: number;
}

export interface Confusion {
  truth: number;
  predicted: number;
  count: number;
}

export interface PerClassSummary {
  against: 'labels' | 'reference';
  /** Width of the classifier output. */
  classes: number;
  samples: number;
  /** Classes that occur as truth or prediction, by class id. */
  perClass: ClassFigures[];
  /** Off-diagonal cells, most frequent first (ties: lower truth, then lower predicted). */
  topConfusions: Confusion[];
  /** The sparse confusion matrix, [truth, predicted, count] in row-major order; up to MATRIX_CLASS_LIMIT classes. */
  matrix?: [number, number, number][];
}

export interface PerClassCounter {
  add(truth: number, predicted: number): void;
  summary(names?: ArrayLike<string> | null): PerClassSummary;
}

export function newPerClassCounter(classes: number, against: PerClassSummary['against']): PerClassCounter {
  // Cell truth * classes + predicted -> count; a Map keeps it proportional to the cells hit.
  const cells = new Map<number, number>();
  let samples = 0;
  return {
    add(truth, predicted) {
      if (!(truth >= 0 && truth < classes && predicted >= 0 && predicted < classes)) {
        throw new WorkbenchError('bad-input', `Class ${truth} -> ${predicted} is outside the model's ${classes} classes (0..${classes - 1}); do the labels number the model's outputs?`);
      }
      const key = truth * classes + predicted;
      cells.set(key, (cells.get(key) ?? 0) + 1);
      samples++;
    },
    summary(names) {
      const entries = [...cells.entries()].sort((a, b) => a[0] - b[0]).map(([key, count]): [number, number, number] => [Math.floor(key / classes), key % classes, count]);
      const truthCount = new Map<number, number>();
      const predictedCount = new Map<number, number>();
      const correct = new Map<number, number>();
      for (const [t, p, n] of entries) {
        truthCount.set(t, (truthCount.get(t) ?? 0) + n);
        predictedCount.set(p, (predictedCount.get(p) ?? 0) + n);
        if (t === p) correct.set(t, n);
      }
      const ids = [...new Set([...truthCount.keys(), ...predictedCount.keys()])].sort((a, b) => a - b);
      const perClass = ids.map((classId): ClassFigures => {
        const n = truthCount.get(classId) ?? 0;
        const k = correct.get(classId) ?? 0;
        const predicted = predictedCount.get(classId) ?? 0;
        const interval: RateInterval = wilsonInterval(k, n);
        const name = names?.[classId];
        return {
          classId,
          ...(name !== undefined && { name }),
          samples: n,
          correct: k,
          recall: n ? k / n : NaN,
          recallLow: interval.low,
          recallHigh: interval.high,
          predicted,
          precision: predicted ? k / predicted : NaN,
        };
      });
      const topConfusions = entries
        .filter(([t, p]) => t !== p)
        .sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1])
        .slice(0, TOP_CONFUSIONS)
        .map(([truth, predicted, count]) => ({ truth, predicted, count }));
      return { against, classes, samples, perClass, topConfusions, ...(classes <= MATRIX_CLASS_LIMIT && { matrix: entries }) };
    },
  };
}

/** Classes with samples, worst recall first (ties: more samples first, then class id). */
export function worstClasses(summary: PerClassSummary, count: number): ClassFigures[] {
  return summary.perClass
    .filter((c) => c.samples > 0)
    .sort((a, b) => a.recall - b.recall || b.samples - a.samples || a.classId - b.classId)
    .slice(0, count);
}

/** A class as people read it: its name when known, with its index. */
export function className(summary: PerClassSummary, classId: number): string {
  const name = summary.perClass.find((c) => c.classId === classId)?.name;
  return name !== undefined && name !== String(classId) ? `${name} (${classId})` : String(classId);
}
