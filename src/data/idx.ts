/**
 * IDX arrays, the format of MNIST and Fashion-MNIST (optionally gzipped): a 4-byte magic
 * (0, 0, element type, rank), rank big-endian uint32 dimensions, then the elements, big-endian.
 */
import { gunzipSync } from 'fflate';
import { WorkbenchError } from '../errors';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** File names that look like IDX files: "train-images-idx3-ubyte", "t10k-labels.idx1-ubyte.gz"... */
export function isIdxPath(path: string): boolean {
  return /[.-]idx\d-[a-z]+(\.gz)?$/i.test(path) || /\.idx\d?(\.gz)?$/i.test(path);
}

/** True when the bytes start like an IDX file or a gzip stream (which may hold one). */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] in TYPES && bytes[3] > 0;
}

export function readIdx(input: Uint8Array, label = 'the IDX file'): IdxArray {
  const bad = (why: string): never => {
    throw new WorkbenchError('bad-input', `Cannot read ${label}: ${why}.`);
  };
  let bytes = input;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      bad(`its gzip data is corrupt (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) bad('it is not an IDX file (it must start with two zero bytes)');
  const type = TYPES[bytes[2]] ?? bad(`element type 0x${bytes[2].toString(16)} is not an IDX type`);
  const rank = bytes[3];
  if (rank === 0) bad('it has no dimensions');
  const headerSize = 4 + rank * 4;
  if (bytes.length < headerSize) bad('its header is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + i * 4, false));
  const count = shape.reduce((n, d) => n * d, 1);
  const needed = headerSize + count * type.size;
  if (bytes.length < needed) bad(`shape [${shape.join(', ')}] needs ${needed} bytes but it has ${bytes.length}`);
  const body = bytes.subarray(headerSize, needed);
  let data: IdxArray['data'];
  switch (type.dtype) {
    case 'uint8':
      data = body.slice();
      break;
    case 'int8':
      data = new Int8Array(body.slice().buffer);
      break;
    default: {
      // Big-endian multi-byte elements.
      const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const read = {
        int16: (i: number) => bodyView.getInt16(i * 2, false),
        int32: (i: number) => bodyView.getInt32(i * 4, false),
        float32: (i: number) => bodyView.getFloat32(i * 4, false),
        float64: (i: number) => bodyView.getFloat64(i * 8, false),
      }[type.dtype];
      const Out = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[type.dtype];
      const out = new Out(count);
      for (let i = 0; i < count; i++) out[i] = read(i);
      data = out;
    }
  }
  return { dtype: type.dtype, shape, data };
}
