/**
 * tflite-support's DeepLab v3 sample (shared/data/deeplab_segmentation_sample): the photo as the
 * model takes it, its golden mask as class ids, and the mIoU counted pixel by pixel: the independent
 * side of the mask-label tests (the LiteRT run stays in the tests: this layer cannot import it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import { photoInput } from './photo-input';
import { dataDir } from './shared';

export const DEEPLAB_SAMPLE = join(dataDir, 'deeplab_segmentation_sample');
export const DEEPLAB_PHOTO = join(DEEPLAB_SAMPLE, 'segmentation_input_rotation0.jpg');
/** Stored as class x 10 (the sample's README). */
export const DEEPLAB_GOLDEN = join(DEEPLAB_SAMPLE, 'segmentation_golden_rotation0.png');
export const DEEPLAB_CLASSES = 21;

/** The 257x257 photo as DeepLab takes it, (x - 127.5) / 127.5 (decoded by jpeg-js directly). */
export function deeplabInput(): Float32Array {
  return photoInput(DEEPLAB_PHOTO, 257)[0];
}

/** The golden mask's class per pixel (value / 10; an 8-bit grayscale PNG, decoded by fast-png directly). */
export function goldenClasses(): number[] {
  const png = decodePng(readFileSync(DEEPLAB_GOLDEN));
  if (png.channels !== 1 || png.depth !== 8 || png.palette) throw new Error('the golden mask is no longer 8-bit grayscale');
  return Array.from(png.data, (v) => v / 10);
}

/** Argmax over the last axis, written plainly. */
export function argmaxClasses(scores: ArrayLike<number>, classes: number): number[] {
  return Array.from({ length: scores.length / classes }, (_, p) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[p * classes + c] > scores[p * classes + best]) best = c;
    return best;
  });
}

/** Mean IoU over the classes present in truth or prediction, pixels whose truth is no class left out: counted pixel by pixel. */
export function bruteMiou(truth: readonly number[], predicted: readonly number[], classes: number): number {
  const ious: number[] = [];
  for (let c = 0; c < classes; c++) {
    let both = 0;
    let either = 0;
    for (let p = 0; p < truth.length; p++) {
      if (truth[p] >= classes) continue;
      if (truth[p] === c && predicted[p] === c) both++;
      if (truth[p] === c || predicted[p] === c) either++;
    }
    if (either > 0) ious.push(both / either);
  }
  return ious.reduce((s, v) => s + v, 0) / ious.length;
}
