/**
 * int4 weights as the TFLite schema stores them: TensorType INT4, two values per byte, element 0 in
 * the low nibble. Two granularities:
 * - per channel (or per tensor): the usual affine params, zero point 0, scale = max|w| / 7 per
 *   channel (AI Edge Quantizer's symmetric int4; values clamp to -8..7, the full signed range, as
 *   AEQ does below 8 bits: the kernels unpack to int8 and need no narrow range);
 * - blockwise: a [O, I] weight split along I into blocks of `blockSize`, one scale per block, kept
 *   in a separate FLOAT16 tensor [O, I / blockSize] that QuantizationParameters.details
 *   (BlockwiseQuantization) points at, zero points absent (-1). FLOAT16 because LiteRT.js's XNNPACK
 *   path refuses FLOAT32 block scales (measured, see weight-only.ts / dynamic.ts).
 */
import { fromFloat16, toFloat16 } from '../../tflite/dtypes';
import { type QuantParams, absMaxPerChannel, quantizeInto } from './params';

export const INT4_MIN = -8;
export const INT4_MAX = 7;
export const BLOCK_SIZES = [32, 64, 128, 256] as const;
export type BlockSize = (typeof BLOCK_SIZES)[number];

/** Smallest scale we emit: a zero channel or block still needs a positive scale (XNNPACK rejects 0). */
const MIN_SCALE = 1e-9;
/** Smallest normal float16: a block scale below it would be stored as a subnormal or 0. */
const MIN_HALF_SCALE = 2 ** -14;
const MAX_HALF = 65504;

/** Packs int4 values (each in -8..7) two per byte, element 0 in the low nibble. */
export function packInt4(values: Int8Array): Uint8Array {
  const out = new Uint8Array((values.length + 1) >> 1);
  const pairs = values.length >> 1;
  for (let p = 0; p < pairs; p++) out[p] = (values[2 * p] & 0x0f) | ((values[2 * p + 1] & 0x0f) << 4);
  if (values.length & 1) out[pairs] = values[values.length - 1] & 0x0f;
  return out;
}

/** The inverse of packInt4: `count` signed values from packed bytes. */
export function unpackInt4(bytes: Uint8Array, count: number): Int8Array {
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const nibble = (bytes[i >> 1] >> ((i & 1) * 4)) & 0x0f;
    out[i] = nibble >= 8 ? nibble - 16 : nibble;
  }
  return out;
}

/** Symmetric int4 params, zero point 0: scale = max|w| / 7 per channel along `axis` (or per tensor). */
export function int4WeightParams(values: Float32Array, shape: number[], axis: number, perChannel: boolean): QuantParams {
  const maxima = absMaxPerChannel(values, shape, axis, perChannel);
  // An all-zero channel gets the largest scale of the others (see symmetricWeightParams: a tiny
  // scale is legal but gains nothing and upsets kernels that derive multipliers from it).
  const largest = Math.max(0, ...maxima);
  const scale = Array.from(maxima, (m) => (m > 0 ? Math.max(m / INT4_MAX, MIN_SCALE) : largest > 0 ? largest / INT4_MAX : MIN_SCALE));
  return { scale, zeroPoint: scale.map(() => 0), axis: perChannel ? axis : 0 };
}

export function quantizeInt4(values: Float32Array, shape: number[], params: QuantParams): Int8Array {
  const out = new Int8Array(values.length);
  quantizeInto(values, shape, params, out, INT4_MIN, INT4_MAX);
  return out;
}

export interface BlockwiseInt4 {
  /** Quantized values, row-major like the float weights. */
  values: Int8Array;
  /** One scale per block, [rows, columns / blockSize], as float16 bits (what the file stores). */
  scales: Uint16Array;
  blockSize: number;
}

/** Whether a [rows, columns] weight splits into whole blocks of `blockSize` along its last axis. */
export function fitsBlocks(shape: number[], blockSize: number): boolean {
  return shape.length === 2 && shape[1] % blockSize === 0 && shape[1] >= blockSize;
}

/**
 * Blockwise symmetric int4 for a [rows, columns] weight, blocks along the last axis (FULLY_CONNECTED's
 * input dimension, an embedding row). Each scale is rounded to float16 first and the values are
 * quantized with the rounded scale, so the file dequantizes to exactly what we computed.
 */
export function quantizeBlockwiseInt4(values: Float32Array, shape: number[], blockSize: number): BlockwiseInt4 {
  if (!fitsBlocks(shape, blockSize)) throw new Error(`shape [${shape}] does not split into blocks of ${blockSize} along its last axis`);
  const [rows, columns] = shape;
  const blocks = columns / blockSize;
  const raw = new Float32Array(rows * blocks);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const base = r * columns + b * blockSize;
      let m = 0;
      for (let i = 0; i < blockSize; i++) {
        const a = Math.abs(values[base + i]);
        if (a > m) m = a;
      }
      raw[r * blocks + b] = Math.min(Math.max(m / INT4_MAX, MIN_HALF_SCALE), MAX_HALF);
    }
  }
  const scales = toFloat16(raw);
  const stored = fromFloat16(scales);
  const out = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const inv = 1 / stored[r * blocks + b];
      const base = r * columns + b * blockSize;
      for (let i = 0; i < blockSize; i++) {
        const q = Math.round(values[base + i] * inv);
        out[base + i] = q < INT4_MIN ? INT4_MIN : q > INT4_MAX ? INT4_MAX : q;
      }
    }
  }
  return { values: out, scales, blockSize };
}

/** Float values of a blockwise int4 weight (for folding and reading back). */
export function dequantizeBlockwise(values: Int8Array, scales: Float32Array, shape: number[], blockSize: number): Float32Array {
  const columns = shape[shape.length - 1];
  const blocks = columns / blockSize;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const r = Math.floor(i / columns);
    out[i] = values[i] * scales[r * blocks + Math.floor((i % columns) / blockSize)];
  }
  return out;
}
