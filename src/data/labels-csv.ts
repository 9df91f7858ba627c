/**
 * Labels of image files from a CSV: one row per file, a column naming the file (its path relative
 * to the folder the CSV describes) and a column with its label (a class index or a class name).
 *
 * Columns are found by name when given (`labelColumn`, `fileColumn`), else guessed: the file column
 * is the one whose cells name the dataset's files; the label column is one named like "label" or
 * "class", or the only other column. A CSV without a header row works when its columns can be
 * guessed; columns are then called "1", "2", ... (1-based).
 */
import { WorkbenchError } from '../errors';
import { parseCsv } from './csv';
import { baseName, normalizePath } from './files';
import { classIndices, type ClassIndex } from './labels';

export interface LabelsCsv {
  text: string;
  /** For messages, e.g. "labels.csv". */
  name?: string;
  /** Folder (relative to the dataset root) that the CSV's paths are relative to; default: the root. */
  dir?: string;
  labelColumn?: string;
  fileColumn?: string;
}

export interface CsvLabels extends ClassIndex {
  labelColumn: string;
  fileColumn: string;
  /** Rows naming no file of the dataset (they are ignored). */
  unusedRows: number;
}

const LABEL_NAMES = ['label', 'labels', 'class', 'class_id', 'classid', 'category', 'target', 'y', 'class_index', 'label_id'];
const FILE_NAMES = ['file', 'filename', 'file_name', 'path', 'filepath', 'file_path', 'image', 'image_path', 'img', 'image_id', 'id'];

/**
 * One label index per path of `paths` (dataset-relative). Throws WorkbenchError('bad-input') when a
 * named column is missing, columns cannot be told apart, or some file has no label.
 */
export function labelsFromCsv(csv: LabelsCsv, paths: string[], classNames?: string[]): CsvLabels {
  const name = csv.name ?? 'the labels CSV';
  const bad = (why: string): never => {
    throw new WorkbenchError('bad-input', `${name}: ${why}.`);
  };
  const rows = parseCsv(csv.text, name);
  if (rows.length === 0) bad('it is empty');
  const dir = normalizePath(csv.dir ?? '');
  const lookup = pathLookup(paths);
  const resolve = (cell: string): number | undefined => {
    const path = normalizePath(cell.trim());
    if (!path) return undefined;
    return lookup.exact.get(dir ? `${dir}/${path}` : path) ?? lookup.exact.get(path) ?? lookup.byBase.get(baseName(path));
  };

  // A header row names no file; a first row naming a file means there is no header.
  const width = Math.max(...rows.map((r) => r.length));
  const hasHeader = !rows[0].some((cell) => resolve(cell) !== undefined);
  const header = hasHeader ? rows[0].map((h) => h.trim()) : Array.from({ length: width }, (_, i) => String(i + 1));
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) bad('it has a header but no rows');
  const columns = header.map((h, i) => `'${h || `column ${i + 1}`}'`).join(', ');
  const columnIndex = (wanted: string, role: string): number => {
    const i = header.indexOf(wanted);
    const j = i >= 0 ? i : header.findIndex((h) => h.toLowerCase() === wanted.toLowerCase());
    return j >= 0 ? j : bad(`it has no ${role} column '${wanted}' (its columns: ${columns})`);
  };

  // File column: named, or the one whose cells name the most dataset files.
  let fileColumn: number;
  if (csv.fileColumn) {
    fileColumn = columnIndex(csv.fileColumn, 'file');
  } else {
    const sample = body.slice(0, 200);
    const hits = header.map((_, c) => sample.filter((row) => row[c] !== undefined && resolve(row[c]) !== undefined).length);
    const best = hits.indexOf(Math.max(...hits));
    const named = header.findIndex((h) => FILE_NAMES.includes(h.toLowerCase()));
    fileColumn = hits[best] > 0 ? best : named >= 0 ? named : bad(`none of its columns (${columns}) names the dataset's image files; give the file column`);
  }

  // Label column: named, a usual name, or the only other column.
  let labelColumn: number;
  if (csv.labelColumn) {
    labelColumn = columnIndex(csv.labelColumn, 'label');
  } else {
    const others = header.map((_, i) => i).filter((i) => i !== fileColumn);
    const usual = others.filter((i) => LABEL_NAMES.includes(header[i].toLowerCase()));
    if (usual.length === 1) labelColumn = usual[0];
    else if (others.length === 1) labelColumn = others[0];
    else {
      labelColumn = bad(
        others.length === 0
          ? 'it has only a file column, no label column'
          : `it has several columns that could hold the label (${others.map((i) => `'${header[i]}'`).join(', ')}); name the label column`,
      );
    }
  }
  if (labelColumn === fileColumn) bad(`the label column and the file column are both '${header[fileColumn]}'`);

  const labelOf = new Map<number, string>();
  let unusedRows = 0;
  body.forEach((row, r) => {
    const file = resolve(row[fileColumn] ?? '');
    if (file === undefined) {
      unusedRows++;
      return;
    }
    const value = (row[labelColumn] ?? '').trim();
    const line = r + (hasHeader ? 2 : 1);
    if (!value) bad(`row ${line} (${row[fileColumn]}) has an empty '${header[labelColumn]}'`);
    const earlier = labelOf.get(file);
    if (earlier !== undefined && earlier !== value) bad(`${paths[file]} has two labels ('${earlier}' and '${value}')`);
    labelOf.set(file, value);
  });
  const unlabeled = paths.filter((_, i) => !labelOf.has(i));
  if (unlabeled.length > 0) {
    const shown = unlabeled.slice(0, 3).join(', ');
    bad(`${unlabeled.length} of the ${paths.length} images have no row (e.g. ${shown}); add them or remove those images`);
  }
  const values = paths.map((_, i) => labelOf.get(i)!);
  const mapped = classIndices(values, classNames, `'${header[labelColumn]}' value`);
  return { ...mapped, labelColumn: header[labelColumn], fileColumn: header[fileColumn], unusedRows };
}

/** Dataset paths by full path, and by file name where that name is unique. */
export function pathLookup(paths: readonly string[]) {
  const exact = new Map<string, number>();
  const byBase = new Map<string, number>();
  const repeated = new Set<string>();
  paths.forEach((path, i) => {
    exact.set(path, i);
    const base = baseName(path);
    if (byBase.has(base)) repeated.add(base);
    byBase.set(base, i);
  });
  for (const base of repeated) byBase.delete(base);
  return { exact, byBase };
}
