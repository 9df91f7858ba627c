/**
 * Ground-truth masks for a segmentation model: one PNG per image in a masks folder, matched to the
 * image by file stem (`img001.jpg` <-> `img001.png`, the relative path first, else the file name
 * where it is unique). Each pixel holds a class id: a grayscale PNG's value (8 or 16 bits, or fewer)
 * divided by `scale` (tflite-support's golden masks store class x 10), or an indexed-colour PNG's
 * palette index (PASCAL VOC's SegmentationClass format: the colours are only for viewing). The
 * `ignore` value (255 by default, VOC's void border) marks pixels that count in no class.
 *
 * Masks are resized to the model's output grid nearest-neighbour (a class id cannot be averaged),
 * so a mask of the original photo scores the model's low-resolution output. Every refusal names the
 * mask file.
 */
import { decode as decodePngData } from 'fast-png';
import { WorkbenchError } from '../errors';
import { baseName, extensionOf, type DataFile } from './files';
import { imageFormat } from './image-decode';

/** The folder a data folder or zip may carry at its root (the page reads it like boxes.csv). */
export const MASKS_FOLDER = 'masks';
/** PASCAL VOC's void label: the border around objects, not counted. */
export const DEFAULT_MASK_IGNORE = 255;

/** The model's output grid the masks are scored on. */
export interface MaskGrid {
  height: number;
  width: number;
  classes: number;
}

export interface MaskOptions {
  /** Stored value = class id x scale (default 1). */
  scale?: number;
  /** Stored value of pixels counted in no class (default 255; null: none). */
  ignore?: number | null;
}

/** Class per output pixel; void pixels hold a value >= the class count (confusion() skips them). */
export type ClassMask = Uint8Array | Uint16Array;

export interface MaskLabels {
  /** The masks folder, for notes and messages. */
  name: string;
  /** Per sample, in the data set's order: the class of each pixel of the output grid (row-major). */
  perSample: ClassMask[];
  grid: MaskGrid;
  scale: number;
  ignore: number | null;
  /** Pixels (on the output grid) holding the ignore value, over all masks. */
  ignoredPixels: number;
  /** Masks whose size differed from the output grid (resized nearest-neighbour). */
  resized: number;
  /** Masks that were indexed-colour PNGs (palette index = class). */
  indexed: number;
  /** Mask files naming no image of the data set. */
  unused: string[];
}

interface RawMask {
  width: number;
  height: number;
  /** One stored value per pixel (palette index or gray level, as stored). */
  values: Uint8Array | Uint16Array;
  indexed: boolean;
}

/**
 * The mask of every sample named in `names` (the data set's file paths). `files`: the masks
 * folder's files, their paths relative to it; `folder` names it in messages. Throws WorkbenchError
 * ('bad-input') naming the file for a non-PNG file, a missing mask, an RGB mask, or a value that is
 * no class of the model.
 */
export async function maskLabelsFromFiles(files: readonly DataFile[], names: readonly string[], grid: MaskGrid, options: MaskOptions = {}, folder = MASKS_FOLDER): Promise<MaskLabels> {
  const scale = options.scale ?? 1;
  const ignore = options.ignore === undefined ? DEFAULT_MASK_IGNORE : options.ignore;
  if (!Number.isInteger(scale) || scale < 1) throw new WorkbenchError('bad-input', `The mask scale must be a whole number from 1, got ${scale}.`);
  if (ignore !== null && !(Number.isInteger(ignore) && ignore >= 0 && ignore <= 65535)) throw new WorkbenchError('bad-input', `The mask ignore value must be a whole number 0..65535, got ${ignore}.`);
  const shown = (path: string) => `${folder}/${path}`;

  const notPng = files.find((f) => extensionOf(f.path) !== '.png');
  if (notPng) throw new WorkbenchError('bad-input', `${shown(notPng.path)} is not a PNG: masks must be PNG files (lossless; one class id per pixel), named like their images.`);
  if (files.length === 0) throw new WorkbenchError('bad-input', `${folder} holds no PNG masks.`);

  const byStem = new Map<string, DataFile>();
  const byBase = new Map<string, DataFile | null>();
  for (const f of files) {
    byStem.set(stemOf(f.path), f);
    const base = stemOf(baseName(f.path));
    byBase.set(base, byBase.has(base) ? null : f);
  }
  const matched = names.map((name) => byStem.get(stemOf(name)) ?? byBase.get(stemOf(baseName(name))) ?? undefined);
  const missing = names.filter((_, i) => !matched[i]);
  if (missing.length) {
    const first = missing[0];
    throw new WorkbenchError(
      'bad-input',
      `No mask for image ${first}: expected ${shown(`${stemOf(first)}.png`)}${missing.length > 1 ? ` (${missing.length} of the ${names.length} images have none)` : ''}.`,
    );
  }
  const used = new Set(matched);

  const perSample: ClassMask[] = [];
  let ignoredPixels = 0;
  let resized = 0;
  let indexed = 0;
  for (const file of matched as DataFile[]) {
    const raw = decodeMask(await file.read(), shown(file.path));
    const lookup = classLookup(raw, grid.classes, scale, ignore, shown(file.path));
    const mask = onGrid(raw, lookup, grid);
    if (raw.width !== grid.width || raw.height !== grid.height) resized++;
    if (raw.indexed) indexed++;
    for (let i = 0; i < mask.length; i++) if (mask[i] >= grid.classes) ignoredPixels++;
    perSample.push(mask);
  }
  return { name: folder, perSample, grid, scale, ignore, ignoredPixels, resized, indexed, unused: files.filter((f) => !used.has(f)).map((f) => f.path) };
}

function stemOf(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? path.slice(0, path.length - base.length + dot) : path;
}

/** The PNG's stored values, one per pixel: grayscale (gray + alpha: the gray) or palette indices. */
function decodeMask(bytes: Uint8Array, name: string): RawMask {
  if (imageFormat(bytes) !== 'png') throw new WorkbenchError('bad-input', `${name} is not a PNG file (its bytes are not PNG's): masks must be PNG.`);
  let png: ReturnType<typeof decodePngData>;
  try {
    png = decodePngData(bytes, { checkCrc: false });
  } catch (error) {
    throw new WorkbenchError('bad-input', `Cannot decode the mask ${name}: ${(error instanceof Error ? error.message : String(error)).trim() || 'corrupt PNG data'}.`);
  }
  const { width, height, channels, depth } = png;
  const isIndexed = Boolean(png.palette);
  if (!isIndexed && channels !== 1 && channels !== 2) {
    throw new WorkbenchError('bad-input', `${name} is a colour (RGB${channels === 4 ? 'A' : ''}) PNG: a mask holds one class id per pixel, as a grayscale or an indexed-colour (palette) PNG.`);
  }
  const values = unpack(png.data, width, height, isIndexed ? 1 : channels, depth, name);
  return { width, height, values, indexed: isIndexed };
}

/** Channel 0 of each pixel, as stored (no scaling of low bit depths: a 1-bit mask holds 0 and 1). */
function unpack(data: ArrayLike<number>, width: number, height: number, channels: number, depth: number, name: string): Uint8Array | Uint16Array {
  const pixels = width * height;
  if (depth >= 8) {
    if (data.length < pixels * channels) throw new WorkbenchError('bad-input', `Cannot decode the mask ${name}: truncated image data.`);
    const out = depth === 16 ? new Uint16Array(pixels) : new Uint8Array(pixels);
    if (channels === 1) out.set(depth === 16 ? (data as Uint16Array).subarray(0, pixels) : (data as Uint8Array).subarray(0, pixels));
    else for (let p = 0; p < pixels; p++) out[p] = data[p * channels];
    return out;
  }
  // 1, 2 or 4 bits (gray or palette): rows packed MSB first, each padded to a byte.
  const bytesPerRow = Math.ceil((width * depth) / 8);
  if (data.length < bytesPerRow * height) throw new WorkbenchError('bad-input', `Cannot decode the mask ${name}: truncated image data.`);
  const max = (1 << depth) - 1;
  const out = new Uint8Array(pixels);
  for (let y = 0; y < height; y++) {
    const row = y * bytesPerRow;
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (data[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
    }
  }
  return out;
}

/**
 * Stored value -> class (the void code, = classes or more, for the ignore value), over the values
 * the mask holds; a value that is no class is refused naming the file, with the hint when the values
 * look stored as class x 10.
 */
function classLookup(raw: RawMask, classes: number, scale: number, ignore: number | null, name: string): Uint16Array {
  const size = raw.values instanceof Uint16Array ? 65536 : 256;
  const present = new Uint8Array(size);
  for (let i = 0; i < raw.values.length; i++) present[raw.values[i]] = 1;
  const voidCode = classes <= 255 ? 255 : 65535;
  const lookup = new Uint16Array(size);
  const values: number[] = [];
  for (let v = 0; v < size; v++) if (present[v] && v !== ignore) values.push(v);
  const what = raw.indexed ? 'palette index' : 'value';
  for (let v = 0; v < size; v++) {
    if (!present[v]) continue;
    if (v === ignore) {
      lookup[v] = voidCode;
      continue;
    }
    const classId = v / scale;
    if (!Number.isInteger(classId) || classId >= classes) {
      const why = Number.isInteger(classId) ? `class ${classId}` : `not a multiple of the scale ${scale}`;
      const ignoreText = ignore === null ? 'no ignore value' : `ignore value ${ignore}`;
      throw new WorkbenchError(
        'bad-input',
        `${name}: ${what} ${v} is no class of the model's ${classes} (0..${classes - 1}) at scale ${scale} (${why}; ${ignoreText}).${scaleHint(values, classes, scale)}`,
      );
    }
    lookup[v] = classId;
  }
  return lookup;
}

/** Values all multiples of 10 that would fit the classes once divided: say so (never assumed). */
export function scaleHint(values: readonly number[], classes: number, scale: number): string {
  if (scale !== 1 || values.length === 0) return '';
  const max = Math.max(...values);
  if (max < classes || !values.every((v) => v % 10 === 0) || max / 10 >= classes) return '';
  return ` The values look scaled: all are multiples of 10 (${values.slice(0, 6).join(', ')}${values.length > 6 ? ', ...' : ''}); if they store class x 10, set the mask scale to 10.`;
}

/** The mask's classes on the output grid, nearest-neighbour from its own size. */
function onGrid(raw: RawMask, lookup: Uint16Array, grid: MaskGrid): ClassMask {
  const out = grid.classes <= 255 ? new Uint8Array(grid.width * grid.height) : new Uint16Array(grid.width * grid.height);
  const rows = Uint32Array.from({ length: grid.height }, (_, y) => Math.min(raw.height - 1, Math.floor(((y + 0.5) * raw.height) / grid.height)));
  const cols = Uint32Array.from({ length: grid.width }, (_, x) => Math.min(raw.width - 1, Math.floor(((x + 0.5) * raw.width) / grid.width)));
  for (let y = 0; y < grid.height; y++) {
    const from = rows[y] * raw.width;
    const to = y * grid.width;
    for (let x = 0; x < grid.width; x++) out[to + x] = lookup[raw.values[from + cols[x]]];
  }
  return out;
}

/** The masks of the samples at `indices` (in that order), e.g. for a subset of the data set. */
export function maskLabelsAt(labels: MaskLabels, indices: readonly number[]): MaskLabels {
  const perSample = indices.map((i) => labels.perSample[i]);
  let ignoredPixels = 0;
  for (const mask of perSample) for (let i = 0; i < mask.length; i++) if (mask[i] >= labels.grid.classes) ignoredPixels++;
  return { ...labels, perSample, ignoredPixels };
}

/** "masks: 1 image, values / 10, 3,210 pixels at 255 not counted, 1 resized nearest-neighbour to 257x257". */
export function maskLabelsText(labels: MaskLabels): string {
  const n = labels.perSample.length;
  const parts = [`${labels.name}: ${n} image${n === 1 ? '' : 's'}`];
  if (labels.indexed) parts.push(`${labels.indexed === n ? 'all' : labels.indexed} indexed-colour (palette index = class)`);
  if (labels.scale !== 1) parts.push(`values / ${labels.scale}`);
  if (labels.ignore !== null) parts.push(`${labels.ignoredPixels.toLocaleString('en-US')} pixel${labels.ignoredPixels === 1 ? '' : 's'} at ${labels.ignore} not counted`);
  if (labels.resized) parts.push(`${labels.resized} resized nearest-neighbour to the output's ${labels.grid.width}x${labels.grid.height}`);
  if (labels.unused.length) parts.push(`${labels.unused.length} mask${labels.unused.length === 1 ? '' : 's'} naming no image (${labels.unused.slice(0, 3).join(', ')}${labels.unused.length > 3 ? ', ...' : ''}) unused`);
  return parts.join(', ');
}
