/**
 * The quality measure of a model's task, chosen from its outputs (the user may override it), with
 * the sample count and a 95% interval: what a search budget ("lose at most 1 point") is spent on.
 *
 * Tasks and their measures:
 * - classification (one [1, C] output): top-1 / top-5 against labels, or agreement with the
 *   reference's top-1;
 * - detection (TFLite_Detection_PostProcess outputs, or a raw head decoded with the user's anchors):
 *   mAP@0.5 against labelled boxes (a boxes.csv, data/box-labels.ts), or against the
 *   reference's detections scoring >= 0.5;
 * - segmentation (one [1, H, W, C] output; C = 1 is a probability mask, thresholded at 0.5): mIoU
 *   against label masks (a masks folder, data/mask-labels.ts), or against the reference's per-pixel argmax;
 * - anything else (embeddings, regression, multi-output heads): SQNR in dB and cosine similarity
 *   against the reference, over all outputs.
 * Fractions are in [0, 1]; SQNR in dB.
 */
import type { ModelGraph } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { WorkbenchError } from '../errors';
import { bootstrapInterval, wilsonInterval, type Interval } from './confidence';

const wilsonBounds = (k: number, n: number): Interval => {
  const { low, high } = wilsonInterval(k, n);
  return [low, high];
};
import { decodeRawDetections, type RawDetectionSpec } from './box-decoding';
import { asGroundTruth, decodePostProcessed, meanAveragePrecision, type Detection, type GroundTruth } from './detection';
import { topK } from './metrics';
import { addCounts, argmaxMask, confusion, meanIou } from './segmentation';
import { sqnrFromPowers } from '../sqnr';

export type QualityMetric = 'top1' | 'top5' | 'agreement' | 'map' | 'miou' | 'sqnr' | 'cosine';
export const QUALITY_METRICS: readonly QualityMetric[] = ['top1', 'top5', 'agreement', 'map', 'miou', 'sqnr', 'cosine'];

export type Task =
  | { kind: 'classification'; output: number; classes: number }
  /** Post-processed outputs (classes and count -1 for a raw head, decoded with `raw`'s anchors). */
  | { kind: 'detection'; boxes: number; classes: number; scores: number; count: number; raw?: RawDetectionSpec }
  | { kind: 'segmentation'; output: number; classes: number; probability: boolean }
  | { kind: 'regression' };

const METRICS_OF: Record<Task['kind'], readonly QualityMetric[]> = {
  classification: ['top1', 'top5', 'agreement', 'sqnr', 'cosine'],
  detection: ['map'],
  segmentation: ['miou', 'sqnr', 'cosine'],
  regression: ['sqnr', 'cosine'],
};

/** The task read from the model's first subgraph: its outputs, and a detection post-processing op. */
export function inferTask(graph: ModelGraph): Task {
  const subgraph = graph.subgraphs[0];
  const outputs = subgraph.outputs;
  for (const op of subgraph.operators) {
    if (opName(graph, op) !== 'TFLite_Detection_PostProcess' || op.outputs.length !== 4) continue;
    const [boxes, classes, scores, count] = op.outputs.map((t) => outputs.indexOf(t));
    if (boxes >= 0 && classes >= 0 && scores >= 0 && count >= 0) return { kind: 'detection', boxes, classes, scores, count };
  }
  if (outputs.length === 1) {
    const shape = subgraph.tensors[outputs[0]].shape;
    const classes = shape[shape.length - 1] ?? 0;
    const spatial = shape.slice(1, -1).filter((d) => d > 1);
    if (shape.length === 4 && spatial.length === 2 && Math.min(...spatial) >= 8) return { kind: 'segmentation', output: 0, classes: Math.max(2, classes), probability: classes === 1 };
    if (classes >= 2 && spatial.length === 0) return { kind: 'classification', output: 0, classes };
  }
  return { kind: 'regression' };
}

export function defaultMetric(task: Task, truth: QualityTruth): QualityMetric {
  switch (task.kind) {
    case 'classification':
      return truth.labels ? 'top1' : 'agreement';
    case 'detection':
      return 'map';
    case 'segmentation':
      return 'miou';
    default:
      return 'sqnr';
  }
}

/** What the candidate is measured against, when the user has it; else the reference model. */
export interface QualityTruth {
  labels?: ArrayLike<number>;
  masks?: ArrayLike<number>[];
  boxes?: GroundTruth[][];
}

export interface QualitySummary {
  task: Task['kind'];
  metric: QualityMetric;
  /** 'labels' when measured against the user's labels, 'reference' against the reference model. */
  against: 'labels' | 'reference';
  value: number;
  interval: Interval;
  samples: number;
  /** With labels: the reference model's own value, the figure a budget is counted from. */
  referenceValue?: number;
  /** With box labels or masks: the reference's value's 95% interval (the same resamples as `interval`). */
  referenceInterval?: Interval;
}

export interface QualityAccumulator {
  /** Outputs of one sample (float values), the candidate's in the reference's output order. */
  add(reference: Float32Array[], candidate: Float32Array[]): void;
  summary(): QualitySummary;
}

export function checkMetric(task: Task, metric: QualityMetric): void {
  if (!METRICS_OF[task.kind].includes(metric)) {
    throw new WorkbenchError('bad-input', `The metric "${metric}" does not fit a ${task.kind} model; use one of: ${METRICS_OF[task.kind].join(', ')}.`);
  }
}

export function newQualityAccumulator(task: Task, metric: QualityMetric, truth: QualityTruth = {}): QualityAccumulator {
  checkMetric(task, metric);
  if ((metric === 'top1' || metric === 'top5') && !truth.labels) {
    throw new WorkbenchError('bad-input', `The metric "${metric}" needs labels; without them use "agreement".`);
  }
  switch (metric) {
    case 'top1':
    case 'top5':
    case 'agreement':
      return classificationAccumulator(task as Extract<Task, { kind: 'classification' }>, metric, truth.labels);
    case 'map':
      return detectionAccumulator(task as Extract<Task, { kind: 'detection' }>, truth.boxes);
    case 'miou':
      return segmentationAccumulator(task as Extract<Task, { kind: 'segmentation' }>, truth.masks);
    default:
      return signalAccumulator(task, metric);
  }
}

function classificationAccumulator(task: Extract<Task, { kind: 'classification' }>, metric: 'top1' | 'top5' | 'agreement', labels?: ArrayLike<number>): QualityAccumulator {
  const k = metric === 'top5' ? 5 : 1;
  let n = 0;
  let hits = 0;
  let referenceHits = 0;
  return {
    add(reference, candidate) {
      const c = topK(candidate[task.output], k);
      const r = topK(reference[task.output], k);
      if (metric === 'agreement') hits += c[0] === r[0] ? 1 : 0;
      else {
        const label = labels![n];
        if (label === undefined) throw new WorkbenchError('bad-input', `No label for sample ${n + 1}: the labels cover ${labels!.length} samples.`);
        hits += c.includes(label) ? 1 : 0;
        referenceHits += r.includes(label) ? 1 : 0;
      }
      n++;
    },
    summary() {
      const summary: QualitySummary = { task: 'classification', metric, against: metric === 'agreement' ? 'reference' : 'labels', value: n ? hits / n : NaN, interval: n ? wilsonBounds(hits, n) : [NaN, NaN], samples: n };
      if (metric !== 'agreement') summary.referenceValue = n ? referenceHits / n : NaN;
      return summary;
    },
  };
}

function detectionAccumulator(task: Extract<Task, { kind: 'detection' }>, boxes?: GroundTruth[][]): QualityAccumulator {
  const found: Detection[][] = [];
  const referenceFound: Detection[][] = [];
  const truths: GroundTruth[][] = [];
  const raw = task.raw;
  const decode = (outputs: Float32Array[]) =>
    raw ? decodeRawDetections(outputs[task.boxes], outputs[task.scores], raw.anchors, raw.decoding) : decodePostProcessed(outputs[task.boxes], outputs[task.classes], outputs[task.scores], outputs[task.count]);
  return {
    add(reference, candidate) {
      const r = decode(reference);
      const i = found.length;
      if (boxes && !boxes[i]) throw new WorkbenchError('bad-input', `No boxes for sample ${i + 1}: the labels cover ${boxes.length} samples.`);
      found.push(decode(candidate));
      referenceFound.push(r);
      truths.push(boxes ? boxes[i] : asGroundTruth(r));
    },
    summary() {
      const pick = <T>(list: T[], indices: Uint32Array) => Array.from(indices, (i) => list[i]);
      const summary: QualitySummary = {
        task: 'detection',
        metric: 'map',
        against: boxes ? 'labels' : 'reference',
        value: meanAveragePrecision(found, truths).map,
        interval: bootstrapInterval(found.length, (idx) => meanAveragePrecision(pick(found, idx), pick(truths, idx)).map),
        samples: found.length,
      };
      if (boxes) {
        summary.referenceValue = meanAveragePrecision(referenceFound, truths).map;
        summary.referenceInterval = bootstrapInterval(found.length, (idx) => meanAveragePrecision(pick(referenceFound, idx), pick(truths, idx)).map);
      }
      return summary;
    },
  };
}

function segmentationAccumulator(task: Extract<Task, { kind: 'segmentation' }>, masks?: ArrayLike<number>[]): QualityAccumulator {
  const classes = task.classes;
  const perImage: Float64Array[] = [];
  const referencePerImage: Float64Array[] = [];
  const toMask = (scores: Float32Array) => (task.probability ? thresholdMask(scores) : argmaxMask(scores, classes));
  return {
    add(reference, candidate) {
      const i = perImage.length;
      if (masks && !masks[i]) throw new WorkbenchError('bad-input', `No mask for sample ${i + 1}: the masks cover ${masks.length} samples.`);
      const r = toMask(reference[task.output]);
      const truth = masks ? masks[i] : r;
      perImage.push(confusion(truth, toMask(candidate[task.output]), classes));
      if (masks) referencePerImage.push(confusion(truth, r, classes));
    },
    summary() {
      const pooled = (list: Float64Array[], indices?: Uint32Array) => {
        const total = new Float64Array(classes * classes);
        if (indices) for (const i of indices) addCounts(total, list[i]);
        else for (const counts of list) addCounts(total, counts);
        return meanIou(total, classes).miou;
      };
      const summary: QualitySummary = {
        task: 'segmentation',
        metric: 'miou',
        against: masks ? 'labels' : 'reference',
        value: pooled(perImage),
        interval: bootstrapInterval(perImage.length, (idx) => pooled(perImage, idx)),
        samples: perImage.length,
      };
      if (masks) {
        summary.referenceValue = pooled(referencePerImage);
        summary.referenceInterval = bootstrapInterval(referencePerImage.length, (idx) => pooled(referencePerImage, idx));
      }
      return summary;
    },
  };
}

/** A one-channel probability mask as two classes: 1 where the value is at least 0.5. */
function thresholdMask(scores: Float32Array): Uint16Array {
  const mask = new Uint16Array(scores.length);
  for (let i = 0; i < scores.length; i++) mask[i] = scores[i] >= 0.5 ? 1 : 0;
  return mask;
}

/** SQNR (pooled over samples, as the output table) or cosine (mean over samples) over all outputs. */
function signalAccumulator(task: Task, metric: 'sqnr' | 'cosine'): QualityAccumulator {
  const signal: number[] = [];
  const noise: number[] = [];
  const cosine: number[] = [];
  return {
    add(reference, candidate) {
      let s = 0;
      let e = 0;
      let dot = 0;
      let cc = 0;
      reference.forEach((r, k) => {
        const c = candidate[k];
        for (let i = 0; i < r.length; i++) {
          const d = r[i] - c[i];
          s += r[i] * r[i];
          e += d * d;
          dot += r[i] * c[i];
          cc += c[i] * c[i];
        }
      });
      signal.push(s);
      noise.push(e);
      cosine.push(s > 0 && cc > 0 ? dot / Math.sqrt(s * cc) : s === cc ? 1 : 0);
    },
    summary() {
      const n = signal.length;
      const statistic = (indices?: Uint32Array): number => {
        const pick = indices ?? Uint32Array.from({ length: n }, (_, i) => i);
        if (metric === 'cosine') return pick.reduce((sum, i) => sum + cosine[i], 0) / pick.length;
        let s = 0;
        let e = 0;
        for (const i of pick) {
          s += signal[i];
          e += noise[i];
        }
        return sqnrFromPowers(s, e);
      };
      return { task: task.kind, metric, against: 'reference', value: n ? statistic() : NaN, interval: bootstrapInterval(n, statistic), samples: n };
    },
  };
}

/** Metrics that are fractions in [0, 1] (shown as percentages; a budget counts their points). */
export const RATE_METRICS: ReadonlySet<QualityMetric> = new Set<QualityMetric>(['top1', 'top5', 'agreement', 'map', 'miou']);

/** A value of the metric as people read it: a percentage for rates, dB for SQNR, four decimals for cosine. */
export function formatQuality(metric: QualityMetric, value: number, percentDigits = 1): string {
  if (metric === 'sqnr') return `${value.toFixed(1)} dB`;
  if (metric === 'cosine') return value.toFixed(4);
  return `${(100 * value).toFixed(percentDigits)}%`;
}

const METRIC_NAMES: Record<QualityMetric, string> = {
  top1: 'top-1 accuracy',
  top5: 'top-5 accuracy',
  agreement: 'top-1 agreement with the reference',
  map: 'mAP@0.5',
  miou: 'mIoU',
  sqnr: 'SQNR',
  cosine: 'cosine similarity',
};

/** One line for reports: the measure, its value and interval, what it was measured against, on how many samples. */
export function qualityLine(q: QualitySummary): string {
  const format = (v: number) => (!Number.isFinite(v) ? 'n/a' : formatQuality(q.metric, v));
  const against = q.against === 'labels' ? 'against the labels' : "against the reference model's outputs";
  const reference = q.referenceValue !== undefined ? `; the reference scores ${format(q.referenceValue)}` : '';
  return `${METRIC_NAMES[q.metric]} ${against}: ${format(q.value)} (95% interval ${format(q.interval[0])} to ${format(q.interval[1])}), ${q.samples} sample${q.samples === 1 ? '' : 's'}${reference}.`;
}
