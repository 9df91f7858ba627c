/**
 * What the ImageNet classifier benches share: the two shared MobileNets, each with the input
 * preprocessing it expects, and a split of the shared ImageNet subset: images 0..calibCount-1
 * calibrate, the next evalCount evaluate (calibration never sees them), with their 1001-class labels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { dequantizeBytes } from '../src/optimize/pipeline';
import type { Sample } from '../src/runtime/samples';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

export interface ImagenetClassifier {
  key: 'v1' | 'v2';
  label: string;
  bytes: () => Uint8Array;
  /** pixel -> (pixel - mean) / std */
  mean: number;
  std: number;
}

export const IMAGENET_CLASSIFIERS: readonly ImagenetClassifier[] = [
  { key: 'v1', label: 'MobileNetV1 0.25 float', bytes: () => readSharedModel('mobilenet_v1_0.25_224_float.tflite'), mean: 127.5, std: 127.5 },
  // The dequantized MobileNetV2 takes what its uint8 input meant: 0.0078431 * (pixel - 127), SOURCES.md.
  { key: 'v2', label: 'MobileNetV2 1.0 (dequantized ptq_int8)', bytes: () => dequantizeBytes(readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite')).bytes, mean: 127, std: 1 / 0.0078431 },
];

export interface ImagenetSplit {
  calibration: Sample[];
  evaluation: Sample[];
  /** The evaluation images' labels (1001 classes, 0 = background). */
  labels: number[];
}

export async function imagenetSplit(bytes: Uint8Array, classifier: Pick<ImagenetClassifier, 'mean' | 'std'>, calibCount: number, evalCount: number): Promise<ImagenetSplit> {
  const root = join(dataDir, 'imagenet_val_subset');
  const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(bytes)), {
    preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [classifier.mean], std: [classifier.std], resize: 'bilinear' },
    labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
  });
  const samples: Sample[] = [];
  for (let i = 0; i < calibCount + evalCount; i++) samples.push(await dataset.sample(i));
  return { calibration: samples.slice(0, calibCount), evaluation: samples.slice(calibCount), labels: (dataset.labels as number[]).slice(calibCount, calibCount + evalCount) };
}

/** One fold of imagenetFolds: the images held out (to evaluate) with their labels, and all the others. */
export interface ImagenetFold {
  rest: Sample[];
  heldOut: Sample[];
  labels: number[];
}

/**
 * Images 0..count-1 in `folds` folds, each held out once (k-fold: every image scored by a model that
 * never saw it). 'consecutive': fold f holds images f*size..; 'interleaved': the images i with
 * i % folds = f, another partition of the same images for a second, differently split figure.
 */
export async function imagenetFolds(bytes: Uint8Array, classifier: Pick<ImagenetClassifier, 'mean' | 'std'>, count: number, folds: number, order: 'consecutive' | 'interleaved' = 'consecutive'): Promise<ImagenetFold[]> {
  const { evaluation: all, labels } = await imagenetSplit(bytes, classifier, 0, count);
  const size = Math.ceil(all.length / folds);
  return Array.from({ length: folds }, (_, f) => {
    const held = order === 'interleaved' ? (i: number) => i % folds === f : (i: number) => i >= f * size && i < (f + 1) * size;
    return { rest: all.filter((_, i) => !held(i)), heldOut: all.filter((_, i) => held(i)), labels: labels.filter((_, i) => held(i)) };
  });
}
