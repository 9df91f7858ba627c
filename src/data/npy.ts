/**
 * NumPy .npy arrays (format versions 1-3, little-endian, C order): the plain way to hand a model
 * exact input tensors from Python.
 */
import { WorkbenchError } from '../errors';

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'bool';
export type NpyData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32', '<f8': 'float64', '|i1': 'int8', '|u1': 'uint8', '<i2': 'int16', '<u2': 'uint16',
  '<i4': 'int32', '<i8': 'int64', '|b1': 'bool',
};
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpy(bytes: Uint8Array, label = 'the .npy file'): NpyArray {
  const bad = (why: string): never => {
    throw new WorkbenchError('bad-input', `Cannot read ${label}: ${why}.`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('it is not a NumPy .npy file (no \\x93NUMPY header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) bad('its header is truncated');
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) bad(`its header is not understood: ${header.trim()}`);
  if (fortran === 'True') bad('it is stored in Fortran order; save it with np.ascontiguousarray first');
  const dtype = DESCR[descr!] ?? bad(`its dtype ${descr} is not supported (use float32, int8, uint8, int16, int32, int64 or bool, little-endian)`);
  const shape = shapeText!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((n, d) => n * d, 1);
  const itemSize = { float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, bool: 1 }[dtype];
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart < count * itemSize) {
    bad(`shape (${shape.join(', ')}) needs ${count * itemSize} bytes of ${dtype} data but the file holds ${bytes.length - dataStart}`);
  }
  // Copy into an aligned buffer of its own: typed arrays need aligned offsets.
  const raw = bytes.slice(dataStart, dataStart + count * itemSize).buffer;
  const data: NpyData = {
    float32: () => new Float32Array(raw), float64: () => new Float64Array(raw), int8: () => new Int8Array(raw),
    uint8: () => new Uint8Array(raw), int16: () => new Int16Array(raw), uint16: () => new Uint16Array(raw),
    int32: () => new Int32Array(raw), int64: () => new BigInt64Array(raw), bool: () => new Uint8Array(raw),
  }[dtype]();
  return { dtype, shape, data };
}

export function writeNpy(array: NpyArray): Uint8Array {
  const descr = Object.entries(DESCR).find(([, d]) => d === array.dtype)![0];
  const shape = array.shape.length === 1 ? `${array.shape[0]},` : array.shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  // Pad so that the data starts on a 64-byte boundary, as NumPy does, ending with a newline.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const data = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + headerBytes.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(data, 10 + headerBytes.length);
  return out;
}
