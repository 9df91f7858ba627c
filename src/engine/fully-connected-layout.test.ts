/**
 * FULLY_CONNECTED on weights transposed once (kernels/fully-connected.ts) computes what matMul's
 * transposeB did, within float rounding, and what LiteRT computes: audio_event_527 (its 512x512 and
 * 512x257 dense head) and MNIST, float and int8 (integer accumulation: bit-identical).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { initNodeEngine } from './backend-node';
import { engineOutputs, maxRelativeError, runtimeReals } from './engine-test-support';
import { GraphExecutor } from './executor';

beforeAll(async () => {
  await initNodeEngine();
  await initRuntime();
});

describe('FULLY_CONNECTED weights transposed once', () => {
  it.each([
    ['audio_event_527_float.tflite', 1e-5],
    ['mnist_conv_fc_float.tflite', 1e-5],
    ['mnist_conv_fc_int8.tflite', 0],
  ])('%s: the transposeB order within %s relative, and LiteRT within 1e-4', { timeout: 300_000 }, async (name, tolerance) => {
    const bytes = readSharedModel(name);
    const graph = readModel(bytes);
    const model = await loadModel(bytes);
    const transposedOnce = new GraphExecutor(graph);
    const transposeB = new GraphExecutor(graph, { reorderConstants: false });
    try {
      for (const seed of [1, 2]) {
        const inputs = randomInputs(model, seed);
        const now = await engineOutputs(transposedOnce, graph, model, [inputs]);
        const before = await engineOutputs(transposeB, graph, model, [inputs]);
        const reference = runtimeReals(model, await model.run(inputs));
        now.forEach((out, o) => {
          expect(maxRelativeError(before[o].values, out.values), `output ${o} seed ${seed} vs transposeB`).toBeLessThanOrEqual(tolerance);
          // int8: the engine simulates the integer kernels step for step (fidelity tests: exact).
          expect(maxRelativeError(reference[o], out.values), `output ${o} seed ${seed} vs LiteRT`).toBeLessThanOrEqual(tolerance === 0 ? 0 : 1e-4);
        });
      }
    } finally {
      transposedOnce.dispose();
      transposeB.dispose();
      model.delete();
    }
  });
});
