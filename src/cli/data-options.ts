/** Opening a dataset from CLI flags (--calib/--data, --labels, --label-column, --mean, --std). */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { WorkbenchError } from '../errors';
import { openDataset, type Dataset } from '../data/dataset';
import { defaultPreprocessing, graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { isIdxPath } from '../data/idx';
import { isImagePath } from '../data/image-decode';
import type { Preprocessing } from '../data/preprocess';
import type { ModelGraph } from '../tflite/graph';

export interface DataFlags {
  path: string;
  labels?: string;
  labelColumn?: string;
  mean?: string;
  std?: string;
  /** A folder inside the data whose files are not samples (e.g. --masks): left out. */
  skipFolder?: string;
}

/** DataFlags for data at `path`, read as a command's dataset options say (--labels, --mean ...). */
export function dataFlags(path: string, options: Omit<DataFlags, 'path'>): DataFlags {
  return { path, labels: options.labels, labelColumn: options.labelColumn, mean: options.mean, std: options.std };
}

function numbers(text: string, flag: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new WorkbenchError('bad-input', `${flag} takes numbers separated by commas, got "${text}"`);
  return values;
}

/**
 * The preprocessing per input: metadata or quantization when known; --mean/--std override. When
 * neither says, images cannot be fed (an error asks for --mean/--std), but IDX digits can: their
 * dataset reader has MNIST's convention (x / 255), so the choice is left to it.
 */
function preprocessingFor(graph: ModelGraph, flags: DataFlags, guessAllowed: boolean): (Preprocessing | null)[] | undefined {
  const choices = graph.subgraphs[0].inputs.map((_, i) => defaultPreprocessing(graph, i));
  if (flags.mean === undefined && flags.std === undefined && guessAllowed && choices.some((c) => c.needsUserInput)) return undefined;
  return graph.subgraphs[0].inputs.map((_, i) => {
    const choice = choices[i];
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
  const inside = flags.skipFolder ? relative(root, resolve(flags.skipFolder)).split('\\').join('/') : '';
  const excluded = inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : null;
  const files = (await filesFromPath(root)).filter((f) => !excluded || !(f.path === excluded || f.path.startsWith(`${excluded}/`)));
  const labelsCsv = flags.labels
    ? {
        text: readFileSync(flags.labels, 'utf8'),
        name: basename(flags.labels),
        dir: relative(root, dirname(resolve(flags.labels))).split('\\').join('/'),
        labelColumn: flags.labelColumn,
      }
    : undefined;
  // Only images need a normalization; .npy arrays are fed as they are and IDX digits as x / 255.
  const images = files.some((f) => isImagePath(f.path)) && !files.some((f) => f.path.endsWith('.npy') || isIdxPath(f.path));
  const preprocessing = images || flags.mean !== undefined || flags.std !== undefined ? preprocessingFor(graph, flags, !images) : undefined;
  return openDataset(files, graphInputs(graph), { preprocessing, labelsCsv });
}

/** Samples of a dataset as an async iterable (decoded lazily, one at a time). */
export async function* datasetSamples(dataset: Dataset, indices: number[]): AsyncGenerator<Float32Array[]> {
  for (const i of indices) yield await dataset.sample(i);
}
