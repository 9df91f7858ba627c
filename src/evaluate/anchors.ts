/**
 * Anchors of a detector whose head outputs raw box regressions (one row per anchor): centre and
 * size, normalized to the input image (0..1), in TFLite_Detection_PostProcess's layout
 * (y_center, x_center, h, w per anchor, its third input).
 *
 * The file is a CSV with one anchor per row: with a header naming the columns (y_center / y,
 * x_center / x, h / height, w / width, in any order; other columns ignored) or without one, then
 * the four columns in that order.
 */
import { parseCsv } from '../data/csv';
import { WorkbenchError } from '../errors';

export interface Anchors {
  count: number;
  yCenter: Float32Array;
  xCenter: Float32Array;
  h: Float32Array;
  w: Float32Array;
}

const COLUMN_NAMES: Record<keyof Omit<Anchors, 'count'>, string[]> = {
  yCenter: ['y_center', 'ycenter', 'y', 'cy'],
  xCenter: ['x_center', 'xcenter', 'x', 'cx'],
  h: ['h', 'height'],
  w: ['w', 'width'],
};
const KEYS = ['yCenter', 'xCenter', 'h', 'w'] as const;

export function parseAnchorsCsv(text: string, fileName = 'the anchors file'): Anchors {
  const rows = parseCsv(text, fileName);
  if (!rows.length) throw new WorkbenchError('bad-input', `${fileName} holds no anchors.`);
  const first = rows[0].map((f) => f.trim().toLowerCase());
  const header = first.some((f) => f !== '' && !Number.isFinite(Number(f)));
  let columns: number[] = [0, 1, 2, 3];
  if (header) {
    columns = KEYS.map((key) => first.findIndex((f) => COLUMN_NAMES[key].includes(f)));
    const missing = KEYS.filter((_, k) => columns[k] < 0);
    if (missing.length) {
      throw new WorkbenchError('bad-input', `${fileName} has no column for ${missing.map((k) => COLUMN_NAMES[k][0]).join(', ')}; its header reads "${rows[0].join(',')}" (expected y_center,x_center,h,w).`);
    }
  }
  const body = header ? rows.slice(1) : rows;
  const anchors: Anchors = { count: body.length, yCenter: new Float32Array(body.length), xCenter: new Float32Array(body.length), h: new Float32Array(body.length), w: new Float32Array(body.length) };
  body.forEach((row, i) => {
    KEYS.forEach((key, k) => {
      const value = Number(row[columns[k]]?.trim());
      if (row[columns[k]] === undefined || row[columns[k]].trim() === '' || !Number.isFinite(value)) {
        throw new WorkbenchError('bad-input', `${fileName}, anchor ${i + 1} (line ${i + (header ? 2 : 1)}): "${row.join(',')}" needs four numbers y_center, x_center, h, w.`);
      }
      anchors[key][i] = value;
    });
  });
  if (!anchors.count) throw new WorkbenchError('bad-input', `${fileName} has a header but no anchors.`);
  return anchors;
}

/** The anchors as the CSV this module reads (with a header). */
export function anchorsToCsv(anchors: Anchors): string {
  const lines = ['y_center,x_center,h,w'];
  for (let i = 0; i < anchors.count; i++) lines.push(`${anchors.yCenter[i]},${anchors.xCenter[i]},${anchors.h[i]},${anchors.w[i]}`);
  return `${lines.join('\n')}\n`;
}
