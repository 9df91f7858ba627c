/**
 * Opening a dataset for a model: the page's picked files (or one zip) as DataFiles, the dataset
 * read from them for the model's inputs, and what the page is told about it.
 */
import { BOX_LABELS_FILE, boxLabelsFromCsv, boxLabelsText } from '../data/box-labels';
import { openDataset as readDataset, withBoxLabels, withMaskLabels, type Dataset, type DatasetOptions } from '../data/dataset';
import { MASKS_FOLDER, maskLabelsFromFiles, maskLabelsText } from '../data/mask-labels';
import { WorkbenchError } from '../errors';
import { segmentationGrid } from '../evaluate/mask-grid';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromFileList, filesFromZip, type DataFile } from '../data/files';
import { isDetector } from '../evaluate/raw-detection-task';
import type { ModelGraph } from '../tflite/graph';
import type { DataInput, DatasetInfo } from './worker-protocol';

/** One dropped zip is read as the dataset; anything else is a folder of files. */
export async function dataFilesFrom(input: DataInput): Promise<DataFile[]> {
  const zips = input.files.filter((f) => f.path.toLowerCase().endsWith('.zip'));
  if (zips.length === 1 && input.files.length === 1) return filesFromZip(new Uint8Array(await zips[0].file.arrayBuffer()), zips[0].path);
  return filesFromFileList(input.files.map(({ file, path }) => ({ name: file.name, relativePath: path, size: file.size, arrayBuffer: () => file.arrayBuffer() })));
}

export interface DatasetChoices {
  preprocessing?: DatasetOptions['preprocessing'];
  /** Class names from the model's metadata (the dataset's own win). */
  classNames?: string[];
  /** The labels.csv column the user named (else the reader picks one or asks). */
  labelColumn?: string | null;
  /** A segmenter's masks/: stored value = class x scale (default 1). */
  maskScale?: number;
}

export async function openDataset(files: DataFile[], graph: ModelGraph, choices: DatasetChoices = {}): Promise<Dataset> {
  // A segmenter's masks/ folder holds its labels, not samples.
  const grid = segmentationGrid(graph);
  const inMasks = (f: DataFile) => grid !== null && f.path.toLowerCase().startsWith(`${MASKS_FOLDER}/`);
  const samples = files.filter((f) => !inMasks(f));
  const dataset = await readDataset(samples, graphInputs(graph), { preprocessing: choices.preprocessing, classNames: choices.classNames, labelsCsv: await labelsCsv(files, choices.labelColumn) });
  const boxed = await rootBoxLabels(files, dataset, graph, choices.classNames);
  const masks = files.filter(inMasks).map((f) => ({ ...f, path: f.path.slice(MASKS_FOLDER.length + 1) }));
  return grid && masks.length ? rootMasks(masks, boxed, grid, choices.maskScale ?? 1) : boxed;
}

/**
 * A segmenter's data with a masks/ folder at its root: the ground-truth masks its variants' mIoU is
 * then measured against. A mask that cannot be used leaves the data open without masks and says
 * why (maskProblem, shown by the data panel): the page must stay able to take another mask scale.
 */
async function rootMasks(files: DataFile[], dataset: Dataset, grid: NonNullable<ReturnType<typeof segmentationGrid>>, scale: number): Promise<Dataset> {
  try {
    const labels = await maskLabelsFromFiles(files, dataset.names, grid, { scale }, MASKS_FOLDER);
    dataset.notes.push(`Masks from ${maskLabelsText(labels)}: segmentation variants are measured by mIoU against them.`);
    return withMaskLabels(dataset, labels);
  } catch (error) {
    if (!(error instanceof WorkbenchError)) throw error;
    return { ...dataset, maskProblem: error.message };
  }
}

/**
 * A detector's data with a boxes.csv at its root: the ground-truth boxes its variants' mAP is then
 * measured against (errors in the file are errors: it exists for nothing else). Other models ignore it.
 */
async function rootBoxLabels(files: DataFile[], dataset: Dataset, graph: ModelGraph, classNames: string[] | undefined): Promise<Dataset> {
  const csv = files.find((f) => f.path.toLowerCase() === BOX_LABELS_FILE);
  if (!csv) return dataset;
  if (!isDetector(graph)) {
    dataset.notes.push(`Ignored ${csv.path}: box labels are for detectors, and this model has neither a TFLite_Detection_PostProcess op nor a raw box head.`);
    return dataset;
  }
  const labels = boxLabelsFromCsv({ text: new TextDecoder().decode(await csv.read()), name: csv.path }, dataset.names, classNames);
  dataset.notes.push(`Box labels from ${boxLabelsText(labels)}: detection variants are measured by mAP@0.5 against them.`);
  return withBoxLabels(dataset, labels);
}

/** The root labels.csv with the column the user named. */
async function labelsCsv(files: DataFile[], labelColumn: string | null | undefined) {
  const csv = labelColumn ? files.find((f) => f.path === 'labels.csv') : undefined;
  if (!csv || !labelColumn) return undefined;
  return { text: new TextDecoder().decode(await csv.read()), name: 'labels.csv', labelColumn };
}

/** What the page is told; `identity` is the Session's name and fingerprint of the dataset. */
export function datasetInfo(d: Dataset, identity: { name: string | null; fingerprint: string | null } = { name: null, fingerprint: null }): DatasetInfo {
  return {
    name: identity.name,
    fingerprint: identity.fingerprint,
    size: d.size,
    kind: d.kind,
    labeled: d.labels.length > 0 && d.labels.every((l) => l !== null),
    labelSource: d.labelSource,
    classNames: d.classNames,
    notes: d.notes,
    preprocessing: d.preprocessing[0] ?? null,
    boxLabels: d.boxLabels ? { name: d.boxLabels.name, boxes: d.boxLabels.boxes, images: d.boxLabels.images } : null,
    masks: d.maskLabels
      ? { name: d.maskLabels.name, images: d.maskLabels.perSample.length, scale: d.maskLabels.scale, ignore: d.maskLabels.ignore, ignoredPixels: d.maskLabels.ignoredPixels, resized: d.maskLabels.resized, grid: [d.maskLabels.grid.height, d.maskLabels.grid.width] }
      : null,
    maskProblem: d.maskProblem ?? null,
  };
}
