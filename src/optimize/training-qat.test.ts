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
import { builtinCodeOf } from '../tflite/ops';
import { readModel } from '../tflite/read';
import { BuiltinOperator } from '../tflite/schema/generated/tflite_generated';
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

  it('fake-quantizes the tensors TFLite keeps on one scale in their union range (MNIST: the pooling and RESHAPE after the conv)', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const digits = subset(await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(graph)), Array.from({ length: 8 }, (_, i) => i));
    const plan = planTraining(graph, digits, { mode: 'qat', epochs: 1, batchSize: 8 });
    const subgraph = graph.subgraphs[0];
    const opName = (t: number) => {
      const op = subgraph.operators.find((o) => o.outputs[0] === t)!;
      return BuiltinOperator[builtinCodeOf(graph.operatorCodes[op.opcodeIndex])];
    };
    // Independent of the planner: every data-moving op's float input and output must sit in one group.
    const groups = plan.activations!.sharedScale;
    const groupOf = (t: number) => groups.find((g) => g.includes(t));
    let pairs = 0;
    for (const op of subgraph.operators) {
      const name = BuiltinOperator[builtinCodeOf(graph.operatorCodes[op.opcodeIndex])];
      if (!['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'RESHAPE'].includes(name)) continue;
      expect(groupOf(op.inputs[0])).toBeDefined();
      expect(groupOf(op.inputs[0])).toBe(groupOf(op.outputs[0]));
      pairs++;
    }
    expect(pairs).toBeGreaterThan(0);
    const group = groups[0];
    expect(group.map(opName)).toContain('CONV_2D');

    // Members with different ranges: each is fake-quantized on the grid of the union, not its own.
    const ranges: ActivationRanges = new Map(plan.activations!.tensors.map((t) => [t, { min: 0, max: 1 }]));
    group.forEach((t, i) => ranges.set(t, { min: 0, max: 2 + 2 * i }));
    const union = 2 + 2 * (group.length - 1);
    const transform = fakeQuantizeActivations(ranges, undefined, groups);
    const values = tf.linspace(0, union, 1001);
    const q = (await transform(group[0], values).data()) as Float32Array;
    const step = union / 255;
    for (const v of q) expect(Math.abs(v / step - Math.round(v / step))).toBeLessThan(1e-3);
    expect(Math.max(...q)).toBeCloseTo(union, 4); // not clipped to the first member's own max of 2
    values.dispose();
  }, 120_000);
});

