/**
 * Training from a .tflite on the engine, checked in LiteRT: fine-tuning after pruning recovers the
 * accuracy one-shot pruning loses (on digits training never saw), keeps the sparsity and clusters in
 * the written int8 model, works without labels (distillation), and bad input ends in clear messages.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, subset, type Dataset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { initNodeEngine } from '../engine/backend-node';
import { compareModels } from '../evaluate/compare';
import { dataDir, readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { runChain, parseChain } from './chain';
import { finetune, fitBatch } from './finetune';
import { weightsByName } from './sparsity-report';

const model = readSharedModel('mnist_conv_fc_float.tflite');
let digits: Dataset;
let train: Dataset;
let heldOut: Float32Array[][];
let heldOutLabels: number[];
let calibration: Float32Array[][];

beforeAll(async () => {
  await initNodeEngine();
  digits = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(model)));
  train = subset(
    digits,
    Array.from({ length: 2000 }, (_, i) => i),
  );
  const test = Array.from({ length: 1000 }, (_, i) => 5000 + i);
  heldOut = await Promise.all(test.map((i) => digits.sample(i)));
  heldOutLabels = test.map((i) => digits.labels[i]!);
  calibration = await Promise.all(Array.from({ length: 50 }, (_, i) => train.sample(i)));
});

async function accuracy(bytes: Uint8Array): Promise<{ reference: number; candidate: number }> {
  const c = await compareModels(model, bytes, heldOut, { labels: heldOutLabels });
  return { reference: c.classification.accuracy!.reference.top1, candidate: c.classification.accuracy!.candidate.top1 };
}

describe('fine-tuning after pruning (MNIST, 2,000 training digits, 1,000 held-out)', () => {
  it('prune:0.9+finetune+int8 recovers at least half of what prune:0.9+int8 loses, and keeps the zeros', async () => {
    const oneShot = await runChain({ model, chain: parseChain('prune:0.9+int8'), calibration, calibrationCount: calibration.length });
    const tuned = await runChain({
      model,
      chain: parseChain('prune:0.9+finetune+int8'),
      calibration,
      calibrationCount: calibration.length,
      training: { data: train, options: { epochs: 3, learningRate: 2e-3, batchSize: 32 } },
    });
    const before = await accuracy(oneShot.bytes);
    const after = await accuracy(tuned.bytes);
    const float = before.reference;
    console.log(`MNIST prune:0.9: float ${float}, one-shot int8 ${before.candidate}, fine-tuned int8 ${after.candidate}`);
    expect(float - before.candidate).toBeGreaterThan(0.02); // a real loss to recover
    expect(after.candidate - before.candidate).toBeGreaterThanOrEqual((float - before.candidate) / 2);
    expect(tuned.checks.zerosLost).toBe(0);
    expect(tuned.trained!.history.length).toBe(4); // epoch 0 (before) + 3
    const sparsity = tuned.report.weights.filter((w) => w.sparsity > 0).map((w) => w.sparsity);
    expect(Math.min(...sparsity)).toBeGreaterThanOrEqual(0.89);
  });

  it('cluster:4+finetune+int8 keeps at most 4 values per clustered tensor', async () => {
    const tuned = await runChain({
      model,
      chain: parseChain('cluster:4+finetune+int8'),
      calibration,
      calibrationCount: calibration.length,
      training: { data: subset(train, Array.from({ length: 600 }, (_, i) => i)), options: { epochs: 1, learningRate: 1e-3, batchSize: 32 } },
    });
    expect(tuned.checks.clusterViolations).toBe(0);
    expect(tuned.checks.maxDistinctClustered).toBeLessThanOrEqual(4);
    // The centroids moved: the written weights are not the one-shot clusters.
    const oneShot = await runChain({ model, chain: parseChain('cluster:4+int8'), calibration, calibrationCount: calibration.length });
    const a = weightsByName(readModel(oneShot.bytes));
    const b = weightsByName(readModel(tuned.bytes));
    const name = [...a.keys()].find((k) => (a.get(k)?.length ?? 0) > 1000)!;
    expect(Array.from(a.get(name)!).some((v, i) => v !== b.get(name)![i])).toBe(true);
  });
});

describe('training without labels, and bad input', () => {
  it('distills from the float model when the data has no labels', async () => {
    const unlabeled = { size: 1500, labels: new Array(1500).fill(null), sample: (i: number) => train.sample(i) };
    const pruned = await runChain({ model, chain: parseChain('prune:0.9'), skipCheck: true });
    const result = await finetune(readModel(pruned.bytes), unlabeled, { mode: 'finetune', epochs: 2, learningRate: 2e-3, batchSize: 32, teacher: readModel(model) });
    expect(result.loss).toBe('distillation');
    const agreement = result.history.map((h) => h.validationAccuracy!);
    expect(agreement[agreement.length - 1]).toBeGreaterThan(agreement[0] + 0.1); // agreement with the teacher grows
  });

  it('refuses cross-entropy without labels, naming how many are missing', async () => {
    const unlabeled = { size: 10, labels: new Array(10).fill(null), sample: (i: number) => train.sample(i) };
    await expect(finetune(readModel(model), unlabeled, { mode: 'finetune', loss: 'cross-entropy' })).rejects.toThrow(/10 of 10 have none.*distillation/);
  });

  it('stops on a NaN loss and keeps the best weights so far', async () => {
    const result = await finetune(readModel(model), subset(train, Array.from({ length: 200 }, (_, i) => i)), { mode: 'finetune', epochs: 2, learningRate: 1e12, batchSize: 20 });
    expect(result.stopped?.reason).toBe('nan');
    expect(result.stopped?.message).toMatch(/learning rate/);
    expect(result.bestEpoch).toBe(0);
    // The weights kept are the ones before training: bit-identical to the input model's.
    const before = weightsByName(readModel(model));
    const after = weightsByName(result.graph);
    for (const [name, values] of before) expect(Array.from(after.get(name)!)).toEqual(Array.from(values));
  });

  it('cancel keeps the best checkpoint', async () => {
    const controller = new AbortController();
    const result = await finetune(readModel(model), subset(train, Array.from({ length: 400 }, (_, i) => i)), {
      mode: 'qat',
      epochs: 3,
      batchSize: 32,
      signal: controller.signal,
      onProgress: (p) => p.phase === 'validate' && p.epoch === 1 && controller.abort(),
    });
    expect(result.stopped?.reason).toBe('cancelled');
    expect(result.history.at(-1)!.epoch).toBe(1);
  });

  it('a chain whose training is stopped goes on with the best weights (stop training, not the run)', async () => {
    const stop = new AbortController();
    const result = await runChain({
      model,
      chain: parseChain('prune:0.75+finetune+int8'),
      calibration,
      calibrationCount: calibration.length,
      training: {
        data: subset(train, Array.from({ length: 400 }, (_, i) => i)),
        options: { epochs: 5, batchSize: 32, learningRate: 1e-3, onProgress: (p) => p.phase === 'validate' && p.epoch === 1 && stop.abort() },
        signal: stop.signal,
      },
    });
    expect(result.trained!.stopped?.reason).toBe('cancelled');
    expect(result.trained!.bestEpoch).toBe(1);
    expect(result.quantized).toBeDefined(); // int8 still ran
    expect(result.checks.zerosLost).toBe(0);
  });

  it('names the op when the engine has no gradient for it', async () => {
    const deeplab = readModel(readSharedModel('deeplabv3_257_float.tflite'));
    const data = { size: 2, labels: [null, null], sample: async () => [new Float32Array(257 * 257 * 3)] };
    await expect(finetune(deeplab, data, { mode: 'finetune', epochs: 1, batchSize: 1 })).rejects.toThrow(/DEPTHWISE_CONV_2D|CONV_2D/);
  });

  it('shrinks the batch to fit the memory budget', () => {
    const notes: string[] = [];
    expect(fitBatch(readModel(model), 64, 1 << 20, notes)).toBeLessThan(64);
    expect(notes[0]).toMatch(/using batch/);
  });
});
