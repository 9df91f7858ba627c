/** Opening a dataset from CLI flags (--calib/--data, --labels, --label-column, --mean, --std). */
import { readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { WorkbenchError } from '../errors';
import { openDataset, type Dataset } from '../data/dataset';
import { defaultPreprocessing, graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import type { Preprocessing } from '../data/preprocess';
import type { ModelGraph } from '../tflite/graph';

export interface DataFlags {
  path: string;
  labels?: string;
  labelColumn?: string;
  mean?: string;
  std?: string;
}

function numbers(text: string, flag: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new WorkbenchError('bad-input', `${flag} takes numbers separated by commas, got "${text}"`);
  return values;
}

/** The preprocessing per input: metadata or quantization when known; --mean/--std override; else an error asking for them. */
function preprocessingFor(graph: ModelGraph, flags: DataFlags): (Preprocessing | null)[] {
  return graph.subgraphs[0].inputs.map((_, i) => {
    const choice = defaultPreprocessing(graph, i);
    if (!choice.preprocessing) return null;
    if (flags.mean !== undefined || flags.std !== undefined) {
      return {
        ...choice.preprocessing,
        mean: flags.mean !== undefined ? numbers(flags.mean, '--mean') : choice.preprocessing.mean,
        std: flags.std !== undefined ? numbers(flags.std, '--std') : choice.preprocessing.std,
      };
    }
    if (choice.needsUserInput) {
      throw new WorkbenchError(
        'bad-input',
        `the model does not say how to normalize images (${choice.reason}); pass --mean and --std, e.g. --mean 127.5 --std 127.5 for [-1, 1] or --mean 0 --std 255 for [0, 1]`,
      );
    }
    return choice.preprocessing;
  });
}

export async function openDataFlags(graph: ModelGraph, flags: DataFlags): Promise<Dataset> {
  const root = resolve(flags.path);
  const files = await filesFromPath(root);
  const labelsCsv = flags.labels
    ? {
        text: readFileSync(flags.labels, 'utf8'),
        name: basename(flags.labels),
        dir: relative(root, dirname(resolve(flags.labels))).split('\\').join('/'),
        labelColumn: flags.labelColumn,
      }
    : undefined;
  return openDataset(files, graphInputs(graph), { preprocessing: preprocessingFor(graph, flags), labelsCsv });
}

/** Samples of a dataset as an async iterable (decoded lazily, one at a time). */
export async function* datasetSamples(dataset: Dataset, indices: number[]): AsyncGenerator<Float32Array[]> {
  for (const i of indices) yield await dataset.sample(i);
}
