/**
 * JPEG and PNG to 8-bit pixels, in pure JavaScript.
 *
 * Calibration must see the same numbers in a browser worker and in Node, so the workbench decodes
 * images itself (jpeg-js, fast-png) instead of asking the platform (canvas, createImageBitmap, sharp),
 * whose decoders differ between browsers and versions. Both libraries run on plain typed arrays:
 * no Node Buffer, no zlib.
 *
 * The result has 1 channel (grayscale sources) or 3 (RGB). Alpha is dropped, as most image
 * libraries do when asked for RGB; 16-bit samples are rounded to 8 bits; low bit depths are scaled
 * to 0..255; palettes are expanded.
 */
import decodeJpegData from 'jpeg-js/lib/decoder.js';
import { convertIndexedToRgb, decode as decodePngData, type DecodedPng } from 'fast-png';
import { WorkbenchError } from '../errors';

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 = grayscale, 3 = RGB (interleaved). */
  channels: 1 | 3;
  /** width * height * channels values, row-major, 0..255. */
  data: Uint8Array;
}

export type ImageFormat = 'jpeg' | 'png';

/** Decoding stops above this many pixels (a 100-megapixel photo needs ~300 MB as RGB). */
const MAX_PIXELS = 100_000_000;

/** File extensions the dataset layer treats as images. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png'];

export function isImagePath(path: string): boolean {
  const lower = path.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** The format from the file's first bytes (not its name), or null. */
export function imageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/** Names the format of a file we cannot decode, for the error message. */
function otherFormat(bytes: Uint8Array): string {
  const ascii = String.fromCharCode(...bytes.subarray(0, 12));
  if (ascii.startsWith('GIF8')) return 'a GIF';
  if (ascii.startsWith('BM')) return 'a BMP';
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'a WebP';
  if (ascii.slice(4, 12) === 'ftypavif' || ascii.slice(4, 12) === 'ftypheic') return 'an AVIF/HEIC';
  if (ascii.startsWith('II*') || ascii.startsWith('MM\0*')) return 'a TIFF';
  return 'not a JPEG or PNG';
}

/**
 * Decodes a JPEG (baseline or progressive) or PNG. `name` is only used in error messages, which
 * say which file failed and why (WorkbenchError 'bad-input').
 */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const format = imageFormat(bytes);
  if (!format) {
    const what = bytes.length === 0 ? 'the file is empty' : `it is ${otherFormat(bytes)} file`;
    throw new WorkbenchError('bad-input', `Cannot decode image ${name}: ${what}; only JPEG and PNG are supported.`);
  }
  try {
    return format === 'jpeg' ? decodeJpeg(bytes) : decodePng(bytes);
  } catch (error) {
    if (error instanceof WorkbenchError) {
      throw new WorkbenchError(error.code, `Cannot decode image ${name}: ${error.message}`);
    }
    const why = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim() || 'unknown error';
    throw new WorkbenchError('bad-input', `Cannot decode image ${name}: the ${format.toUpperCase()} data is corrupt or unsupported (${why}).`);
  }
}

function decodeJpeg(bytes: Uint8Array): DecodedImage {
  // jpeg-js keeps a module-wide memory budget; the limit below is per call.
  const image = decodeJpegData(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: true,
    maxResolutionInMP: MAX_PIXELS / 1e6,
    maxMemoryUsageInMB: 1024,
  });
  checkSize(image.width, image.height);
  const rgb = image.data;
  if (rgb.length !== image.width * image.height * 3) throw new Error('truncated image data');
  return isGray(rgb) ? { width: image.width, height: image.height, channels: 1, data: firstChannel(rgb, 3) } : { width: image.width, height: image.height, channels: 3, data: rgb };
}

/** jpeg-js expands grayscale JPEGs to RGB; give them back their single channel. */
function isGray(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  }
  return true;
}

function firstChannel(data: Uint8Array, stride: number): Uint8Array {
  const out = new Uint8Array(data.length / stride);
  for (let i = 0, j = 0; j < out.length; i += stride, j++) out[j] = data[i];
  return out;
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new WorkbenchError('bad-input', `the image has no pixels (${width}x${height}).`);
  if (width * height > MAX_PIXELS) {
    throw new WorkbenchError('bad-input', `the image is ${width}x${height}, more than the ${MAX_PIXELS / 1e6} megapixels this workbench decodes.`);
  }
}

function decodePng(bytes: Uint8Array): DecodedImage {
  const png = decodePngData(bytes, { checkCrc: false });
  const { width, height } = png;
  checkSize(width, height);
  const pixels = width * height;
  if (png.palette) {
    // Indexed colour: entries are [r, g, b] or [r, g, b, a] (with a tRNS chunk).
    const expanded = convertIndexedToRgb(png);
    const stride = expanded.length / pixels;
    return toRgbOrGray(width, height, expanded, stride, stride === 4);
  }
  const channels = png.channels;
  const samples = to8Bit(png, channels);
  // channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
  if (channels === 1 || channels === 2) {
    return { width, height, channels: 1, data: channels === 1 ? samples : firstChannel(samples, 2) };
  }
  if (channels === 3 || channels === 4) return toRgbOrGray(width, height, samples, channels, channels === 4);
  throw new Error(`${channels} channels`);
}

function toRgbOrGray(width: number, height: number, data: Uint8Array, stride: number, hasAlpha: boolean): DecodedImage {
  if (stride === 3 && !hasAlpha) return { width, height, channels: 3, data };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += stride, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = data[i + 1];
    rgb[j + 2] = data[i + 2];
  }
  return { width, height, channels: 3, data: rgb };
}

/** Samples as one byte each: 16-bit rounded, 1/2/4-bit unpacked and scaled to 0..255. */
function to8Bit(png: DecodedPng, channels: number): Uint8Array {
  const { width, height, depth, data } = png;
  const count = width * height * channels;
  if (depth === 8) {
    if (data.length < count) throw new Error('truncated image data');
    return data instanceof Uint8Array ? data.subarray(0, count) : Uint8Array.from(data.subarray(0, count));
  }
  if (depth === 16) {
    if (data.length < count) throw new Error('truncated image data');
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = Math.round(data[i] / 257);
    return out;
  }
  // 1, 2 or 4 bits (grayscale only, per the PNG spec): rows packed MSB first, padded to a byte.
  const bytesPerRow = Math.ceil((width * channels * depth) / 8);
  if (data.length < bytesPerRow * height) throw new Error('truncated image data');
  const max = (1 << depth) - 1;
  const out = new Uint8Array(count);
  for (let y = 0; y < height; y++) {
    const row = y * bytesPerRow;
    for (let x = 0; x < width * channels; x++) {
      const bit = x * depth;
      const value = (data[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
      out[y * width * channels + x] = Math.round((value * 255) / max);
    }
  }
  return out;
}
