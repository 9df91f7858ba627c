/** Tensor element types: names as TFLite prints them, storage sizes, and float16 conversion. */
import { TensorType } from './schema/generated/tflite_generated';

export function dtypeName(type: TensorType): string {
  return TensorType[type] ?? `UNKNOWN_TYPE_${type}`;
}

/**
 * Bits per element as stored in a buffer; null for types without a fixed size (STRING, RESOURCE,
 * VARIANT). Sub-byte types (INT4, INT2, UINT4) are packed.
 */
export function dtypeBits(type: TensorType): number | null {
  switch (type) {
    case TensorType.BOOL:
    case TensorType.INT8:
    case TensorType.UINT8:
    case TensorType.FLOAT8_E4M3FN:
    case TensorType.FLOAT8_E5M2:
      return 8;
    case TensorType.INT16:
    case TensorType.UINT16:
    case TensorType.FLOAT16:
    case TensorType.BFLOAT16:
      return 16;
    case TensorType.FLOAT32:
    case TensorType.INT32:
    case TensorType.UINT32:
      return 32;
    case TensorType.FLOAT64:
    case TensorType.INT64:
    case TensorType.UINT64:
    case TensorType.COMPLEX64:
      return 64;
    case TensorType.COMPLEX128:
      return 128;
    case TensorType.INT4:
    case TensorType.UINT4:
      return 4;
    case TensorType.INT2:
      return 2;
    default:
      return null;
  }
}

/** Bytes that `count` elements take, rounding packed sub-byte types up; null when not fixed. */
export function dtypeBytes(type: TensorType, count: number): number | null {
  const bits = dtypeBits(type);
  return bits === null ? null : Math.ceil((bits * count) / 8);
}

/** float32 -> IEEE half, round to nearest even, in bulk. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      if (rest > midpoint || (rest === midpoint && (half & 1))) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
    out[i] = sign | half;
  }
  return out;
}

/** IEEE half -> float32, in bulk. */
export function fromFloat16(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const h = values[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
