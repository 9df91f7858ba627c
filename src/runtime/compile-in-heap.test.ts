/**
 * A graph loaded straight into LiteRT's heap (loadGraph) runs exactly as the same graph written to
 * bytes and loaded (loadModel), with the runtime fixes applied alike, and its file leaves the heap
 * with the model: loading and deleting again does not grow the heap.
 */
import { getGlobalLiteRt } from '@litertjs/core';
import { describe, expect, it } from 'vitest';
import { readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';
import { loadGraph, loadModel } from './load';
import { randomInputs } from './random-inputs';
import { initRuntime } from './start';

const heapBytes = () => (getGlobalLiteRt() as unknown as { liteRtWasm: { HEAPU8: Uint8Array } }).liteRtWasm.HEAPU8.length;
const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('loadGraph', () => {
  // mnist_conv_fc has a dynamic batch: prepare.ts pins it, in both paths.
  for (const name of ['mobilenet_v1_0.25_224_float.tflite', 'mnist_conv_fc_float.tflite', 'mnist_conv_fc_int8.tflite']) {
    it(`runs bit-identically to loadModel of the written bytes: ${name}`, async () => {
      await initRuntime();
      const graph = readModel(readSharedModel(name));
      const fromBytes = await loadModel(writeModel(graph));
      const fromGraph = await loadGraph(graph);
      try {
        expect(fromGraph.changes).toEqual(fromBytes.changes);
        expect(fromGraph.inputs).toEqual(fromBytes.inputs);
        expect(fromGraph.outputs).toEqual(fromBytes.outputs);
        for (const seed of [1, 2]) {
          const inputs = randomInputs(fromBytes, seed);
          const want = await fromBytes.run(inputs);
          const got = await fromGraph.run(inputs);
          expect(got.length).toBe(want.length);
          got.forEach((g, i) => expect(bits(g.data).equals(bits(want[i].data))).toBe(true));
        }
      } finally {
        fromBytes.delete();
        fromGraph.delete();
      }
    }, 60_000);
  }

  it('frees the file with the model', async () => {
    await initRuntime();
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    (await loadGraph(graph)).delete();
    const heap = heapBytes();
    for (let i = 0; i < 20; i++) (await loadGraph(graph)).delete();
    // 20 leaked copies of the 1.9 MB file would have grown the heap by ~38 MB.
    expect(heapBytes()).toBe(heap);
  }, 60_000);
});
