/**
 * What the optimizer keeps between calls: the float model, the dataset's files and the dataset
 * opened from them, and the float model's latency once measured. The worker holds one Session; a
 * Node test can hold its own.
 */
import type { Dataset, DatasetOptions } from '../data/dataset';
import type { DataFile } from '../data/files';
import { WorkbenchError } from '../errors';
import type { RawDetectionSpec } from '../evaluate/box-decoding';
import type { LatencyResult } from '../evaluate/latency';
import type { ModelGraph } from '../tflite/graph';
import { datasetFingerprint, datasetName } from './evaluation-set';
import { openDataset } from './open-dataset';
import { openModel, type OpenedModel } from './open-model';

export class Session {
  model: OpenedModel | null = null;
  files: DataFile[] | null = null;
  dataset: Dataset | null = null;
  labelColumn: string | null = null;
  /** A segmenter's masks/: stored value = class x maskScale (the user's choice, default 1). */
  maskScale = 1;
  /** The dataset as the user named it (the zip, the folder) and its fingerprint (evaluation-set.ts). */
  datasetName: string | null = null;
  datasetFingerprint: string | null = null;
  /** A detector with a raw head: the anchors and decoding the user gave (box-decoding.ts), else null. */
  rawDetection: RawDetectionSpec | null = null;
  /** The float model's latency, measured by the first run and reused by the next. */
  referenceLatency: LatencyResult | null = null;

  /** A new model: the dataset and the measured latency belonged to the old one. */
  openModel(bytes: Uint8Array, name: string): OpenedModel {
    const model = openModel(bytes, name);
    this.model = model;
    this.clearDataset();
    this.referenceLatency = null;
    this.rawDetection = null;
    return model;
  }

  requireModel(): OpenedModel & { graph: ModelGraph } {
    if (!this.model) throw new WorkbenchError('bad-input', 'Open a model first.');
    return this.model;
  }

  async openDataset(files: DataFile[], preprocessing: DatasetOptions['preprocessing'], name?: string): Promise<Dataset> {
    const { graph, classNames } = this.requireModel();
    this.files = files;
    this.labelColumn = null;
    this.maskScale = 1;
    this.datasetName = name ?? datasetName(files);
    return this.setDataset(await openDataset(files, graph, { preprocessing: preprocessing ?? undefined, classNames }));
  }

  /** The same files again with another preprocessing, labels.csv column and / or mask scale (undefined: keep it). */
  async reopenDataset(preprocessing: DatasetOptions['preprocessing'], column?: string | null, maskScale?: number): Promise<Dataset> {
    const { graph, classNames } = this.requireModel();
    if (!this.files) throw new WorkbenchError('bad-input', 'No dataset yet: drop a folder, a zip or .npy files.');
    if (column !== undefined) this.labelColumn = column || null;
    if (maskScale !== undefined) this.maskScale = maskScale;
    const choices = { preprocessing: preprocessing ?? this.dataset?.preprocessing ?? undefined, classNames, labelColumn: this.labelColumn, maskScale: this.maskScale };
    return this.setDataset(await openDataset(this.files, graph, choices));
  }

  private setDataset(dataset: Dataset): Dataset {
    this.dataset = dataset;
    this.datasetFingerprint = datasetFingerprint(dataset, this.files ?? []);
    return dataset;
  }

  clearDataset(): void {
    this.dataset = null;
    this.files = null;
    this.datasetName = null;
    this.datasetFingerprint = null;
  }

  /** A class index as the user reads it: the dataset's names, else the model's, else the number. */
  className(index: number): string {
    return this.dataset?.classNames?.[index] ?? this.model?.classNames?.[index] ?? String(index);
  }
}
