/**
 * Feature distillation compares the student's inner tensors with the teacher's in the student's
 * frame: after cross-layer equalization the student holds channel i divided by s_i, and mapping
 * the teacher's value by the scales makes an equalized (function-identical) student score zero.
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
import { channelScalesOf, equalizeCrossLayer } from './equalize';
import { finetune } from './finetune';
import { loadBatch } from './training-batches';
import { disposeFeatures, featureLoss, planFeatures, teacherFeatures } from './training-features';

const DENSE = 'sequential/dense/MatMul;sequential/dense/Relu;sequential/dense/BiasAdd';

beforeAll(async () => {
  await initNodeEngine();
});

async function mnist(count: number) {
  const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
  const digits = subset(await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(graph)), Array.from({ length: count }, (_, i) => i));
  return { graph, digits };
}

describe('feature distillation', () => {
  it('scores an equalized student zero against its float teacher once the channel scales map the teacher, and clearly not without them', async () => {
    const { graph: teacher, digits } = await mnist(16);
    const equalized = equalizeCrossLayer(teacher);
    const scales = channelScalesOf(equalized);
    expect(Object.keys(scales)).toEqual([DENSE]);
    const student = equalized.graph;
    const [batch] = await loadBatch(digits, Array.from({ length: 16 }, (_, i) => i), [[28, 28, 1]]);
    const teacherRun = new GraphExecutor(teacher, { simulateQuantization: false, reorderConstants: false });
    const studentRun = new GraphExecutor(student, { simulateQuantization: false, reorderConstants: false });
    try {
      const score = async (channelScales?: Record<string, number[]>) => {
        const planned = planFeatures(student, teacher, { tensors: [DENSE], weight: 1, channelScales });
        const { outputs, features } = teacherFeatures(teacherRun, [batch], planned);
        const run = studentRun.run([batch], { taps: [planned.pairs[0].student] });
        const loss = featureLoss(planned, run.taps, features);
        const value = (await loss.data())[0];
        tf.dispose([...outputs, loss, ...run.outputs, ...run.taps.values()]);
        disposeFeatures(features);
        return value;
      };
      // Relative squared error: the equalized model computes the same function, so only float rounding is left.
      expect(await score(scales)).toBeLessThan(1e-10);
      // Read without the scales, the rescaled channels look like error (s from 0.44 to 0.99).
      expect(await score()).toBeGreaterThan(0.01);
    } finally {
      batch.dispose();
      teacherRun.dispose();
      studentRun.dispose();
    }
  });

  it('refuses a tensor one model lacks, and channel scales of the wrong length, naming the tensor', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    expect(() => planFeatures(graph, graph, { tensors: ['no such tensor'], weight: 1 })).toThrow(/'no such tensor' is not in the student/);
    expect(() => planFeatures(graph, graph, { tensors: [DENSE], weight: 1, channelScales: { [DENSE]: [1, 2, 3] } })).toThrow(/3 channel scales for '.*dense.*', whose last axis has 32/);
    expect(() => planFeatures(graph, graph, { tensors: [DENSE], weight: 0 })).toThrow(/weight must be above 0/);
  });

  it('trains with the feature term only when distilling: its loss is in the training loss, validation scores the output loss alone', async () => {
    const { graph, digits } = await mnist(40);
    const unlabelled = { ...digits, labels: digits.labels.map(() => null) };
    const base = { mode: 'qat' as const, epochs: 1, batchSize: 16, learningRate: 1e-4, seed: 3 };
    const plain = await finetune(graph, unlabelled, base);
    const withFeatures = await finetune(graph, unlabelled, { ...base, features: { tensors: [DENSE], weight: 100 } });
    expect(withFeatures.notes.join('\n')).toMatch(/feature distillation: 1 inner tensor\(s\)/);
    // Same seed, same start: validation before training (output loss only) is the same number...
    expect(withFeatures.history[0].validationLoss).toBeCloseTo(plain.history[0].validationLoss!, 6);
    // ...while the first epoch's training loss carries the (weighted) fake-quantization error of the dense layer.
    expect(withFeatures.history[1].trainLoss).toBeGreaterThan(plain.history[1].trainLoss);
    const labelled = await finetune(graph, digits, { ...base, features: { tensors: [DENSE], weight: 1 } });
    expect(labelled.notes.join('\n')).toMatch(/feature distillation skipped/);
  });
});
