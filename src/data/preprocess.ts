/**
 * Image preprocessing: decoded pixels -> the float tensor a model input expects (the runtime's
 * toModelInput then gives a quantized input its dtype).
 *
 * Steps, in this order: colour conversion to the model's channel count (ITU-R BT.601 luma for
 * grayscale models, replication for gray images fed to RGB models), bilinear resize of the whole
 * image to the input size (half-pixel centres, no crop, no antialiasing: TensorFlow's
 * `tf.image.resize(..., 'bilinear')`), channel order, then (x - mean) / std per channel. Everything
 * is plain arithmetic on typed arrays, so the browser and Node produce identical floats.
 */
import { WorkbenchError } from '../errors';
import type { RuntimeDType } from '../runtime/types';
import type { DecodedImage } from './image-decode';

export interface Preprocessing {
  /** Model input size, pixels. */
  width: number;
  height: number;
  channels: 1 | 3;
  /** Order of the 3 channels in the tensor (ignored for 1 channel). */
  channelOrder: 'RGB' | 'BGR';
  /** x' = (x - mean[c]) / std[c] on pixel values 0..255; one value applies to every channel. */
  mean: number[];
  std: number[];
  resize: 'bilinear';
  /** Tensor layout; default NHWC. */
  layout?: 'NHWC' | 'NCHW';
}

/** What a model input needs in order to be fed: its dtype, shape and (per-tensor) quantization. */
export interface ModelInputInfo {
  name: string;
  dtype: RuntimeDType;
  shape: number[];
  quantization: { scale: number; zeroPoint: number } | null;
}

export interface ImageInputShape {
  height: number;
  width: number;
  channels: 1 | 3;
  layout: 'NHWC' | 'NCHW';
}

/**
 * Reads an input shape as an image: [1, H, W, C] (NHWC), [1, C, H, W] (NCHW) with C 1 or 3,
 * [H, W, C], or [1, H, W] (one channel, e.g. rows of an MNIST digit fed to an RNN). Null when the
 * shape is not an image of batch 1.
 */
export function imageInputShape(shape: number[]): ImageInputShape | null {
  const isChannels = (c: number): c is 1 | 3 => c === 1 || c === 3;
  if (shape.length === 4 && shape[0] === 1) {
    const [, a, b, c] = shape;
    if (isChannels(c) && a > 1 && b > 1) return { height: a, width: b, channels: c, layout: 'NHWC' };
    if (isChannels(a) && b > 4 && c > 4) return { height: b, width: c, channels: a, layout: 'NCHW' };
    return null;
  }
  if (shape.length === 3) {
    const [a, b, c] = shape;
    if (a === 1 && b > 1 && c > 1) return { height: b, width: c, channels: 1, layout: 'NHWC' };
    if (isChannels(c) && a > 1 && b > 1) return { height: a, width: b, channels: c, layout: 'NHWC' };
  }
  return null;
}

/** Checks a Preprocessing (sizes, channel count, mean/std lengths, std != 0). */
export function checkPreprocessing(p: Preprocessing, what = 'preprocessing'): void {
  const bad = (why: string): never => {
    throw new WorkbenchError('bad-input', `Invalid ${what}: ${why}.`);
  };
  if (!(Number.isInteger(p.width) && p.width > 0 && Number.isInteger(p.height) && p.height > 0)) bad(`size ${p.width}x${p.height} is not a positive whole number of pixels`);
  if (p.channels !== 1 && p.channels !== 3) bad(`${p.channels} channels (expected 1 or 3)`);
  if (p.channelOrder !== 'RGB' && p.channelOrder !== 'BGR') bad(`channel order '${p.channelOrder}' (expected RGB or BGR)`);
  if (p.resize !== 'bilinear') bad(`resize '${p.resize}' (only 'bilinear' is supported)`);
  for (const [name, values] of [['mean', p.mean], ['std', p.std]] as const) {
    if (!Array.isArray(values) || (values.length !== 1 && values.length !== p.channels)) {
      bad(`${name} has ${Array.isArray(values) ? values.length : 0} values; give 1, or one per channel (${p.channels})`);
    }
    if (values.some((v) => !Number.isFinite(v))) bad(`${name} [${values.join(', ')}] is not all numbers`);
  }
  if (p.std.some((v) => v === 0)) bad('std must not be 0');
}

/** Decoded pixels -> the model input tensor (NHWC, or NCHW when asked), as floats. */
export function preprocessImage(image: DecodedImage, p: Preprocessing): Float32Array {
  const converted = convertChannels(image, p.channels);
  const resized = resizeBilinear(converted, image.width, image.height, p.channels, p.width, p.height);
  return normalize(resized, p);
}

/**
 * Colour conversion to `channels`: RGB -> gray with the BT.601 luma weights (as PIL's "L" and
 * OpenCV's RGB2GRAY; kept in float, not rounded); gray -> RGB by copying.
 */
export function convertChannels(image: DecodedImage, channels: 1 | 3): Float32Array {
  const pixels = image.width * image.height;
  const out = new Float32Array(pixels * channels);
  const data = image.data;
  if (image.channels === channels) {
    out.set(data);
  } else if (channels === 1) {
    for (let i = 0, j = 0; i < pixels; i++, j += 3) out[i] = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
  } else {
    for (let i = 0, j = 0; i < pixels; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = data[i];
  }
  return out;
}

/**
 * Bilinear resize with half-pixel centres: output pixel x samples the input at
 * (x + 0.5) * inWidth / outWidth - 0.5, clamped to the image; no antialiasing when shrinking.
 * Same size in and out returns the pixels unchanged.
 */
export function resizeBilinear(data: Float32Array, inWidth: number, inHeight: number, channels: number, outWidth: number, outHeight: number): Float32Array {
  if (inWidth === outWidth && inHeight === outHeight) return data;
  const xs = samplePositions(inWidth, outWidth);
  const ys = samplePositions(inHeight, outHeight);
  const out = new Float32Array(outWidth * outHeight * channels);
  const rowStride = inWidth * channels;
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const top = ys.low[y] * rowStride;
    const bottom = ys.high[y] * rowStride;
    const fy = ys.fraction[y];
    for (let x = 0; x < outWidth; x++) {
      const left = xs.low[x] * channels;
      const right = xs.high[x] * channels;
      const fx = xs.fraction[x];
      for (let c = 0; c < channels; c++) {
        const tl = data[top + left + c];
        const tr = data[top + right + c];
        const bl = data[bottom + left + c];
        const br = data[bottom + right + c];
        const t = tl + (tr - tl) * fx;
        const b = bl + (br - bl) * fx;
        out[o++] = t + (b - t) * fy;
      }
    }
  }
  return out;
}

function samplePositions(inSize: number, outSize: number) {
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const fraction = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const at = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), inSize - 1);
    low[i] = Math.floor(at);
    high[i] = Math.min(low[i] + 1, inSize - 1);
    fraction[i] = at - low[i];
  }
  return { low, high, fraction };
}

/** Channel order, (x - mean) / std, and layout. `data` is HWC in RGB (or gray) order. */
function normalize(data: Float32Array, p: Preprocessing): Float32Array {
  const channels = p.channels;
  const pixels = p.width * p.height;
  const out = new Float32Array(pixels * channels);
  const nchw = p.layout === 'NCHW';
  for (let c = 0; c < channels; c++) {
    const source = channels === 3 && p.channelOrder === 'BGR' ? 2 - c : c;
    const mean = p.mean.length === 1 ? p.mean[0] : p.mean[c];
    const std = p.std.length === 1 ? p.std[0] : p.std[c];
    for (let i = 0; i < pixels; i++) {
      out[nchw ? c * pixels + i : i * channels + c] = (data[i * channels + source] - mean) / std;
    }
  }
  return out;
}
