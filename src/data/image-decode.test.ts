import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { dataDir } from '../test-support/shared';
import { decodeImage, imageFormat } from './image-decode';

const shared = (...parts: string[]) => new Uint8Array(readFileSync(join(dataDir, ...parts)));

function decodeError(bytes: Uint8Array, name: string): WorkbenchError {
  let error: unknown;
  try {
    decodeImage(bytes, name);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WorkbenchError);
  const we = error as WorkbenchError;
  expect(we.code).toBe('bad-input');
  expect(we.message).toContain(name);
  expect(we.message).not.toContain('\n');
  return we;
}

/** Sum of all samples: a cheap fingerprint that any decoding change moves. */
const checksum = (data: Uint8Array) => data.reduce((s, v) => s + v, 0);

describe('decodeImage: JPEG', () => {
  it('decodes baseline JPEGs', () => {
    const bytes = shared('imagenet_val_subset', 'images', 'ILSVRC2012_val_00000347.JPEG');
    expect(imageFormat(bytes)).toBe('jpeg');
    const image = decodeImage(bytes, 'ILSVRC2012_val_00000347.JPEG');
    expect([image.width, image.height, image.channels, image.data.length]).toEqual([227, 227, 3, 227 * 227 * 3]);
    // Pinned: decoding is our own code, so every platform must produce exactly these pixels.
    expect(checksum(image.data)).toBe(23076022);
  });

  it('decodes progressive JPEGs', () => {
    const expected: Record<string, [number, number, number]> = {
      'cats_and_dogs.jpg': [1200, 600, 392808788],
      'multi_objects.jpg': [902, 358, 98722051],
    };
    for (const [name, [width, height, sum]] of Object.entries(expected)) {
      const bytes = shared('sample_images', name);
      // SOF2 (progressive DCT) marker present.
      expect(bytes.some((b, i) => b === 0xff && bytes[i + 1] === 0xc2)).toBe(true);
      const image = decodeImage(bytes, name);
      expect([image.width, image.height, image.channels, image.data.length]).toEqual([width, height, 3, width * height * 3]);
      expect(checksum(image.data)).toBe(sum);
    }
  });

  it('names the file when a JPEG is truncated or corrupt', () => {
    const bytes = shared('sample_images', 'burger.jpg');
    expect(decodeError(bytes.subarray(0, 200), 'cut.jpg').message).toMatch(/^Cannot decode image cut\.jpg: the JPEG data is corrupt or unsupported/);
    const garbage = bytes.slice();
    garbage.fill(0x00, 2, 600);
    decodeError(garbage, 'zeros.jpg');
  });
});

describe('decodeImage: PNG', () => {
  it('decodes the 8-bit grayscale MNIST samples', () => {
    const image = decodeImage(shared('mnist_t10k', 'png_samples', 'sample7.png'), 'sample7.png');
    expect([image.width, image.height, image.channels]).toEqual([28, 28, 1]);
    expect(Math.max(...image.data)).toBeGreaterThan(200);
    expect(image.data[0]).toBe(0);
  });

  it('decodes RGB, RGBA (alpha dropped), gray + alpha, 16-bit, palette and 1-bit images', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const rgba = Uint8Array.from([255, 0, 0, 9, 0, 255, 0, 99, 0, 0, 255, 0, 10, 20, 30, 255]);
    const cases = [
      { png: { width: 2, height: 2, channels: 3, depth: 8 as const, data: rgb }, channels: 3, data: rgb },
      { png: { width: 2, height: 2, channels: 4, depth: 8 as const, data: rgba }, channels: 3, data: rgb },
      { png: { width: 2, height: 1, channels: 2, depth: 8 as const, data: Uint8Array.from([7, 0, 250, 255]) }, channels: 1, data: Uint8Array.from([7, 250]) },
      {
        png: { width: 2, height: 1, channels: 3, depth: 16 as const, data: Uint16Array.from([65535, 0, 32896, 257, 128, 65408]) },
        channels: 3,
        data: Uint8Array.from([255, 0, 128, 1, 0, 255]),
      },
      {
        png: { width: 3, height: 1, channels: 1, depth: 8 as const, data: Uint8Array.from([2, 0, 1]), palette: [[1, 2, 3], [40, 50, 60], [200, 100, 0]] },
        channels: 3,
        data: Uint8Array.from([200, 100, 0, 1, 2, 3, 40, 50, 60]),
      },
      // 1-bit gray, 10 pixels wide: rows are packed into 2 bytes each.
      { png: { width: 10, height: 2, channels: 1, depth: 1 as const, data: Uint8Array.from([0b10100000, 0b01000000, 0b00000000, 0b11000000]) }, channels: 1, data: Uint8Array.from([255, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255]) },
    ];
    for (const { png, channels, data } of cases) {
      const image = decodeImage(encodePng(png), 'test.png');
      expect([image.width, image.height, image.channels]).toEqual([png.width, png.height, channels]);
      expect(Array.from(image.data)).toEqual(Array.from(data));
    }
  });

  it('names the file when a PNG is corrupt', () => {
    const bytes = shared('deeplab_segmentation_sample', 'segmentation_golden_rotation0.png');
    expect(decodeImage(bytes, 'golden.png')).toMatchObject({ width: 257, height: 257, channels: 1 });
    decodeError(bytes.subarray(0, 60), 'short.png');
    const flipped = bytes.slice();
    for (let i = 100; i < 140; i++) flipped[i] ^= 0x5a;
    decodeError(flipped, 'flipped.png');
  });
});

describe('decodeImage: other files', () => {
  it('says which format it got instead', () => {
    const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
    expect(decodeError(gif, 'a.gif').message).toBe('Cannot decode image a.gif: it is a GIF file; only JPEG and PNG are supported.');
    expect(decodeError(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '), 'b.webp').message).toMatch(/it is a WebP file/);
    expect(decodeError(new Uint8Array(0), 'empty.jpg').message).toMatch(/the file is empty/);
    expect(decodeError(new TextEncoder().encode('hello world'), 'notes.png').message).toMatch(/it is not a JPEG or PNG file/);
  });
});
