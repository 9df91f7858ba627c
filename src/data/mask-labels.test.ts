/**
 * Segmentation masks (mask-labels.ts): PNGs written here by a small independent encoder (node:zlib,
 * rows packed by hand), read back as class ids; every refusal names the file. Then the ignore value
 * through the mIoU measure (quality.ts), against a confusion counted by hand.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newQualityAccumulator, type Task } from '../evaluate/quality';
import { fileFromBytes, type DataFile } from './files';
import { maskLabelsAt, maskLabelsFromFiles, maskLabelsText, scaleHint, type MaskGrid } from './mask-labels';

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'ascii'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG: colour type 0 (gray), 2 (RGB) or 3 (indexed, with a palette); values one per sample, packed MSB first below 8 bits. */
function png(width: number, height: number, values: number[], { depth = 8, colorType = 0, palette }: { depth?: number; colorType?: 0 | 2 | 3; palette?: number[][] } = {}): Uint8Array {
  const channels = colorType === 2 ? 3 : 1;
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  const raw = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const row = y * (rowBytes + 1) + 1; // filter byte 0 (none) before each row
    for (let x = 0; x < width * channels; x++) {
      const v = values[y * width * channels + x];
      if (depth === 16) {
        raw[row + 2 * x] = v >> 8;
        raw[row + 2 * x + 1] = v & 0xff;
      } else if (depth === 8) raw[row + x] = v;
      else raw[row + ((x * depth) >> 3)] |= v << (8 - depth - ((x * depth) & 7));
    }
  }
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([depth, colorType, 0, 0, 0], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header)];
  if (palette) parts.push(chunk('PLTE', Uint8Array.from(palette.flat())));
  parts.push(chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

const GRID: MaskGrid = { height: 2, width: 3, classes: 21 };
const NAMES = ['img001.jpg', 'sub/img002.jpeg'];
const files = (entries: Record<string, Uint8Array>): DataFile[] => Object.entries(entries).map(([path, bytes]) => fileFromBytes(path, bytes));

describe('maskLabelsFromFiles', () => {
  it('reads gray values as class ids, matched by stem (relative path, else unique file name)', async () => {
    const labels = await maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [0, 1, 2, 15, 20, 255]), 'img002.png': png(3, 2, [3, 3, 3, 0, 0, 0]) }), NAMES, GRID);
    expect(labels.perSample.map((m) => Array.from(m))).toEqual([
      [0, 1, 2, 15, 20, 255],
      [3, 3, 3, 0, 0, 0],
    ]);
    expect(labels.perSample[0]).toBeInstanceOf(Uint8Array);
    expect(labels).toMatchObject({ name: 'masks', scale: 1, ignore: 255, ignoredPixels: 1, resized: 0, indexed: 0, unused: [] });
    expect(maskLabelsText(labels)).toBe('masks: 2 images, 1 pixel at 255 not counted');
    // The relative path wins over a file name found elsewhere.
    const both = await maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [1, 1, 1, 1, 1, 1]), 'img002.png': png(3, 2, [2, 2, 2, 2, 2, 2]), 'sub/img002.png': png(3, 2, [4, 4, 4, 4, 4, 4]) }), NAMES, GRID);
    expect(Array.from(both.perSample[1])).toEqual([4, 4, 4, 4, 4, 4]);
  });

  it('divides by the scale (tflite-support stores class x 10), and says when values look scaled', async () => {
    const scaled = files({ 'img001.png': png(3, 2, [0, 130, 150, 150, 0, 130]), 'img002.png': png(3, 2, [0, 0, 0, 0, 0, 0]) });
    await expect(maskLabelsFromFiles(scaled, NAMES, GRID)).rejects.toThrow(
      "masks/img001.png: value 130 is no class of the model's 21 (0..20) at scale 1 (class 130; ignore value 255). The values look scaled: all are multiples of 10 (0, 130, 150); if they store class x 10, set the mask scale to 10.",
    );
    const labels = await maskLabelsFromFiles(scaled, NAMES, GRID, { scale: 10 });
    expect(Array.from(labels.perSample[0])).toEqual([0, 13, 15, 15, 0, 13]);
    expect(maskLabelsText(labels)).toBe('masks: 2 images, values / 10, 0 pixels at 255 not counted');
    await expect(maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [0, 15, 10, 10, 10, 10]), 'img002.png': png(3, 2, [0, 0, 0, 0, 0, 0]) }), NAMES, GRID, { scale: 10 })).rejects.toThrow(
      "masks/img001.png: value 15 is no class of the model's 21 (0..20) at scale 10 (not a multiple of the scale 10; ignore value 255).",
    );
    expect(scaleHint([0, 10, 20], 21, 1)).toBe(''); // fits as it is: nothing to say
    expect(scaleHint([0, 30, 250], 21, 1)).toBe(''); // 25 classes once divided: not the x10 case either
  });

  it('ignore: another value, or none (then 255 is refused as no class)', async () => {
    const mask = files({ 'img001.png': png(3, 2, [0, 0, 1, 20, 7, 7]), 'img002.png': png(3, 2, [7, 7, 7, 7, 7, 7]) });
    const seven = await maskLabelsFromFiles(mask, NAMES, GRID, { ignore: 7 });
    expect(seven.ignoredPixels).toBe(8);
    expect(Array.from(seven.perSample[0]).map((v) => (v >= 21 ? 'void' : v))).toEqual([0, 0, 1, 20, 'void', 'void']);
    // With 7 ignored, 255 is a value like any other: no class of 21.
    await expect(maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [0, 0, 1, 255, 7, 7]), 'img002.png': png(3, 2, [1, 1, 1, 1, 1, 1]) }), NAMES, GRID, { ignore: 7 })).rejects.toThrow(
      "masks/img001.png: value 255 is no class of the model's 21 (0..20) at scale 1 (class 255; ignore value 7).",
    );
    await expect(maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [0, 0, 1, 255, 7, 7]), 'img002.png': png(3, 2, [7, 7, 7, 7, 7, 8]) }), NAMES, GRID, { ignore: null })).rejects.toThrow(
      "masks/img001.png: value 255 is no class of the model's 21 (0..20) at scale 1 (class 255; no ignore value).",
    );
  });

  it("indexed-colour PNGs (VOC's SegmentationClass): the palette index is the class, 4-bit rows unpacked", async () => {
    const palette = Array.from({ length: 16 }, (_, i) => [i * 16, 255 - i * 16, (i * 7) % 256]); // colours mean nothing
    const labels = await maskLabelsFromFiles(
      files({ 'img001.png': png(3, 2, [0, 15, 3, 4, 5, 6], { depth: 4, colorType: 3, palette }), 'img002.png': png(3, 2, [1, 2, 3, 4, 5, 6], { depth: 8, colorType: 3, palette }) }),
      NAMES,
      GRID,
    );
    expect(labels.perSample.map((m) => Array.from(m))).toEqual([
      [0, 15, 3, 4, 5, 6],
      [1, 2, 3, 4, 5, 6],
    ]);
    expect(maskLabelsText(labels)).toBe('masks: 2 images, all indexed-colour (palette index = class), 0 pixels at 255 not counted');
  });

  it('16-bit and 1-bit gray masks keep their stored values; more than 255 classes are kept as 16 bits', async () => {
    const big: MaskGrid = { height: 2, width: 3, classes: 1000 };
    const labels = await maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [0, 999, 300, 255, 1, 2], { depth: 16 }), 'img002.png': png(3, 2, [1, 0, 1, 0, 1, 1], { depth: 1 }) }), NAMES, big);
    expect(labels.perSample[0]).toBeInstanceOf(Uint16Array);
    expect(Array.from(labels.perSample[0])).toEqual([0, 999, 300, 65535, 1, 2]);
    expect(Array.from(labels.perSample[1])).toEqual([1, 0, 1, 0, 1, 1]);
  });

  it('resizes to the output grid nearest-neighbour (a class cannot be averaged)', async () => {
    // 6x4 -> 3x2: each output pixel takes the source pixel under its centre, (2x + 1, 2y + 1).
    const source = Array.from({ length: 24 }, (_, i) => i % 21);
    const labels = await maskLabelsFromFiles(files({ 'img001.png': png(6, 4, source), 'img002.png': png(1, 1, [9]) }), NAMES, GRID);
    expect(Array.from(labels.perSample[0])).toEqual([source[7], source[9], source[11], source[19], source[21], source[23]]);
    expect(Array.from(labels.perSample[1])).toEqual([9, 9, 9, 9, 9, 9]);
    expect(labels.resized).toBe(2);
    expect(maskLabelsText(labels)).toBe("masks: 2 images, 0 pixels at 255 not counted, 2 resized nearest-neighbour to the output's 3x2");
  });

  it('refuses, naming the file: a missing mask, a non-PNG, a colour PNG, a corrupt one', async () => {
    const one = png(3, 2, [0, 0, 0, 0, 0, 0]);
    await expect(maskLabelsFromFiles(files({ 'img001.png': one }), NAMES, GRID)).rejects.toThrow('No mask for image sub/img002.jpeg: expected masks/sub/img002.png.');
    await expect(maskLabelsFromFiles(files({ 'other.png': one }), NAMES, GRID)).rejects.toThrow('No mask for image img001.jpg: expected masks/img001.png (2 of the 2 images have none).');
    await expect(maskLabelsFromFiles(files({ 'img001.png': one, 'img002.jpg': one }), NAMES, GRID)).rejects.toThrow('masks/img002.jpg is not a PNG: masks must be PNG files (lossless; one class id per pixel), named like their images.');
    await expect(maskLabelsFromFiles(files({ 'img001.png': one, 'img002.png': Uint8Array.from([0xff, 0xd8, 0xff, 0, 1]) }), NAMES, GRID)).rejects.toThrow("masks/img002.png is not a PNG file (its bytes are not PNG's): masks must be PNG.");
    await expect(maskLabelsFromFiles(files({ 'img001.png': one, 'img002.png': png(3, 2, Array(18).fill(1), { colorType: 2 }) }), NAMES, GRID)).rejects.toThrow(
      'masks/img002.png is a colour (RGB) PNG: a mask holds one class id per pixel, as a grayscale or an indexed-colour (palette) PNG.',
    );
    await expect(maskLabelsFromFiles(files({ 'img001.png': one, 'img002.png': one.subarray(0, 40) }), NAMES, GRID)).rejects.toThrow(/^Cannot decode the mask masks\/img002\.png: /);
    await expect(maskLabelsFromFiles(files({}), NAMES, GRID)).rejects.toThrow('masks holds no PNG masks.');
    await expect(maskLabelsFromFiles(files({ 'img001.png': one }), NAMES, GRID, { scale: 0 })).rejects.toThrow('The mask scale must be a whole number from 1, got 0.');
  });

  it('notes masks naming no image; a subset keeps its samples\' masks', async () => {
    const labels = await maskLabelsFromFiles(files({ 'img001.png': png(3, 2, [1, 1, 1, 255, 255, 1]), 'img002.png': png(3, 2, [2, 2, 2, 2, 2, 2]), 'extra.png': png(1, 1, [0]) }), NAMES, GRID);
    expect(labels.unused).toEqual(['extra.png']);
    expect(maskLabelsText(labels)).toBe('masks: 2 images, 2 pixels at 255 not counted, 1 mask naming no image (extra.png) unused');
    const second = maskLabelsAt(labels, [1]);
    expect(second.perSample).toEqual([labels.perSample[1]]);
    expect(second.ignoredPixels).toBe(0);
  });
});

describe('mIoU against masks with void pixels (quality.ts)', () => {
  it('void pixels count in no class: the value equals a confusion counted by hand without them', () => {
    const task: Task = { kind: 'segmentation', output: 0, classes: 3, probability: false };
    // Truth per pixel (255 = void), and a prediction as one-hot scores.
    const truth = Uint8Array.from([0, 0, 1, 1, 2, 255, 255, 2]);
    const predicted = [0, 1, 1, 1, 2, 0, 0, 0];
    const scores = new Float32Array(predicted.length * 3);
    predicted.forEach((c, p) => (scores[3 * p + c] = 1));
    const accumulator = newQualityAccumulator(task, 'miou', { masks: [truth] });
    accumulator.add([scores], [scores]);
    // Counted pixels 0..4 and 7: class 0: tp 1, truth 2, predicted 2 (pixels 0, 7) -> 1/3;
    // class 1: tp 2, truth 2, predicted 3 -> 2/3; class 2: tp 1, truth 2, predicted 1 -> 1/2.
    const expected = (1 / 3 + 2 / 3 + 1 / 2) / 3;
    const summary = accumulator.summary();
    expect(summary.value).toBeCloseTo(expected, 12);
    expect(summary).toMatchObject({ against: 'labels', samples: 1, referenceValue: summary.value });
  });
});
