import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { withTaps, tapOutputIndices } from '../runtime/taps';
import { readSharedModel } from '../test-support/shared';
import { prefixGraph } from './prefix';
import { readModel } from './read';
import { writeModel } from './write';

beforeAll(() => initRuntime());

describe('prefixGraph', () => {
  it("keeps only the ops a tensor needs, and LiteRT computes it exactly as in the whole model", async () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const sg = graph.subgraphs[0];
    // The 6th op's output: ops 0..5 form a chain in MobileNetV1 (conv, depthwise, pointwise...).
    const tensor = sg.operators[5].outputs[0];
    const cut = prefixGraph(graph, 0, [tensor]);
    expect(cut.subgraphs[0].operators).toHaveLength(6);
    expect(cut.subgraphs[0].outputs).toEqual([tensor]);
    expect(sg.operators.length).toBeGreaterThan(6); // the original is untouched
    const original = await loadModel(writeModel(graph));
    const inputs = randomInputs(original, 7);
    original.delete();
    const whole = withTaps(graph, 0, (t) => t === tensor, { tapsOnly: true });
    const wholeModel = await loadModel(writeModel(whole.graph));
    const partModel = await loadModel(writeModel(cut));
    try {
      const [position] = tapOutputIndices(wholeModel, whole);
      const expected = (await wholeModel.run(inputs))[position].data as Float32Array;
      const got = (await partModel.run(inputs))[0].data as Float32Array;
      expect(got.length).toBe(expected.length);
      expect(Array.from(got)).toEqual(Array.from(expected));
    } finally {
      wholeModel.delete();
      partModel.delete();
    }
  });
});
