/**
 * QAT's range tracking sees the activations before fake quantization: an activation that grows past
 * its current range widens the tracked range (the fake-quantized values are clipped to that range, so
 * ranges tracked from them could only shrink).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, subset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { initNodeEngine } from '../engine/backend-node';
import { GraphExecutor } from '../engine/executor';
import { dataDir, readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { loadBatch } from './training-batches';
import { planTraining } from './training-plan';
import { batchMinMax, fakeQuantizeActivations, trackRanges, type ActivationRanges } from './training-qat';

beforeAll(async () => {
  await initNodeEngine();
});

describe('QAT range tracking', () => {
  it('widens a range when the activation grows past it (MNIST input pixels beyond a halved range)', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const digits = subset(await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(graph)), Array.from({ length: 32 }, (_, i) => i));
    const plan = planTraining(graph, digits, { mode: 'qat', epochs: 1, batchSize: 32 });
    const tensors = plan.activations!.tensors;
    const input = graph.subgraphs[0].inputs[0];
    expect(tensors).toContain(input);
    const [batch] = await loadBatch(digits, Array.from({ length: 32 }, (_, i) => i), [graph.subgraphs[0].tensors[input].shape.slice(1)]);
    // Independent reference: the pixels' own min / max, read on the CPU.
    const pixels = (await batch.data()) as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of pixels) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    expect(hi).toBeGreaterThan(0.9);

    // Every range half of what the batch needs: the input's values now lie beyond its range.
    const ranges: ActivationRanges = new Map(tensors.map((t) => [t, { min: t === input ? lo / 2 : -1, max: t === input ? hi / 2 : 1 }]));
    const executor = new GraphExecutor(graph, { simulateQuantization: false });
    try {
      const observed = new Map<number, tf.Tensor>();
      const result = executor.run([batch], { transform: fakeQuantizeActivations(ranges, observed), taps: [input] });
      const minMax = batchMinMax(tensors, observed);
      const values = (await minMax.data()) as Float32Array;
      // What downstream ops read is clipped to the range (the values the tracking used to see)...
      const quantizedMax = tf.max(result.taps.get(input)!).dataSync()[0];
      expect(quantizedMax).toBeLessThanOrEqual(hi / 2 + 1e-6);
      // ...while the tracking sees the pixels themselves.
      const at = tensors.indexOf(input);
      expect(values[2 * at]).toBe(lo);
      expect(values[2 * at + 1]).toBe(hi);

      trackRanges(ranges, tensors, values, 0.9);
      expect(ranges.get(input)!.max).toBeCloseTo(0.9 * (hi / 2) + 0.1 * hi, 6);
      expect(ranges.get(input)!.max).toBeGreaterThan(hi / 2);
      tf.dispose([minMax, batch, ...result.outputs]);
    } finally {
      executor.dispose();
    }
  }, 120_000);
});
