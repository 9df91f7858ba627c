/**
 * The synthetic large graph the graph view's scale test opens is a real model: written by our
 * writer, it loads and runs in LiteRT and returns what a float64 loop over the same blocks computes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import { seededRandom } from '../seeded-random';
import { writeModel } from './write';
import { LARGE_GRAPH_SHAPE, largeGraphModel, largeGraphReference } from './synthetic-graph';

describe('largeGraphModel', () => {
  beforeAll(() => initRuntime());

  it('has 1,002 ops (CONV_2D and ADD, forks and joins) and runs in LiteRT like the float64 reference', async () => {
    const graph = largeGraphModel(1000);
    expect(graph.subgraphs[0].operators.length).toBe(1002);
    const bytes = writeModel(graph);
    const random = seededRandom(3);
    const input = Float32Array.from({ length: LARGE_GRAPH_SHAPE.reduce((a: number, b: number) => a * b, 1) }, () => random() * 4 - 2);
    const model = await loadModel(bytes);
    try {
      const [out] = await model.run([input]);
      const expected = largeGraphReference(input, 1000);
      const got = out.data as Float32Array;
      expect(got.length).toBe(expected.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      const scale = Math.max(...expected.map(Math.abs));
      expect(scale).toBeGreaterThan(0.1); // not a model that only returns zeros
      expect(worst / scale).toBeLessThan(1e-5);
    } finally {
      model.delete();
    }
  }, 120_000);
});
