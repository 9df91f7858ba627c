/**
 * Decoding a raw detection head (box regressions [N, K >= 4] and scores [N, C], one row per anchor)
 * into detections: the centre-size box coder, scores, a score threshold and per-class NMS.
 *
 * Box coder, for anchor (ya, xa, ha, wa) and raw values (ty, tx, th, tw) read in `order`:
 *   y = ty / yScale * ha + ya,   x = tx / xScale * wa + xa,
 *   h = exp(th / hScale) * ha    (sizes 'exp': TFLite_Detection_PostProcess's CenterSizeEncoding)
 *     or th / hScale * ha        (sizes 'linear': MediaPipe's TensorsToDetections without
 *                                 apply_exponential_on_box_size), and w alike;
 * with `fixedAnchorSize` ha = wa = 1 (MediaPipe's fixed_anchor_size: scales are then in pixels of
 * the input, e.g. 128). Scores: the sigmoid of the raw value (clipped to +-scoreClip first, as
 * MediaPipe's score_clipping_thresh) or the value as it is; with `background` the first score
 * column is a background class and is skipped (classes are numbered from the next column, as
 * TFLite_Detection_PostProcess numbers them).
 */
import { WorkbenchError } from '../errors';
import type { Anchors } from './anchors';
import type { Detection } from './detection';
import { nonMaxSuppression } from './nms';

export type BoxOrder = 'yxhw' | 'xywh';

export interface BoxDecoding {
  order: BoxOrder;
  /** Divisors of the raw y, x, h, w values (always in this order, whatever `order` is). */
  scale: [number, number, number, number];
  sizes: 'exp' | 'linear';
  fixedAnchorSize: boolean;
  scores: 'sigmoid' | 'raw';
  /** Raw scores are clipped to [-scoreClip, scoreClip] before the sigmoid (0: no clipping). */
  scoreClip: number;
  background: boolean;
  /** Detections scoring below this are dropped before NMS. */
  scoreThreshold: number;
  /** NMS drops a box overlapping a better one of its class by more than this. */
  iouThreshold: number;
  maxDetections: number;
}

/** What a raw head needs to be measured: its anchors and how to decode it. */
export interface RawDetectionSpec {
  anchors: Anchors;
  decoding: BoxDecoding;
}

export const BOX_CODERS = ['ssd', 'mediapipe-face'] as const;
export type BoxCoder = (typeof BOX_CODERS)[number];

/**
 * Evaluation wants the whole ranked list (mAP integrates precision over recall), so the score
 * threshold is COCO evaluation's 0.05, not a display threshold.
 */
const EVALUATION_SCORE_THRESHOLD = 0.05;

export const BOX_CODER_PRESETS: Record<BoxCoder, BoxDecoding> = {
  // TF Object Detection API SSD exported without post-processing: y, x, h, w with scales 10, 10, 5, 5
  // (TFLite_Detection_PostProcess's defaults), class logits with background in column 0, NMS at 0.6.
  ssd: { order: 'yxhw', scale: [10, 10, 5, 5], sizes: 'exp', fixedAnchorSize: false, scores: 'sigmoid', scoreClip: 0, background: true, scoreThreshold: EVALUATION_SCORE_THRESHOLD, iouThreshold: 0.6, maxDetections: 100 },
  // MediaPipe BlazeFace short range (face_detection_short_range.pbtxt): x, y, w, h in pixels of the
  // 128x128 input, fixed anchor size, sigmoid scores clipped at 100, suppression at 0.3.
  'mediapipe-face': { order: 'xywh', scale: [128, 128, 128, 128], sizes: 'linear', fixedAnchorSize: true, scores: 'sigmoid', scoreClip: 100, background: false, scoreThreshold: EVALUATION_SCORE_THRESHOLD, iouThreshold: 0.3, maxDetections: 100 },
};

export function decodeRawDetections(boxes: ArrayLike<number>, scores: ArrayLike<number>, anchors: Anchors, decoding: BoxDecoding): Detection[] {
  const n = anchors.count;
  const boxWidth = boxes.length / n;
  const scoreWidth = scores.length / n;
  if (!Number.isInteger(boxWidth) || boxWidth < 4 || !Number.isInteger(scoreWidth) || scoreWidth < 1) {
    throw new WorkbenchError('bad-input', `A raw detection head needs ${n} rows of at least 4 box values and of scores (one per anchor); got ${boxes.length} box values and ${scores.length} scores.`);
  }
  const firstClass = decoding.background ? 1 : 0;
  if (scoreWidth <= firstClass) throw new WorkbenchError('bad-input', 'The scores have one column only, so none is left once the background column is skipped.');
  const [yScale, xScale, hScale, wScale] = decoding.scale;
  const xy = decoding.order === 'xywh';
  const clip = decoding.scoreClip;
  const found: Detection[] = [];
  for (let i = 0; i < n; i++) {
    let box: Detection | null = null;
    for (let c = firstClass; c < scoreWidth; c++) {
      let s = scores[i * scoreWidth + c];
      if (decoding.scores === 'sigmoid') {
        if (clip > 0) s = Math.min(clip, Math.max(-clip, s));
        s = 1 / (1 + Math.exp(-s));
      }
      if (!(s >= decoding.scoreThreshold)) continue;
      // The box is decoded once per anchor, only when some class scores high enough.
      box ??= decodeBox(boxes, i * boxWidth, i);
      found.push({ ...box, classId: c - firstClass, score: s });
    }
  }
  return nonMaxSuppression(found, decoding.iouThreshold, decoding.maxDetections);

  function decodeBox(raw: ArrayLike<number>, at: number, i: number): Detection {
    const ty = raw[at + (xy ? 1 : 0)];
    const tx = raw[at + (xy ? 0 : 1)];
    const th = raw[at + (xy ? 3 : 2)];
    const tw = raw[at + (xy ? 2 : 3)];
    const ha = decoding.fixedAnchorSize ? 1 : anchors.h[i];
    const wa = decoding.fixedAnchorSize ? 1 : anchors.w[i];
    const y = (ty / yScale) * ha + anchors.yCenter[i];
    const x = (tx / xScale) * wa + anchors.xCenter[i];
    const h = decoding.sizes === 'exp' ? Math.exp(th / hScale) * ha : (th / hScale) * ha;
    const w = decoding.sizes === 'exp' ? Math.exp(tw / wScale) * wa : (tw / wScale) * wa;
    return { ymin: y - h / 2, xmin: x - w / 2, ymax: y + h / 2, xmax: x + w / 2, classId: 0, score: 0 };
  }
}
