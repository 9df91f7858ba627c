import { toFloat } from '../runtime/samples';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { readModel } from '../tflite/read';
import { dataDir, readSharedModel } from '../test-support/shared';
import { defaultPreprocessing, graphInputs } from './default-preprocessing';
import { decodeImage, type DecodedImage } from './image-decode';
import { toModelInput } from '../runtime/samples';
import { checkPreprocessing, convertChannels, imageInputShape, preprocessImage, resizeBilinear, type Preprocessing } from './preprocess';

const identity = (width: number, height: number, channels: 1 | 3): Preprocessing => ({
  width,
  height,
  channels,
  channelOrder: 'RGB',
  mean: [0],
  std: [1],
  resize: 'bilinear',
});

function expectBadInput(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WorkbenchError);
  expect((error as WorkbenchError).code).toBe('bad-input');
  expect((error as WorkbenchError).message).toMatch(message);
}

describe('resizeBilinear', () => {
  it('leaves an image of the target size unchanged', () => {
    const data = Float32Array.from({ length: 5 * 4 * 3 }, (_, i) => i * 1.5);
    expect(resizeBilinear(data, 5, 4, 3, 5, 4)).toEqual(data);
  });

  it('samples at half-pixel centres (2 -> 4 pixels: 0, 0.25, 0.75, 1 of the way, edges clamped)', () => {
    // One row, values 0 and 100: output x samples input (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
    const out = resizeBilinear(Float32Array.from([0, 100]), 2, 1, 1, 4, 1);
    expect(Array.from(out)).toEqual([0, 25, 75, 100]);
    // Shrinking 4 -> 2 samples at 0.5 and 2.5: averages of neighbours (no antialiasing).
    const down = resizeBilinear(Float32Array.from([0, 10, 20, 30]), 4, 1, 1, 2, 1);
    expect(Array.from(down)).toEqual([5, 25]);
  });

  it('interpolates rows and columns and keeps channels apart', () => {
    // 2x2 RGB: R = 0/100 across, G = 0/100 down, B constant 7.
    const data = Float32Array.from([0, 0, 7, 100, 0, 7, 0, 100, 7, 100, 100, 7]);
    const out = resizeBilinear(data, 2, 2, 3, 4, 4);
    const at = (x: number, y: number) => Array.from(out.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    expect(at(1, 2)).toEqual([25, 75, 7]);
    expect(at(3, 0)).toEqual([100, 0, 7]);
  });
});

describe('preprocessImage', () => {
  const rgb: DecodedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([10, 20, 30, 200, 100, 50]) };

  it('normalizes per channel and swaps to BGR', () => {
    const p: Preprocessing = { ...identity(2, 1, 3), channelOrder: 'BGR', mean: [1, 2, 3], std: [1, 2, 4] };
    // BGR: channel 0 is blue, normalized with mean[0] / std[0].
    expect(Array.from(preprocessImage(rgb, p))).toEqual([(30 - 1) / 1, (20 - 2) / 2, (10 - 3) / 4, (50 - 1) / 1, (100 - 2) / 2, (200 - 3) / 4]);
  });

  it('converts RGB to gray with BT.601 weights and gray to RGB by copying', () => {
    const gray = preprocessImage(rgb, identity(2, 1, 1));
    expect(gray[0]).toBeCloseTo(0.299 * 10 + 0.587 * 20 + 0.114 * 30, 4);
    expect(gray[1]).toBeCloseTo(0.299 * 200 + 0.587 * 100 + 0.114 * 50, 4);
    const g: DecodedImage = { width: 1, height: 1, channels: 1, data: Uint8Array.from([77]) };
    expect(Array.from(convertChannels(g, 3))).toEqual([77, 77, 77]);
  });

  it('writes NCHW when asked', () => {
    const out = preprocessImage(rgb, { ...identity(2, 1, 3), layout: 'NCHW' });
    expect(Array.from(out)).toEqual([10, 200, 20, 100, 30, 50]);
  });

  it('rejects inconsistent preprocessing', () => {
    expectBadInput(() => checkPreprocessing({ ...identity(2, 1, 3), mean: [1, 2] }), /mean has 2 values; give 1, or one per channel \(3\)/);
    expectBadInput(() => checkPreprocessing({ ...identity(2, 1, 3), std: [0] }), /std must not be 0/);
    expectBadInput(() => checkPreprocessing({ ...identity(0, 1, 3) }), /size 0x1/);
  });
});

describe('determinism', () => {
  it('produces bit-identical floats for a real photo (pinned; Chromium gives the same bits)', () => {
    const bytes = new Uint8Array(readFileSync(join(dataDir, 'imagenet_val_subset', 'images', 'ILSVRC2012_val_00000347.JPEG')));
    const image = decodeImage(bytes, 'ILSVRC2012_val_00000347.JPEG');
    const hash = (floats: Float32Array) => {
      const bits = new Uint32Array(floats.buffer, floats.byteOffset, floats.length);
      let h = 0;
      for (let i = 0; i < bits.length; i++) h = (Math.imul(h, 31) + bits[i]) >>> 0;
      return h;
    };
    expect(hash(preprocessImage(image, { ...identity(224, 224, 3), mean: [127.5], std: [127.5] }))).toBe(2890996263);
    expect(hash(preprocessImage(image, { ...identity(28, 28, 1), mean: [0], std: [255] }))).toBe(3850867559);
  });
});

describe('imageInputShape', () => {
  it('reads NHWC, NCHW, batchless and single-channel rank-3 shapes', () => {
    expect(imageInputShape([1, 224, 224, 3])).toEqual({ height: 224, width: 224, channels: 3, layout: 'NHWC' });
    expect(imageInputShape([1, 3, 224, 160])).toEqual({ height: 224, width: 160, channels: 3, layout: 'NCHW' });
    expect(imageInputShape([1, 28, 28])).toEqual({ height: 28, width: 28, channels: 1, layout: 'NHWC' });
    expect(imageInputShape([96, 96, 3])).toEqual({ height: 96, width: 96, channels: 3, layout: 'NHWC' });
    expect(imageInputShape([1, 256])).toBeNull();
    expect(imageInputShape([5360])).toBeNull();
    expect(imageInputShape([200, 32, 32, 1])).toBeNull();
  });
});

describe('toModelInput', () => {
  it('passes floats through for float inputs', () => {
    const floats = Float32Array.from([0.5, -2]);
    expect(toModelInput(floats, { dtype: 'float32', quantization: null })).toBe(floats);
  });

  it('quantizes q = clamp(round(x / scale) + zeroPoint), rounding half away from zero', () => {
    const floats = Float32Array.from([0, 0.25, -0.25, 0.75, 100, -100, 0.1]);
    const int8 = toModelInput(floats, { dtype: 'int8', quantization: { scale: 0.5, zeroPoint: -3 } });
    expect(int8).toBeInstanceOf(Int8Array);
    expect(Array.from(int8)).toEqual([-3, -2, -4, -1, 127, -128, -3]);
    const int16 = toModelInput(Float32Array.from([1, -1, 1e9]), { dtype: 'int16', quantization: { scale: 1 / 32768, zeroPoint: 0 } });
    expect(Array.from(int16)).toEqual([32767, -32768, 32767]);
    const ids = toModelInput(Float32Array.from([3, 4.6]), { dtype: 'int32', quantization: null });
    expect(Array.from(ids)).toEqual([3, 5]);
  });

  it('round-trips quantized values through toFloat (dequantize) and back', () => {
    const q = { scale: 0.003921568859368563, zeroPoint: -128 };
    const values = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    expect(Array.from(toModelInput(toFloat(values, q), { dtype: 'int8', quantization: q }))).toEqual(Array.from(values));
  });

  it("gives mobilenet_v1_0.25_224_quant_uint8 its raw pixels (within 1) with the metadata's mean 127.5 / std 127.5", () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite'));
    const input = graphInputs(graph)[0];
    expect(input).toMatchObject({ dtype: 'uint8', quantization: { scale: 0.0078125, zeroPoint: 128 } });
    const choice = defaultPreprocessing(graph, 0);
    expect(choice).toMatchObject({ source: 'metadata', preprocessing: { mean: [127.5], std: [127.5] } });
    // A real photo at the input size, so no resizing: every pixel value 0..255 comes through.
    const image = decodeImage(new Uint8Array(readFileSync(join(dataDir, 'sample_images', 'burger.jpg'))), 'burger.jpg');
    const p = { ...choice.preprocessing!, width: image.width, height: image.height };
    const quantized = toModelInput(preprocessImage(image, p), input) as Uint8Array;
    let worst = 0;
    for (let i = 0; i < quantized.length; i++) worst = Math.max(worst, Math.abs(quantized[i] - image.data[i]));
    expect(worst).toBe(1);
    // With the input's own quantization as normalization (mean 128, std 128) the pixels are exact.
    const exact = toModelInput(preprocessImage(image, { ...p, mean: [128], std: [128] }), input);
    expect(exact).toEqual(image.data);
  });
});
