/**
 * Flip augmentation for distillation: training batches mirror some images left-right (seeded) and the
 * teacher scores exactly those mirrors; validation batches and labelled training never change.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, subset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { initNodeEngine } from '../engine/backend-node';
import { GraphExecutor } from '../engine/executor';
import { seededRandom } from '../seeded-random';
import { dataDir, readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { batchLoader } from './training-batches';
import { planTraining } from './training-plan';

beforeAll(async () => {
  await initNodeEngine();
});

describe('flip augmentation', () => {
  it('mirrors about half the training images, the teacher scores the mirrors, validation stays as is', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const digits = subset(await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(graph)), Array.from({ length: 16 }, (_, i) => i));
    const unlabeled = { size: digits.size, labels: new Array(digits.size).fill(null), sample: (i: number) => digits.sample(i) };
    const plan = planTraining(graph, unlabeled, { mode: 'finetune', epochs: 1, batchSize: 16 });
    expect(plan.loss.kind).toBe('distillation');
    const teacher = new GraphExecutor(graph, { simulateQuantization: false });
    const shape = graph.subgraphs[0].tensors[graph.subgraphs[0].inputs[0]].shape.slice(1); // [28, 28, 1]
    const indices = Array.from({ length: 16 }, (_, i) => i);
    try {
      const load = batchLoader(plan, unlabeled, [shape], teacher, { kind: 'flip', random: seededRandom(3) });
      const train = await load(indices, true);
      const plain = await load(indices, false);
      const x = (await train.inputs[0].data()) as Float32Array;
      const y = (await plain.inputs[0].data()) as Float32Array;
      // Independent: each row is either the image or its mirror, pixel by pixel.
      const [h, w] = shape;
      let mirrored = 0;
      for (let r = 0; r < 16; r++) {
        const at = (row: number, col: number) => r * h * w + row * w + col;
        let same = true;
        let mirror = true;
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            if (x[at(i, j)] !== y[at(i, j)]) same = false;
            if (x[at(i, j)] !== y[at(i, w - 1 - j)]) mirror = false;
          }
        }
        expect(same || mirror).toBe(true);
        if (!same) mirrored++;
      }
      expect(mirrored).toBeGreaterThan(2);
      expect(mirrored).toBeLessThan(14);
      // The target is the teacher's output on what the student sees.
      const expected = tf.tidy(() => tf.reshape(teacher.run(train.inputs).outputs[plan.loss.head.output], [16, -1]));
      expect(Array.from((await train.target.data()) as Float32Array)).toEqual(Array.from((await expected.data()) as Float32Array));
      // Validation: the images as they are.
      const again = await load(indices, false);
      expect(Array.from((await again.inputs[0].data()) as Float32Array)).toEqual(Array.from(y));
      tf.dispose([...train.inputs, train.target, ...plain.inputs, plain.target, ...again.inputs, again.target, expected]);
    } finally {
      teacher.dispose();
    }
  }, 120_000);
});
