/**
 * npm run bench:finetune [-- --mobilenet] [-- --only QAT]  (--only: the cases whose name contains it)
 *
 * What training on the engine recovers, measured in LiteRT on data training never saw:
 * float | one-shot (PTQ / prune / cluster, then int8) | after fine-tuning or QAT, then int8.
 * MNIST: train on the first 5,000 test digits, evaluate on the last 5,000. With --mobilenet:
 * MobileNetV1 0.25 on the ImageNet subset, 300 images to train (by distillation, no labels used),
 * the other 200 to evaluate. (prune 0.5 there is beyond repair with 300 images: one-shot 2.0%, and
 * two epochs of distillation only bring the loss to the uniform-guess level, 0% agreement.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset, subset, type Dataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { initNodeEngine } from '../src/engine/backend-node';
import { compareModels } from '../src/evaluate/compare';
import { runChain, parseChain } from '../src/optimize/chain';
import { defaultRecipe } from '../src/optimize/recipe';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

interface Case {
  name: string;
  oneShot: string;
  trained: string;
  perTensor?: boolean;
  /** Train without the labels (distillation from the float model). */
  unlabeled?: boolean;
  epochs: number;
  lr: number;
}

async function table(modelName: string, dataset: Dataset, trainIdx: number[], testIdx: number[], cases: Case[]) {
  const model = readSharedModel(modelName);
  const test = await Promise.all(testIdx.map((i) => dataset.sample(i)));
  const labels = testIdx.map((i) => dataset.labels[i]!);
  const calibration = await Promise.all(trainIdx.slice(0, 100).map((i) => dataset.sample(i)));
  const base = subset(dataset, trainIdx);
  const unlabeled = { size: base.size, labels: new Array(base.size).fill(null), sample: (i: number) => base.sample(i) };
  const accuracy = async (bytes: Uint8Array) => (await compareModels(model, bytes, test, { labels })).classification.accuracy!;
  console.log(`\n${modelName}: ${trainIdx.length} training samples, ${testIdx.length} held-out`);
  console.log('| case | float | one-shot int8 | trained int8 | recovered | training time |');
  console.log('|---|---|---|---|---|---|');
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
  for (const c of cases.filter((k) => !only || k.name.includes(only))) {
    const recipeFor = () => ({ ...defaultRecipe('int8'), granularity: c.perTensor ? ('per-tensor' as const) : ('per-channel' as const) });
    const oneShot = c.oneShot.includes('+') ? (await runChain({ model, chain: parseChain(c.oneShot, { recipeFor }), calibration, calibrationCount: calibration.length })).bytes : null;
    let oneShotBytes = oneShot;
    if (!oneShotBytes) {
      const { optimizeModel } = await import('../src/optimize/pipeline');
      oneShotBytes = (await optimizeModel({ model, recipe: recipeFor(), calibration, calibrationCount: calibration.length })).bytes;
    }
    const started = performance.now();
    const trained = await runChain({
      model,
      chain: parseChain(c.trained, { recipeFor }),
      calibration,
      calibrationCount: calibration.length,
      training: { data: c.unlabeled ? unlabeled : base, options: { epochs: c.epochs, learningRate: c.lr, batchSize: 16 } },
    });
    const seconds = (performance.now() - started) / 1000;
    const a = await accuracy(oneShotBytes);
    const b = await accuracy(trained.bytes);
    const float = a.reference.top1;
    const lost = float - a.candidate.top1;
    const recovered = lost > 0 ? (b.candidate.top1 - a.candidate.top1) / lost : NaN;
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    console.log(`| ${c.name}${c.unlabeled ? ' (no labels: distillation)' : ''} | ${pct(float)} | ${pct(a.candidate.top1)} | ${pct(b.candidate.top1)} | ${Number.isFinite(recovered) ? pct(recovered) : 'n/a'} of the loss | ${seconds.toFixed(0)} s |`);
  }
}

await initNodeEngine();
const mnist = 'mnist_conv_fc_float.tflite';
const digits = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(readSharedModel(mnist))));
const first = Array.from({ length: 5000 }, (_, i) => i);
const last = Array.from({ length: 5000 }, (_, i) => 5000 + i);
if (!process.argv.includes('--mobilenet-only')) await table(mnist, digits, first, last, [
  { name: 'prune 0.75', oneShot: 'prune:0.75+int8', trained: 'prune:0.75+finetune+int8', epochs: 2, lr: 1e-3 },
  { name: 'prune 0.9', oneShot: 'prune:0.9+int8', trained: 'prune:0.9+finetune+int8', epochs: 3, lr: 2e-3 },
  { name: 'cluster 4', oneShot: 'cluster:4+int8', trained: 'cluster:4+finetune+int8', epochs: 2, lr: 1e-3 },
  { name: 'prune 0.9', oneShot: 'prune:0.9+int8', trained: 'prune:0.9+finetune+int8', epochs: 3, lr: 2e-3, unlabeled: true },
  { name: 'int8 per-tensor vs QAT', oneShot: 'int8', trained: 'qat+int8', perTensor: true, epochs: 1, lr: 1e-4 },
]);

if (process.argv.includes('--mobilenet') || process.argv.includes('--mobilenet-only')) {
  // ~5 s per batch-16 training step here (2 cores, WASM): each case is several minutes.
  const name = 'mobilenet_v1_0.25_224_float.tflite';
  const root = join(dataDir, 'imagenet_val_subset');
  const preprocessing = { width: 224, height: 224, channels: 3 as const, channelOrder: 'RGB' as const, mean: [127.5], std: [127.5], resize: 'bilinear' as const };
  const images = await openDataset(await filesFromPath(root), graphInputs(readModel(readSharedModel(name))), {
    preprocessing,
    labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), name: 'labels.csv', labelColumn: 'label_1001' },
  });
  await table(name, images, Array.from({ length: 300 }, (_, i) => i), Array.from({ length: 200 }, (_, i) => 300 + i), [
    { name: 'int8 per-tensor vs QAT', oneShot: 'int8', trained: 'qat+int8', perTensor: true, epochs: 3, lr: 1e-4, unlabeled: true },
    { name: 'prune 0.2', oneShot: 'prune:0.2+int8', trained: 'prune:0.2+finetune+int8', epochs: 2, lr: 1e-4, unlabeled: true },
  ]);
}
