/**
 * Datasets: what calibration and evaluation loop over. A dataset is opened against the model's
 * inputs, checked once (file kinds, shapes, dtypes, labels), and then gives one sample at a time,
 * decoded and preprocessed only when asked for, so thousands of images cost nothing up front.
 *
 * Three kinds, told apart by the files:
 * - images (JPEG / PNG; image-dataset.ts): labels from a CSV, or one folder per class;
 * - .npy arrays (npy-dataset.ts): stacked [N, ...] or one file per sample; one array per input;
 * - IDX (MNIST's format; idx-dataset.ts).
 *
 * A sample is one Float32Array per model input, in the order of the `inputs` the dataset was
 * opened with, holding the real (dequantized) values of that input's tensor. `modelSample` turns it
 * into what LiteRT takes (quantized for quantized inputs).
 */
import { seededRandom } from '../seeded-random';
import { WorkbenchError } from '../errors';
import type { RuntimeData } from '../runtime/types';
import { extensionOf, sortedFiles, type DataFile } from './files';
import { isIdxPath } from './idx';
import { openIdxDataset } from './idx-dataset';
import { isImagePath } from './image-decode';
import { openImageDataset } from './image-dataset';
import { openNpyDataset } from './npy-dataset';
import { checkIndex, type Dataset, type DatasetOptions } from './dataset-types';
import { boxLabelsAt, type BoxLabels } from './box-labels';
import { maskLabelsAt, type MaskLabels } from './mask-labels';
import { toModelInput } from '../runtime/samples';
import type { ModelInputInfo } from './preprocess';

export type { ModelInputInfo, Preprocessing } from './preprocess';
export type { LabelsCsv } from './labels-csv';
export type { BoxLabels, LabeledBox } from './box-labels';
export type { ClassMask, MaskLabels } from './mask-labels';
export type { Dataset, DatasetKind, DatasetOptions, LabelSource } from './dataset-types';
export { checkIndex } from './dataset-types';

/** Opens `files` as a dataset for a model with these inputs; throws WorkbenchError('bad-input') on any mismatch. */
export async function openDataset(allFiles: DataFile[], inputs: ModelInputInfo[], options: DatasetOptions = {}): Promise<Dataset> {
  // Sorted here too, whatever the source: sample i must be the same file everywhere.
  const files = sortedFiles(allFiles);
  if (inputs.length === 0) throw new WorkbenchError('bad-input', 'The model has no inputs to feed.');
  if (files.length === 0) throw new WorkbenchError('bad-input', 'The dataset is empty: no files (hidden files are skipped).');
  const npy = files.filter((f) => extensionOf(f.path) === '.npy');
  const idx = files.filter((f) => isIdxPath(f.path));
  const images = files.filter((f) => isImagePath(f.path));
  // One kind per dataset, by priority (.npy, IDX, images): the others are listed in a note, since a
  // folder such as MNIST's may hold a few sample PNGs beside the IDX files.
  const kinds = [
    { files: npy, what: '.npy arrays', open: openNpyDataset },
    { files: idx, what: 'IDX files', open: openIdxDataset },
    { files: images, what: 'images', open: openImageDataset },
  ].filter((k) => k.files.length > 0);
  if (kinds.length > 0) {
    const dataset = await kinds[0].open(files, inputs, options);
    for (const other of kinds.slice(1)) {
      dataset.notes.push(`Read the ${kinds[0].what}; ignored ${other.files.length} ${other.what} (e.g. ${other.files[0].path}): open them as a dataset of their own.`);
    }
    return dataset;
  }
  const found = [...new Set(files.map((f) => extensionOf(f.path) || f.path))].slice(0, 6).join(', ');
  throw new WorkbenchError('bad-input', `The dataset has no JPEG/PNG images, .npy arrays or IDX files among its ${files.length} files (found: ${found}).`);
}

/** Sample i as LiteRT takes it: one typed array per input, quantized where the input is. */
export async function modelSample(dataset: Dataset, i: number): Promise<RuntimeData[]> {
  const floats = await dataset.sample(i);
  return floats.map((f, k) => toModelInput(f, dataset.inputs[k]));
}

/** The samples at `indices` (in that order) as a dataset of their own. */
export function subset(dataset: Dataset, indices: number[]): Dataset {
  for (const i of indices) checkIndex(dataset.size, i);
  return {
    kind: dataset.kind,
    size: indices.length,
    names: indices.map((i) => dataset.names[i]),
    labels: indices.map((i) => dataset.labels[i]),
    classNames: dataset.classNames,
    labelSource: dataset.labelSource,
    boxLabels: dataset.boxLabels ? boxLabelsAt(dataset.boxLabels, indices) : dataset.boxLabels,
    maskLabels: dataset.maskLabels ? maskLabelsAt(dataset.maskLabels, indices) : dataset.maskLabels,
    inputs: dataset.inputs,
    preprocessing: dataset.preprocessing,
    notes: dataset.notes,
    sample: async (i) => {
      checkIndex(indices.length, i);
      return dataset.sample(indices[i]);
    },
  };
}

/** The data set with these ground-truth boxes (one list per sample, in its order). */
export function withBoxLabels(dataset: Dataset, boxLabels: BoxLabels): Dataset {
  if (boxLabels.perSample.length !== dataset.size) throw new Error(`box labels for ${boxLabels.perSample.length} samples given to a data set of ${dataset.size}`);
  return { ...dataset, boxLabels };
}

/** The ground-truth boxes of the samples at `indices`, or undefined when the data set has none. */
export function boxesAt(dataset: Dataset, indices: readonly number[]): BoxLabels['perSample'] | undefined {
  return dataset.boxLabels ? indices.map((i) => dataset.boxLabels!.perSample[i]) : undefined;
}

/** The data set with these ground-truth masks (one per sample, in its order). */
export function withMaskLabels(dataset: Dataset, maskLabels: MaskLabels): Dataset {
  if (maskLabels.perSample.length !== dataset.size) throw new Error(`masks for ${maskLabels.perSample.length} samples given to a data set of ${dataset.size}`);
  return { ...dataset, maskLabels };
}

/** The ground-truth masks of the samples at `indices`, or undefined when the data set has none. */
export function masksAt(dataset: Dataset, indices: readonly number[]): MaskLabels['perSample'] | undefined {
  return dataset.maskLabels ? indices.map((i) => dataset.maskLabels!.perSample[i]) : undefined;
}

/**
 * `count` distinct sample indices drawn with a seeded shuffle (all of them, shuffled, when count >=
 * size): a calibration set that is the same on every run and every machine.
 */
export function randomIndices(size: number, count: number, seed = 0): number[] {
  const order = Array.from({ length: size }, (_, i) => i);
  const random = seededRandom(seed);
  const n = Math.min(count, size);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (size - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, n);
}

