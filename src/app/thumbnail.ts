/**
 * A model input de-normalized back to 0..255 pixels (grayscale or RGB, NHWC) for the page to draw:
 * RGBA bytes, no DOM. Non-image inputs get no pixels, only their value range.
 */
import type { Preprocessing } from '../data/preprocess';

export interface Thumbnail {
  rgba: Uint8ClampedArray | null;
  width: number;
  height: number;
  /** Range of the float values fed to the model. */
  min: number;
  max: number;
}

export function thumbnail(floats: Float32Array, p: Preprocessing | null): Thumbnail {
  let min = Infinity;
  let max = -Infinity;
  for (const v of floats) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!p || (p.layout ?? 'NHWC') !== 'NHWC') return { rgba: null, width: 0, height: 0, min, max };
  const { width, height, channels } = p;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const k = channels === 1 ? 0 : p.channelOrder === 'BGR' ? 2 - c : c;
      const mean = p.mean[k] ?? p.mean[0];
      const std = p.std[k] ?? p.std[0];
      rgba[i * 4 + c] = floats[i * channels + k] * std + mean;
    }
    rgba[i * 4 + 3] = 255;
  }
  return { rgba, width, height, min, max };
}
