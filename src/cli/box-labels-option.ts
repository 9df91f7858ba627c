/** --box-labels: a detector's ground-truth boxes for the evaluation data (data/box-labels.ts). */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { boxLabelsFromCsv, boxLabelsText } from '../data/box-labels';
import { withBoxLabels, type Dataset } from '../data/dataset';
import { WorkbenchError } from '../errors';
import type { RawDetectionSpec } from '../evaluate/box-decoding';
import { inferTask } from '../evaluate/quality';
import { rawHeadOf } from '../evaluate/raw-detection-task';
import type { ModelGraph } from '../tflite/graph';
import { readModelMetadata } from '../tflite/metadata/read-metadata';

/**
 * The data set with the boxes of --box-labels (unchanged without the flag). `dataPath` is the data's
 * folder (or zip): the CSV's paths are relative to its own folder, as --labels'. Refused for a model
 * that is not a detector, and for a raw head without --anchors (its boxes cannot be decoded).
 */
export function withBoxLabelsFlag(path: string | undefined, dataset: Dataset, graph: ModelGraph, rawDetection: RawDetectionSpec | undefined, dataPath: string): Dataset {
  if (!path) return dataset;
  if (!rawDetection && inferTask(graph).kind !== 'detection') {
    const outputs = graph.subgraphs[0].outputs.map((t) => `[${graph.subgraphs[0].tensors[t].shape.join(', ')}]`).join(', ');
    throw new WorkbenchError(
      'bad-input',
      rawHeadOf(graph)
        ? `--box-labels needs the detections decoded: this model's raw head (outputs ${outputs}) needs its anchors too, give --anchors A.csv`
        : `--box-labels is for detectors: this model has no TFLite_Detection_PostProcess op and no raw box head (outputs ${outputs})`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WorkbenchError('bad-input', `cannot read the box labels ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message}`);
  }
  const root = resolve(dataPath);
  const rootDir = isDirectory(root) ? root : dirname(root);
  const dir = relative(rootDir, dirname(resolve(path))).split('\\').join('/');
  const labels = boxLabelsFromCsv({ text, name: basename(path), dir: dir.startsWith('..') ? '' : dir }, dataset.names, modelLabels(graph));
  process.stderr.write(`note: box labels from ${boxLabelsText(labels)}: mAP@0.5 is measured against them\n`);
  return withBoxLabels(dataset, labels);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The model's class names, for rows that name their class; none when its metadata has no labels (or cannot be read). */
function modelLabels(graph: ModelGraph): string[] | undefined {
  try {
    return readModelMetadata(graph)?.labels;
  } catch {
    return undefined;
  }
}
