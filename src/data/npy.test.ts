import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { readNpy, writeNpy } from './npy';

describe('npy', () => {
  it('round-trips arrays of several dtypes and shapes', () => {
    const cases = [
      { dtype: 'float32' as const, shape: [1, 2, 3], data: new Float32Array([0.5, -1, 2, 3.25, 4, 1e-7]) },
      { dtype: 'int8' as const, shape: [4], data: new Int8Array([-128, 0, 1, 127]) },
      { dtype: 'int32' as const, shape: [2, 2], data: new Int32Array([1, -2, 3, 2 ** 30]) },
      { dtype: 'uint8' as const, shape: [], data: new Uint8Array([200]) },
    ];
    for (const array of cases) {
      const bytes = writeNpy(array);
      // Data starts on a 64-byte boundary, as NumPy writes it.
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
      const back = readNpy(bytes);
      expect(back.dtype).toBe(array.dtype);
      expect(back.shape).toEqual(array.shape);
      expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(array.data));
    }
  });

  it('reads a header as NumPy writes it', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const padded = header + ' '.repeat(128 - 10 - header.length - 1) + '\n';
    const bytes = new Uint8Array(128 + 8);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    new DataView(bytes.buffer).setFloat32(128, 1.5, true);
    new DataView(bytes.buffer).setFloat32(132, -2, true);
    const array = readNpy(bytes);
    expect(array.shape).toEqual([2]);
    expect(Array.from(array.data as Float32Array)).toEqual([1.5, -2]);
  });

  it('refuses what it cannot read, saying why', () => {
    expect(() => readNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(/not a NumPy/);
    const short = writeNpy({ dtype: 'float32', shape: [10], data: new Float32Array(10) }).slice(0, 128 + 20);
    expect(() => readNpy(short)).toThrow(WorkbenchError);
    expect(() => readNpy(short)).toThrow(/needs 40 bytes/);
  });
});
