import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { readSharedModel } from '../test-support/shared';
import type { ModelGraph } from './graph';
import { readModel } from './read';
import { writeModel } from './write';

function errorOf(bytes: Uint8Array): WorkbenchError {
  try {
    readModel(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkbenchError);
    const e = error as WorkbenchError;
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected readModel to refuse these bytes');
}

function withEdit(edit: (graph: ModelGraph) => void): Uint8Array {
  const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
  edit(graph);
  return writeModel(graph);
}

describe('bad input', () => {
  it('an empty file', () => {
    const e = errorOf(new Uint8Array(0));
    expect(e.code).toBe('empty-file');
    expect(e.message).toMatch(/empty/);
  });

  it('a file shorter than the header', () => {
    expect(errorOf(new Uint8Array([1, 2, 3])).code).toBe('truncated');
  });

  it('random bytes', () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7919 + 13) & 0xff);
    const e = errorOf(bytes);
    expect(e.code).toBe('not-tflite');
    expect(e.message).toMatch(/TFL3/);
  });

  it('a zip archive, a gzip file, an ONNX protobuf, a JSON file, an HDF5 file', () => {
    const cases: [number[], RegExp][] = [
      [[0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0], /zip/],
      [[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0], /gzip/],
      [[0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63], /ONNX/],
      [[0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d, 0x0a, 0x20, 0x20], /JSON/],
      [[0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0], /HDF5/],
    ];
    for (const [bytes, message] of cases) {
      const e = errorOf(new Uint8Array(bytes));
      expect(e.code).toBe('not-tflite');
      expect(e.message).toMatch(message);
    }
  });

  it('a wrong file identifier', () => {
    const bytes = readSharedModel('hello_world_sine_float.tflite');
    bytes.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
    const e = errorOf(bytes);
    expect(e.code).toBe('not-tflite');
    expect(e.message).toContain('"TFL2"');
  });

  it('a truncated model, at many lengths', () => {
    const bytes = readSharedModel('mnist_conv_fc_float.tflite');
    for (const length of [8, 16, 100, 1000, 50_000, 150_000, bytes.length - 1]) {
      const e = errorOf(bytes.slice(0, length));
      expect(['truncated', 'malformed']).toContain(e.code);
    }
  });

  it('a root offset pointing outside the file', () => {
    const bytes = readSharedModel('hello_world_sine_float.tflite');
    new DataView(bytes.buffer).setUint32(0, 0x7fff0000, true);
    const e = errorOf(bytes);
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/outside/);
  });

  it('absurd dimensions', () => {
    const bytes = withEdit((g) => {
      g.subgraphs[0].tensors[0].shape = [100000, 100000, 100000];
    });
    const e = errorOf(bytes);
    expect(e.code).toBe('malformed');
    expect(e.message).toMatch(/absurd shape \[100000,100000,100000\]/);
  });

  it('a tensor pointing at a missing buffer, an operator at a missing opcode or tensor', () => {
    expect(errorOf(withEdit((g) => void (g.subgraphs[0].tensors[1].buffer = 9999))).message).toMatch(/buffer 9999/);
    const op = errorOf(withEdit((g) => void (g.subgraphs[0].operators[2].opcodeIndex = 77)));
    expect(op.message).toMatch(/opcode 77/);
    expect(op.opIndex).toBe(2);
    expect(errorOf(withEdit((g) => void (g.subgraphs[0].operators[0].inputs[0] = 5000))).message).toMatch(/tensor 5000/);
  });

  it('constant data shorter than the shape needs', () => {
    const e = errorOf(
      withEdit((g) => {
        const weights = g.subgraphs[0].tensors.find((t) => g.buffers[t.buffer].data.length > 1000)!;
        g.buffers[weights.buffer].data = g.buffers[weights.buffer].data.subarray(0, 100);
      }),
    );
    expect(e.message).toMatch(/needs \d+ bytes of data but its buffer holds 100/);
  });
});
