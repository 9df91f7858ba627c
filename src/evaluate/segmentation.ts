/**
 * Segmentation quality: mean intersection over union of per-pixel classes.
 *
 * The candidate's class per pixel is the argmax of its scores over the last axis. The truth is a
 * label mask or, without one, the reference (float) model's argmax. A confusion matrix per image is
 * kept (classes x classes counts, small) so the interval over images can be bootstrapped.
 */

/** Argmax over the last axis of [..., classes] scores: one class per pixel. */
export function argmaxMask(scores: ArrayLike<number>, classes: number): Uint16Array {
  const pixels = Math.floor(scores.length / classes);
  const mask = new Uint16Array(pixels);
  for (let p = 0, base = 0; p < pixels; p++, base += classes) {
    let best = 0;
    let bestValue = scores[base];
    for (let c = 1; c < classes; c++) {
      const v = scores[base + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    mask[p] = best;
  }
  return mask;
}

/** counts[truth * classes + predicted]; pixels whose truth is outside [0, classes) are ignored (e.g. 255 = void). */
export function confusion(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): Float64Array {
  if (truth.length !== predicted.length) throw new Error(`mask sizes differ: ${truth.length} truth pixels, ${predicted.length} predicted`);
  const counts = new Float64Array(classes * classes);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (t < 0 || t >= classes) continue;
    counts[t * classes + predicted[i]]++;
  }
  return counts;
}

export interface IouResult {
  /** Mean over classes present in the truth or the prediction; NaN when there are none. */
  miou: number;
  /** IoU per class, NaN for classes in neither. */
  perClass: number[];
  pixelAccuracy: number;
}

export function meanIou(counts: Float64Array, classes: number): IouResult {
  const perClass: number[] = [];
  let sum = 0;
  let present = 0;
  let correct = 0;
  let total = 0;
  for (let c = 0; c < classes; c++) {
    let truthTotal = 0;
    let predictedTotal = 0;
    for (let k = 0; k < classes; k++) {
      truthTotal += counts[c * classes + k];
      predictedTotal += counts[k * classes + c];
    }
    const tp = counts[c * classes + c];
    const union = truthTotal + predictedTotal - tp;
    correct += tp;
    total += truthTotal;
    if (union > 0) {
      const value = tp / union;
      perClass.push(value);
      sum += value;
      present++;
    } else perClass.push(NaN);
  }
  return { miou: present ? sum / present : NaN, perClass, pixelAccuracy: total ? correct / total : NaN };
}

export function addCounts(into: Float64Array, other: Float64Array): void {
  for (let i = 0; i < into.length; i++) into[i] += other[i];
}
