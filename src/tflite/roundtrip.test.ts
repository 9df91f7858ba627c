import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readSharedModel, sharedModelNames } from '../test-support/shared';
import type { ModelGraph } from './graph';
import { readModel } from './read';
import { writeModel } from './write';

/** A comparable form: byte arrays by length and SHA-256 (any changed byte changes the digest). */
function plain(graph: ModelGraph): unknown {
  return JSON.parse(
    JSON.stringify(graph, (_key, value) =>
      value instanceof Uint8Array
        ? `${value.length} bytes sha256:${createHash('sha256').update(value).digest('hex')}`
        : typeof value === 'bigint'
          ? `${value}n`
          : value,
    ),
  );
}

describe('read -> write -> read', () => {
  const names = sharedModelNames();

  it('finds the shared models', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of names) {
    it(`keeps everything in ${name}`, () => {
      const original = readSharedModel(name);
      const graph = readModel(original);
      const written = writeModel(graph);
      const reread = readModel(written);
      expect(plain(reread)).toEqual(plain(graph));
      // Writing what was read again gives the very same bytes: the writer is deterministic.
      expect(Buffer.from(writeModel(reread)).equals(Buffer.from(written))).toBe(true);

      // Weights start on 16-byte boundaries of the file (views are into an own, aligned copy).
      const fileStart = readModel(written.slice()).buffers;
      for (const buffer of fileStart) {
        if (buffer.data.length) expect(buffer.data.byteOffset % 16).toBe(0);
      }
    });
  }

  it('keeps the appended metadata zip readable, with the same files', () => {
    const original = readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite');
    const graph = readModel(original);
    expect(graph.appendedZip?.fileNames).toEqual(['labels.txt']);
    // Make the flatbuffer a different size so the zip has to move.
    graph.description = `${graph.description} (rewritten by the test to move the zip)`;
    const written = writeModel(graph);
    expect(written.length).not.toBe(original.length);
    const before = unzipSync(original);
    const after = unzipSync(written);
    expect(Object.keys(after)).toEqual(['labels.txt']);
    expect(Buffer.from(after['labels.txt']).equals(Buffer.from(before['labels.txt']))).toBe(true);
    expect(new TextDecoder().decode(after['labels.txt']).split('\n')[1]).toBe('tench');
  });

  it('keeps metadata entries and their buffers', () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'));
    const reread = readModel(writeModel(graph));
    const entry = reread.metadata.find((m) => m.name === 'TFLITE_METADATA');
    expect(entry).toBeDefined();
    const data = reread.buffers[entry!.buffer].data;
    // TFLite metadata is itself a flatbuffer with identifier "M001".
    expect(new TextDecoder().decode(data.subarray(4, 8))).toBe('M001');
    expect(Buffer.from(data).equals(Buffer.from(graph.buffers[entry!.buffer].data))).toBe(true);
  });

  it('keeps both opcode fields, versions, signatures and custom options', () => {
    const ssd = readModel(readSharedModel('ssd_mobilenet_v1_coco_quant_uint8.tflite'));
    const reread = readModel(writeModel(ssd));
    const custom = reread.operatorCodes.find((c) => c.customCode === 'TFLite_Detection_PostProcess');
    expect(custom).toBeDefined();
    const op = reread.subgraphs[0].operators.find((o) => reread.operatorCodes[o.opcodeIndex] === custom)!;
    expect(op.customOptions!.length).toBeGreaterThan(100);

    const kv = readModel(readSharedModel('ops/toy_model_with_kv_cache_multi_signature.tflite'));
    const kv2 = readModel(writeModel(kv));
    expect(kv2.signatureDefs.map((s) => s.signatureKey)).toEqual(kv.signatureDefs.map((s) => s.signatureKey));
    expect(kv2.signatureDefs.length).toBe(2);
    expect(kv2.operatorCodes.map((c) => [c.builtinCode, c.deprecatedBuiltinCode, c.version])).toEqual(
      kv.operatorCodes.map((c) => [c.builtinCode, c.deprecatedBuiltinCode, c.version]),
    );
  });
});
