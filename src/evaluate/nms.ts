/**
 * Greedy non-maximum suppression, per class (TFLite_Detection_PostProcess's "regular" NMS): within
 * a class, the best-scoring box is kept and every box overlapping it by more than the IoU threshold
 * is dropped, then the next best left, and so on. The kept boxes of all classes are ranked by score
 * and the best `maxDetections` returned.
 */
import { iou, type Detection } from './detection';

export function nonMaxSuppression(detections: Detection[], iouThreshold: number, maxDetections: number): Detection[] {
  const byClass = new Map<number, Detection[]>();
  for (const d of detections) {
    const list = byClass.get(d.classId);
    if (list) list.push(d);
    else byClass.set(d.classId, [d]);
  }
  const kept: Detection[] = [];
  for (const list of byClass.values()) {
    list.sort((a, b) => b.score - a.score);
    const keptHere: Detection[] = [];
    for (const d of list) {
      if (keptHere.length >= maxDetections) break;
      if (keptHere.every((k) => iou(k, d) <= iouThreshold)) keptHere.push(d);
    }
    kept.push(...keptHere);
  }
  return kept.sort((a, b) => b.score - a.score).slice(0, maxDetections);
}
