/** The Dataset contract (see dataset.ts), apart from the code that opens datasets. */
import { WorkbenchError } from '../errors';
import type { BoxLabels } from './box-labels';
import type { MaskLabels } from './mask-labels';
import type { LabelsCsv } from './labels-csv';
import type { ModelInputInfo, Preprocessing } from './preprocess';

export type DatasetKind = 'images' | 'npy' | 'idx';
export type LabelSource = 'csv' | 'folders' | 'npy' | 'idx' | null;

export interface Dataset {
  readonly kind: DatasetKind;
  /** Number of samples. */
  readonly size: number;
  /** One name per sample, for reports: the file path, or "file.npy[i]" for stacked arrays. */
  readonly names: string[];
  /** One class index per sample (an index into the model's output), or null when unlabeled. */
  readonly labels: (number | null)[];
  /** Class index -> name, when known (folder names, CSV names, or the class names given). */
  readonly classNames: string[] | null;
  readonly labelSource: LabelSource;
  /** The model inputs the samples are made for, in sample order. */
  readonly inputs: ModelInputInfo[];
  /** Per input: the image preprocessing applied (null for .npy data). */
  readonly preprocessing: (Preprocessing | null)[];
  /** Detectors: ground-truth boxes per sample (box-labels.ts), when the data came with them. */
  readonly boxLabels?: BoxLabels | null;
  /** Segmenters: ground-truth class masks per sample on the output grid (mask-labels.ts), when the data came with them. */
  readonly maskLabels?: MaskLabels | null;
  /** Segmenters: why the data's masks could not be used (the page then offers a mask scale), if so. */
  readonly maskProblem?: string | null;
  /** Things the user should know (ignored files, how labels were mapped...), one line each. */
  notes: string[];
  /** Sample i: one Float32Array per input, with the input's element count (its shape). */
  sample(i: number): Promise<Float32Array[]>;
}

export interface DatasetOptions {
  /**
   * Image and IDX datasets: how to turn pixels into the input (see defaultPreprocessing). Required
   * for images; IDX defaults to x / 255, MNIST's convention.
   */
  preprocessing?: Preprocessing | null | (Preprocessing | null)[];
  /** Image datasets: a labels CSV (else a "labels.csv" at the dataset root, else class folders). */
  labelsCsv?: LabelsCsv;
  /** Class names in output order (e.g. the model's labels file), to map folder / CSV names to indices. */
  classNames?: string[];
  /** Image datasets: bytes of decoded pixels kept for reuse (decoded-cache.ts; default 64 MB, 0: none). */
  decodedCacheBytes?: number;
}

/** Throws a clear error for a sample index outside [0, size). */
export function checkIndex(size: number, i: number): void {
  if (!(Number.isInteger(i) && i >= 0 && i < size)) {
    throw new WorkbenchError('bad-input', `No sample ${i}: the dataset has ${size} sample${size === 1 ? '' : 's'} (0..${size - 1}).`);
  }
}
