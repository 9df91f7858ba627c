/** --masks DIR [--mask-scale N] [--mask-ignore V|none]: a segmenter's ground-truth masks for the evaluation data (data/mask-labels.ts). */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { withMaskLabels, type Dataset } from '../data/dataset';
import { filesFromPath } from '../data/files-node';
import { maskLabelsFromFiles, maskLabelsText } from '../data/mask-labels';
import { WorkbenchError } from '../errors';
import { segmentationGrid } from '../evaluate/mask-grid';
import type { ModelGraph } from '../tflite/graph';
import { positiveInteger } from './count-option';
import { UsageError } from './usage-error';

export interface MaskFlags {
  masks?: string;
  maskScale?: string;
  maskIgnore?: string;
}

/** The data set with the masks of --masks (unchanged without the flag). Refused for a model that is not a segmenter. */
export async function withMasksFlag(flags: MaskFlags, dataset: Dataset, graph: ModelGraph): Promise<Dataset> {
  if (!flags.masks) {
    if (flags.maskScale !== undefined || flags.maskIgnore !== undefined) throw new UsageError('--mask-scale and --mask-ignore say how to read --masks: give --masks DIR too.', false);
    return dataset;
  }
  const scale = positiveInteger(flags.maskScale, '--mask-scale') ?? 1;
  const ignore = ignoreOf(flags.maskIgnore);
  const grid = segmentationGrid(graph);
  if (!grid) {
    const outputs = graph.subgraphs[0].outputs.map((t) => `[${graph.subgraphs[0].tensors[t].shape.join(', ')}]`).join(', ');
    throw new WorkbenchError('bad-input', `--masks is for segmentation models (one [1, H, W, C] output): this model's outputs are ${outputs}`);
  }
  if (!isDirectory(resolve(flags.masks))) throw new WorkbenchError('bad-input', `--masks takes a folder of PNG masks: ${flags.masks} is not a folder`);
  const folder = flags.masks.replace(/[\\/]+$/, '');
  let labels;
  try {
    labels = await maskLabelsFromFiles(await filesFromPath(resolve(flags.masks)), dataset.names, grid, { scale, ignore }, folder);
  } catch (error) {
    if (error instanceof WorkbenchError) throw new WorkbenchError(error.code, error.message.replace(/set the mask scale to (\d+)\./, 'give --mask-scale $1.'));
    throw error;
  }
  process.stderr.write(`note: masks from ${maskLabelsText(labels)}: mIoU is measured against them\n`);
  return withMaskLabels(dataset, labels);
}

function ignoreOf(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--mask-ignore takes a stored value 0..65535 or none, got "${text}"`);
  return n;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
