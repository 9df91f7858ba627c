/**
 * Ground-truth boxes for a detector: a CSV with the header `file,class,ymin,xmin,ymax,xmax` (any
 * column order, further columns ignored) and one row per box. Coordinates are fractions [0, 1] of
 * the original image, which the preprocessing resizes whole (no crop), so they are fractions of the
 * model input too, as TFLite_Detection_PostProcess writes its boxes. The class is the model's class
 * id, or a name from the model's label list when it has one. A file of the data set without rows
 * has no objects; a row with a file and nothing else says so explicitly.
 *
 * Files are named as in labels.csv: the path relative to the folder the CSV describes, or the file
 * name alone where it is unique. Every error names the CSV and the line.
 */
import { WorkbenchError } from '../errors';
import { parseCsvLines } from './csv';
import { baseName, normalizePath } from './files';
import { loose } from './labels';
import { pathLookup } from './labels-csv';

/** The file a data folder or zip may carry at its root (the page reads it like labels.csv). */
export const BOX_LABELS_FILE = 'boxes.csv';
export const BOX_LABEL_COLUMNS = ['file', 'class', 'ymin', 'xmin', 'ymax', 'xmax'] as const;

/** One labelled object: normalized corners as the detector writes them, and its class id. */
export interface LabeledBox {
  classId: number;
  ymin: number;
  xmin: number;
  ymax: number;
  xmax: number;
}

export interface BoxLabels {
  /** The CSV the boxes came from, for notes and messages. */
  name: string;
  /** The boxes of each sample, in the data set's order ([] for an image with no objects). */
  perSample: LabeledBox[][];
  /** Boxes in all, and samples holding at least one. */
  boxes: number;
  images: number;
}

export interface BoxLabelsCsv {
  text: string;
  /** For messages, e.g. "boxes.csv". */
  name?: string;
  /** Folder (relative to the data set's root) the CSV's paths are relative to; default the root. */
  dir?: string;
}

const WHOLE_NUMBER = /^\d+$/;
const NUMBER_LIKE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * The boxes of every sample named in `names` (the data set's sample names, i.e. its file paths).
 * `classNames`: the model's label list, for rows that name their class. Throws WorkbenchError
 * ('bad-input') naming the line of the first bad row.
 */
export function boxLabelsFromCsv(csv: BoxLabelsCsv, names: readonly string[], classNames?: readonly string[] | null): BoxLabels {
  const name = csv.name ?? 'the box labels CSV';
  const fail = (why: string): never => {
    throw new WorkbenchError('bad-input', `${name}: ${why}.`);
  };
  const rows = parseCsvLines(csv.text, name);
  if (rows.length === 0) fail(`it is empty; its first line must be the header ${BOX_LABEL_COLUMNS.join(',')}`);
  const header = rows[0].fields.map((h) => h.trim().toLowerCase());
  const missing = BOX_LABEL_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length) {
    fail(`line ${rows[0].line} must be the header ${BOX_LABEL_COLUMNS.join(',')} (missing: ${missing.join(', ')}; found: ${rows[0].fields.join(',')})`);
  }
  const column = Object.fromEntries(BOX_LABEL_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof BOX_LABEL_COLUMNS)[number], number>;

  const dir = normalizePath(csv.dir ?? '');
  const lookup = pathLookup(names);
  const resolve = (cell: string): number | undefined => {
    const path = normalizePath(cell);
    if (!path) return undefined;
    return lookup.exact.get(dir ? `${dir}/${path}` : path) ?? lookup.exact.get(path) ?? lookup.byBase.get(baseName(path));
  };
  const classOf = classResolver(classNames);

  const perSample: LabeledBox[][] = names.map(() => []);
  let boxes = 0;
  for (const { fields, line } of rows.slice(1)) {
    const cell = (c: keyof typeof column) => (fields[column[c]] ?? '').trim();
    const at = (why: string) => fail(`line ${line}: ${why}`);
    const file = cell('file');
    if (!file) at('the file is empty');
    const sample = resolve(file);
    if (sample === undefined) {
      const shown = names.slice(0, 3).join(', ');
      at(`'${file}' is not in the data set (its ${names.length} file${names.length === 1 ? '' : 's'}: ${shown}${names.length > 3 ? ', ...' : ''})`);
    }
    const rest = (['class', 'ymin', 'xmin', 'ymax', 'xmax'] as const).map(cell);
    // A file with nothing else: an image with no objects, said explicitly.
    if (rest.every((v) => v === '')) continue;
    const [ymin, xmin, ymax, xmax] = (['ymin', 'xmin', 'ymax', 'xmax'] as const).map((c) => {
      const text = cell(c);
      const value = NUMBER_LIKE.test(text) ? Number(text) : NaN;
      if (!Number.isFinite(value)) at(`${c} ${text ? `'${text}'` : '(empty)'} is not a number`);
      if (value < 0 || value > 1) at(`${c} ${text} is outside [0, 1] (coordinates are fractions of the image's height and width)`);
      return value;
    });
    if (ymin > ymax) at(`ymin ${cell('ymin')} is greater than ymax ${cell('ymax')}`);
    if (xmin > xmax) at(`xmin ${cell('xmin')} is greater than xmax ${cell('xmax')}`);
    const classId = classOf(cell('class'), at);
    perSample[sample!].push({ classId, ymin, xmin, ymax, xmax });
    boxes++;
  }
  return { name, perSample, boxes, images: perSample.filter((list) => list.length > 0).length };
}

/** Class cell -> class id: a whole number is the id; a name is looked up in the model's labels (exact, then loosely). */
function classResolver(classNames: readonly string[] | null | undefined) {
  const exact = new Map<string, number>();
  const relaxed = new Map<string, number>();
  classNames?.forEach((n, i) => {
    if (!exact.has(n)) exact.set(n, i);
    if (!relaxed.has(loose(n))) relaxed.set(loose(n), i);
  });
  return (text: string, at: (why: string) => never): number => {
    if (!text) return at('the class is empty');
    if (WHOLE_NUMBER.test(text)) return Number(text);
    if (NUMBER_LIKE.test(text)) return at(`class ${text} is not a class id (a whole number from 0)`);
    if (!classNames?.length) return at(`class '${text}' is a name, but the model has no label list: give the class id (a number)`);
    const id = exact.get(text) ?? relaxed.get(loose(text));
    if (id === undefined) {
      const shown = classNames.slice(0, 5).map((n) => `'${n}'`).join(', ');
      return at(`class '${text}' is not among the model's ${classNames.length} labels (${shown}${classNames.length > 5 ? ', ...' : ''})`);
    }
    return id;
  };
}

/** The box labels of the samples at `indices` (in that order), e.g. for a subset of the data set. */
export function boxLabelsAt(labels: BoxLabels, indices: readonly number[]): BoxLabels {
  const perSample = indices.map((i) => labels.perSample[i]);
  return { name: labels.name, perSample, boxes: perSample.reduce((n, list) => n + list.length, 0), images: perSample.filter((list) => list.length > 0).length };
}

/** "boxes.csv: 12 boxes on 5 of 8 images". */
export function boxLabelsText(labels: BoxLabels): string {
  return `${labels.name}: ${labels.boxes} box${labels.boxes === 1 ? '' : 'es'} on ${labels.images} of ${labels.perSample.length} image${labels.perSample.length === 1 ? '' : 's'}`;
}
