/** Tensor element types: names as TFLite prints them and storage sizes. */
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
