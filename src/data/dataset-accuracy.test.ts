/**
 * The dataset layer end to end, against published reference numbers: real images, real models, the
 * real LiteRT runtime. If decoding, resizing, normalization or quantization of inputs drifts, these
 * accuracies move.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import type { LoadedModel } from '../runtime/types';
import { readModel } from '../tflite/read';
import { dataDir, readSharedModel } from '../test-support/shared';
import { modelSample, openDataset, type Dataset } from './dataset';
import { defaultPreprocessing } from './default-preprocessing';
import { filesFromPath } from './files-node';

const IMAGENET = join(dataDir, 'imagenet_val_subset');
const imagenetCsv = () => ({ text: readFileSync(join(IMAGENET, 'labels.csv'), 'utf8'), name: 'labels.csv', labelColumn: 'label_1001' });

/** Top-1 and top-5 accuracy (percent) of `model` on every sample of `dataset`. */
async function topK(model: LoadedModel, dataset: Dataset): Promise<{ top1: number; top5: number }> {
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < dataset.size; i++) {
    const [output] = await model.run(await modelSample(dataset, i));
    const scores = Array.from(output.data as ArrayLike<number>);
    const label = dataset.labels[i]!;
    // Rank = how many classes score higher (ties broken by index, as a stable sort would).
    const rank = scores.filter((s, c) => s > scores[label] || (s === scores[label] && c < label)).length;
    if (rank === 0) top1++;
    if (rank < 5) top5++;
  }
  return { top1: (100 * top1) / dataset.size, top5: (100 * top5) / dataset.size };
}

beforeAll(async () => {
  await initRuntime();
});

describe('reference accuracies', () => {
  it('mobilenet_v1_0.25_224_float (metadata preprocessing) on the 500 ImageNet images: 61.8% / 84.8%', async () => {
    const bytes = readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite');
    const choice = defaultPreprocessing(readModel(bytes), 0);
    expect(choice.source).toBe('metadata');
    const model = await loadModel(bytes);
    try {
      const dataset = await openDataset(await filesFromPath(IMAGENET), model.inputs, { preprocessing: choice.preprocessing, labelsCsv: imagenetCsv() });
      expect(dataset.size).toBe(500);
      expect(dataset.labels.every((l) => l !== null)).toBe(true);
      const { top1, top5 } = await topK(model, dataset);
      // Exactly the reference: 309 and 424 of 500.
      expect(top1).toBeCloseTo(61.8, 5);
      expect(top5).toBeCloseTo(84.8, 5);
    } finally {
      model.delete();
    }
  });

  it('mobilenet_v1_0.25_224_quant_uint8 fed its raw pixels: 59.4% (reference) within 0.4 pt', async () => {
    const bytes = readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite');
    const graph = readModel(bytes);
    const model = await loadModel(bytes);
    try {
      // Raw pixels, as the reference: the normalization that quantizes back to the pixel itself,
      // (x - zeroPoint) * scale, i.e. mean 128 / std 128 for this input (scale 1/128, zero point 128).
      const metadataChoice = defaultPreprocessing(graph, 0).preprocessing!;
      const raw = { ...metadataChoice, mean: [128], std: [128] };
      const dataset = await openDataset(await filesFromPath(IMAGENET), model.inputs, { preprocessing: raw, labelsCsv: imagenetCsv() });
      const { top1, top5 } = await topK(model, dataset);
      // Measured: 59.6% / 84.2%. The reference rounds resized pixels half up; we quantize with
      // TFLite's round-half-away-from-zero of (x - 128), which differs on exact .5 values: one image.
      expect(Math.abs(top1 - 59.4)).toBeLessThanOrEqual(0.4);
      expect(Math.abs(top5 - 84.2)).toBeLessThanOrEqual(0.4);
    } finally {
      model.delete();
    }
  });

  it('mnist_conv_fc_float on the 10,000 MNIST test digits (IDX, x / 255): 96.52%', async () => {
    const bytes = readSharedModel('mnist_conv_fc_float.tflite');
    const model = await loadModel(bytes);
    try {
      const dataset = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), model.inputs);
      expect(dataset.kind).toBe('idx');
      expect(dataset.size).toBe(10000);
      expect(dataset.labels.slice(0, 10)).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
      const { top1 } = await topK(model, dataset);
      expect(top1).toBeCloseTo(96.52, 5);
    } finally {
      model.delete();
    }
  });
});
