/**
 * A JPEG photo as one [size, size, 3] float input in [-1, 1] ((pixel - 127.5) / 127.5), resized by
 * nearest neighbour: what the detector tests feed BlazeFace (128) and SSD MobileNetV2 (300).
 */
import { readFileSync } from 'node:fs';
import { decode as decodeJpeg } from 'jpeg-js';

export function photoInput(path: string, size: number): Float32Array[] {
  const image = decodeJpeg(readFileSync(path), { useTArray: true });
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / size));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / size));
      for (let c = 0; c < 3; c++) out[3 * (y * size + x) + c] = (image.data[4 * (sy * image.width + sx) + c] - 127.5) / 127.5;
    }
  }
  return [out];
}
