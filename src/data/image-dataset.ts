/**
 * A folder of JPEG / PNG images (any depth) for a model with one image input.
 *
 * Labels, first found wins:
 * 1. the labels CSV given in the options (errors in it are errors);
 * 2. a file "labels.csv" at the dataset root (if its columns cannot be told apart, the dataset is
 *    opened unlabeled and a note says why);
 * 3. one folder per class: every image inside a top-level folder named after its class, with at
 *    least two such folders (or one whose name is among the class names given); see labels.ts
 *    for how names become indices;
 * 4. none (fine for calibration).
 */
import { WorkbenchError } from '../errors';
import type { Dataset, DatasetOptions, LabelSource } from './dataset-types';
import { checkIndex } from './dataset-types';
import { BOX_LABELS_FILE } from './box-labels';
import { baseName, type DataFile } from './files';
import { DecodedImageCache } from './decoded-cache';
import { decodeImage, isImagePath } from './image-decode';
import { preprocessingFor, singleImageInput } from './image-input';
import { classIndices } from './labels';
import { labelsFromCsv, type LabelsCsv } from './labels-csv';
import { preprocessImage, type ModelInputInfo } from './preprocess';

const ROOT_CSV = 'labels.csv';

export async function openImageDataset(files: DataFile[], inputs: ModelInputInfo[], options: DatasetOptions): Promise<Dataset> {
  const { input, image } = singleImageInput(inputs, 'Image folders');
  const preprocessing = preprocessingFor(options.preprocessing, input, image);
  if (!preprocessing) {
    throw new WorkbenchError(
      'bad-input',
      `Images need preprocessing for input '${input.name}' (size, channels, mean and std); take the model's default (defaultPreprocessing) or give your own.`,
    );
  }
  const images = files.filter((f) => isImagePath(f.path));
  if (images.length === 0) {
    throw new WorkbenchError('bad-input', `No JPEG or PNG images among the dataset's ${files.length} files (e.g. ${files[0]?.path ?? 'none'}).`);
  }
  const paths = images.map((f) => f.path);
  const notes: string[] = [];

  let labels: (number | null)[] = paths.map(() => null);
  let classNames: string[] | null = null;
  let labelSource: LabelSource = null;
  let usedCsv: string | null = null;

  const rootCsv = files.find((f) => f.path.toLowerCase() === ROOT_CSV);
  if (options.labelsCsv) {
    const found = labelsFromCsv(options.labelsCsv, paths, options.classNames);
    ({ classNames } = found);
    labels = found.indices;
    labelSource = 'csv';
    usedCsv = options.labelsCsv.name ?? null;
    notes.push(csvNote(options.labelsCsv.name ?? 'the labels CSV', found));
  } else if (rootCsv) {
    usedCsv = rootCsv.path;
    const csv: LabelsCsv = { text: new TextDecoder().decode(await rootCsv.read()), name: rootCsv.path };
    try {
      const found = labelsFromCsv(csv, paths, options.classNames);
      ({ classNames } = found);
      labels = found.indices;
      labelSource = 'csv';
      notes.push(csvNote(rootCsv.path, found));
    } catch (error) {
      if (!(error instanceof WorkbenchError)) throw error;
      notes.push(`Opened without labels: ${error.message}`);
    }
  } else {
    const folders = folderLabels(paths, options.classNames);
    if (folders) {
      ({ labels, classNames } = folders);
      labelSource = 'folders';
      notes.push(folders.note);
    }
  }

  // A root boxes.csv is not ignored: whoever opens the data for a detector reads it (box-labels.ts).
  const ignored = files.filter((f) => !isImagePath(f.path) && f.path !== usedCsv && f.path.toLowerCase() !== BOX_LABELS_FILE);
  if (ignored.length) {
    notes.push(`Ignored ${ignored.length} file${ignored.length === 1 ? '' : 's'} that ${ignored.length === 1 ? 'is' : 'are'} not JPEG or PNG (${ignored.slice(0, 3).map((f) => f.path).join(', ')}${ignored.length > 3 ? ', ...' : ''}).`);
  }

  const decodedCache = new DecodedImageCache(options.decodedCacheBytes, images.length);
  const dataset: Dataset = {
    kind: 'images',
    size: images.length,
    names: paths,
    labels,
    classNames,
    labelSource,
    inputs: [input],
    preprocessing: [preprocessing],
    notes,
    async sample(i: number): Promise<Float32Array[]> {
      checkIndex(images.length, i);
      let decoded = decodedCache.get(i);
      if (!decoded) {
        const file = images[i];
        decoded = decodeImage(await file.read(), file.path);
        decodedCache.put(i, decoded);
      }
      return [preprocessImage(decoded, preprocessing)];
    },
  };
  // Fail now, not in the middle of a run, if the first image cannot be decoded.
  await dataset.sample(0);
  return dataset;
}

function csvNote(name: string, found: ReturnType<typeof labelsFromCsv>): string {
  const unused = found.unusedRows ? `; ${found.unusedRows} rows name no image here and were skipped` : '';
  return `Labels from ${name}, column '${found.labelColumn}' (files in '${found.fileColumn}'), ${howMapped(found.how)}${unused}.`;
}

function howMapped(how: 'numbers' | 'class-names' | 'sorted'): string {
  return how === 'numbers' ? 'taken as class indices' : how === 'class-names' ? "mapped through the model's class names" : 'names numbered in sorted order';
}

/** Labels from one folder per class, or null when the layout is not that. */
function folderLabels(paths: string[], classNames: string[] | undefined) {
  const folders = paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : null));
  const distinct = [...new Set(folders.filter((f): f is string => f !== null))];
  const loose = (s: string) => s.toLowerCase().replace(/[\s_\-]+/g, ' ').trim();
  const known = classNames && distinct.length > 0 && distinct.every((f) => classNames.some((c) => c === f || loose(c) === loose(f)));
  if (distinct.length < 2 && !known) return null;
  const outside = paths.filter((_, i) => folders[i] === null);
  if (outside.length > 0) {
    throw new WorkbenchError(
      'bad-input',
      `The images sit in ${distinct.length} class folders, but ${outside.length} ${outside.length === 1 ? 'is' : 'are'} outside any (e.g. ${baseName(outside[0])}); move ${outside.length === 1 ? 'it' : 'them'} into a class folder or remove ${outside.length === 1 ? 'it' : 'them'}.`,
    );
  }
  const mapped = classIndices(folders as string[], classNames, 'class folder');
  const note = `Labels from ${distinct.length} class folder${distinct.length === 1 ? '' : 's'}, ${howMapped(mapped.how)}.`;
  return { labels: mapped.indices, classNames: mapped.classNames, note };
}
