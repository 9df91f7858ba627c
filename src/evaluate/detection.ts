/**
 * Detection quality: mean average precision at an IoU threshold (PASCAL VOC style, 0.5 by default).
 *
 * Ground truth is either labels or, when there are none, the reference (float) model's own
 * detections above a score threshold: then mAP says how well the variant reproduces what the float
 * model finds, which is what a user who has no box labels can check.
 *
 * AP per class is the area under the precision / recall curve with precision made monotone
 * (all-point interpolation, VOC 2010 onwards); mAP is the mean over the classes that have at least
 * one ground-truth box.
 */

/** Normalized corners, as TFLite_Detection_PostProcess writes them: ymin, xmin, ymax, xmax. */
export interface Box {
  ymin: number;
  xmin: number;
  ymax: number;
  xmax: number;
}

export interface Detection extends Box {
  classId: number;
  score: number;
}

export type GroundTruth = Omit<Detection, 'score'>;

export const DEFAULT_IOU_THRESHOLD = 0.5;
/** The reference's detections at or above this score count as ground truth (the usual display threshold). */
export const DEFAULT_REFERENCE_SCORE = 0.5;

export function iou(a: Box, b: Box): number {
  const ih = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  const iw = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin);
  if (ih <= 0 || iw <= 0) return 0;
  const inter = ih * iw;
  const area = (box: Box) => Math.max(0, box.ymax - box.ymin) * Math.max(0, box.xmax - box.xmin);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * The detections of one image from TFLite_Detection_PostProcess's four outputs (boxes [n, 4],
 * classes [n], scores [n], count [1]); only the first `count` rows are valid.
 */
export function decodePostProcessed(boxes: ArrayLike<number>, classes: ArrayLike<number>, scores: ArrayLike<number>, count: ArrayLike<number>): Detection[] {
  const n = Math.min(Math.max(0, Math.round(count[0] ?? 0)), classes.length, scores.length, Math.floor(boxes.length / 4));
  const out: Detection[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      ymin: boxes[4 * i],
      xmin: boxes[4 * i + 1],
      ymax: boxes[4 * i + 2],
      xmax: boxes[4 * i + 3],
      classId: Math.round(classes[i]),
      score: scores[i],
    });
  }
  return out;
}

/** The reference's detections taken as ground truth. */
export function asGroundTruth(detections: Detection[], minScore = DEFAULT_REFERENCE_SCORE): GroundTruth[] {
  return detections.filter((d) => d.score >= minScore).map(({ score: _score, ...box }) => box);
}

export interface ClassAp {
  classId: number;
  ap: number;
  groundTruths: number;
  detections: number;
}

export interface MapResult {
  /** Mean over classes with ground truth; NaN when no image has any ground truth. */
  map: number;
  perClass: ClassAp[];
  images: number;
}

/** Area under the monotone precision envelope of a ranked list of hits (1) and misses (0). */
export function averagePrecision(hits: ArrayLike<number>, groundTruths: number): number {
  if (groundTruths === 0) return NaN;
  const n = hits.length;
  const precision = new Float64Array(n);
  const recall = new Float64Array(n);
  let tp = 0;
  for (let i = 0; i < n; i++) {
    tp += hits[i];
    precision[i] = tp / (i + 1);
    recall[i] = tp / groundTruths;
  }
  for (let i = n - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1]);
  let ap = 0;
  let previousRecall = 0;
  for (let i = 0; i < n; i++) {
    if (recall[i] > previousRecall) {
      ap += (recall[i] - previousRecall) * precision[i];
      previousRecall = recall[i];
    }
  }
  return ap;
}

/**
 * mAP over images: `detections[i]` and `truths[i]` belong to image i. A detection is a hit when it
 * overlaps a not yet matched ground truth of its class by at least `iouThreshold` (best overlap
 * first, detections in descending score across all images: the greedy matching of COCO's evaluation).
 */
export function meanAveragePrecision(detections: Detection[][], truths: GroundTruth[][], iouThreshold = DEFAULT_IOU_THRESHOLD): MapResult {
  if (detections.length !== truths.length) throw new Error(`mAP needs one ground-truth list per image (${detections.length} vs ${truths.length})`);
  const classes = new Set<number>();
  for (const list of truths) for (const t of list) classes.add(t.classId);
  const perClass: ClassAp[] = [];
  for (const classId of [...classes].sort((a, b) => a - b)) {
    const ranked: { image: number; det: Detection }[] = [];
    detections.forEach((list, image) => list.forEach((det) => det.classId === classId && ranked.push({ image, det })));
    ranked.sort((a, b) => b.det.score - a.det.score);
    const truthOf = truths.map((list) => list.filter((t) => t.classId === classId));
    const matched = truthOf.map((list) => new Uint8Array(list.length));
    const gtCount = truthOf.reduce((n, list) => n + list.length, 0);
    const hits = new Uint8Array(ranked.length);
    ranked.forEach(({ image, det }, k) => {
      let best = -1;
      let bestIou = iouThreshold;
      truthOf[image].forEach((t, j) => {
        const overlap = iou(det, t);
        if (overlap >= bestIou && !matched[image][j]) {
          bestIou = overlap;
          best = j;
        }
      });
      if (best >= 0) {
        matched[image][best] = 1;
        hits[k] = 1;
      }
    });
    perClass.push({ classId, ap: averagePrecision(hits, gtCount), groundTruths: gtCount, detections: ranked.length });
  }
  const map = perClass.length ? perClass.reduce((s, c) => s + c.ap, 0) / perClass.length : NaN;
  return { map, perClass, images: detections.length };
}
