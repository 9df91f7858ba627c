/**
 * Constant tensors of a ModelGraph as engine values.
 *
 * The engine computes in real numbers: a quantized constant (int8 weights, int32 bias, ...) becomes
 * float32 = scale * (q - zero_point), float16 becomes float32, and only unquantized integer constants
 * (shapes, axes, indices) stay integers. One bulk pass per tensor.
 */
import type { ModelGraph, Tensor } from '../tflite/graph';
import { elementCount } from '../tflite/shape';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { fromFloat16 } from '../tflite/dtypes';

export type ConstantValues = { dtype: 'float32'; values: Float32Array } | { dtype: 'int32'; values: Int32Array } | { dtype: 'bool'; values: Uint8Array };

export function isQuantizedTensor(tensor: Tensor): boolean {
  return !!tensor.quantization?.scale?.length && tensor.type !== TensorType.FLOAT32 && tensor.type !== TensorType.FLOAT16;
}

/** Integer storage of a tensor's bytes as plain numbers (int64 narrowed: shapes, indices, int64 bias). */
function integers(type: TensorType, bytes: Uint8Array, count: number): ArrayLike<number> | null {
  const copy = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const buf = copy.buffer;
  const off = copy.byteOffset;
  switch (type) {
    case TensorType.INT8:
      return new Int8Array(buf, off, count);
    case TensorType.UINT8:
      return new Uint8Array(buf, off, count);
    case TensorType.INT16:
      return new Int16Array(buf, off, count);
    case TensorType.INT32:
      return new Int32Array(buf, off, count);
    case TensorType.INT64: {
      const big = new BigInt64Array(buf, off, count);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(big[i]);
      return out;
    }
    default:
      return null;
  }
}

/** The values of a constant tensor; null for tensor types the engine does not compute with. */
export function constantValues(graph: ModelGraph, tensor: Tensor): ConstantValues | null {
  const bytes = graph.buffers[tensor.buffer]?.data;
  if (!bytes || bytes.length === 0) return null;
  const count = elementCount(tensor.shape);
  if (tensor.type === TensorType.FLOAT32) {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return { dtype: 'float32', values: new Float32Array(aligned.buffer, aligned.byteOffset, count).slice() };
  }
  if (tensor.type === TensorType.FLOAT16) {
    const aligned = bytes.slice();
    return { dtype: 'float32', values: fromFloat16(new Uint16Array(aligned.buffer, 0, count)) };
  }
  if (tensor.type === TensorType.BOOL) return { dtype: 'bool', values: bytes.slice(0, count) };
  const ints = integers(tensor.type, bytes, count);
  if (!ints) return null;
  if (isQuantizedTensor(tensor)) return { dtype: 'float32', values: dequantizeValues(ints, tensor) };
  return { dtype: 'int32', values: Int32Array.from(ints) };
}

/** real = scale[c] * (q - zero_point[c]) along the quantized dimension. */
export function dequantizeValues(q: ArrayLike<number>, tensor: Tensor): Float32Array {
  const quant = tensor.quantization!;
  const scale = quant.scale!;
  const zero = quant.zeroPoint ?? [];
  const out = new Float32Array(q.length);
  if (scale.length === 1) {
    const s = scale[0];
    const z = zero[0] ?? 0;
    for (let i = 0; i < q.length; i++) out[i] = s * (q[i] - z);
    return out;
  }
  const axis = quant.quantizedDimension;
  const channels = scale.length;
  const inner = tensor.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  for (let start = 0, c = 0; start < q.length; start += inner, c = (c + 1) % channels) {
    const s = scale[c];
    const z = zero[c] ?? 0;
    const end = Math.min(start + inner, q.length);
    for (let i = start; i < end; i++) out[i] = s * (q[i] - z);
  }
  return out;
}
