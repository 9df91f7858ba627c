/**
 * NumPy .npy arrays: the exact tensors, for any kind of input (images already preprocessed, audio
 * features, token ids...).
 *
 * Files and inputs: a one-input model takes every .npy file; a model with several inputs takes, for
 * each input, the files named after it (the input's name, with characters other than letters,
 * digits, '-' and '_' replaced by '_', or "input<k>" / "input_<k>" / "<k>" for the k-th input), in
 * one folder or in one folder per sample ("0001/ids.npy", "0001/mask.npy", ...).
 *
 * Samples in a file: a file is [N, ...input shape without its batch of 1] (or [N, ...input shape],
 * or flat with a multiple of the input's element count), holding N samples; files are taken in
 * path order. Every input must end up with the same number of samples.
 *
 * Values: float arrays are real values (quantized on the way into a quantized input). Integer
 * arrays for a quantized input must have that input's dtype and hold quantized values (they are
 * dequantized to real values, and come back exactly when quantized). Integer arrays for float or
 * int32 inputs are taken as they are.
 *
 * Labels: a file "labels.npy" (or "y.npy"), not named after an input: N class indices, or [N, C]
 * one-hot / scores (argmax).
 */
import { elementCount } from '../tflite/shape';
import { WorkbenchError } from '../errors';
import type { Dataset, DatasetOptions } from './dataset-types';
import { checkIndex } from './dataset-types';
import { baseName, extensionOf, type DataFile } from './files';
import { readNpy, type NpyArray } from './npy';
import type { ModelInputInfo } from './preprocess';

const LABEL_FILES = ['labels.npy', 'label.npy', 'y.npy'];

interface Part {
  file: DataFile;
  /** Samples in this file. */
  count: number;
  /** Index of its first sample among the input's samples. */
  first: number;
  dtype: NpyArray['dtype'];
}

export async function openNpyDataset(files: DataFile[], inputs: ModelInputInfo[], options: DatasetOptions): Promise<Dataset> {
  const npyFiles = files.filter((f) => extensionOf(f.path) === '.npy');
  const matchers = inputs.map((input, k) => inputNames(input, k));
  const isInputFile = (f: DataFile) => matchers.some((names) => names.has(stem(f.path)));
  const labelFile = npyFiles.find((f) => LABEL_FILES.includes(baseName(f.path).toLowerCase()) && !isInputFile(f)) ?? null;
  const dataFiles = npyFiles.filter((f) => f !== labelFile);
  if (dataFiles.length === 0) throw new WorkbenchError('bad-input', `The dataset's only .npy file is ${labelFile?.path}, which holds labels: add the input arrays.`);

  // Files of each input.
  const perInput: DataFile[][] = inputs.map(() => []);
  if (inputs.length === 1) {
    perInput[0] = dataFiles;
  } else {
    for (const file of dataFiles) {
      const k = matchers.findIndex((names) => names.has(stem(file.path)));
      if (k < 0) {
        const expected = inputs.map((input, i) => `${sanitize(input.name)}.npy or input${i}.npy`).join(', ');
        throw new WorkbenchError('bad-input', `${file.path} is named after none of the model's ${inputs.length} inputs; name each array after its input (${expected}).`);
      }
      perInput[k].push(file);
    }
    perInput.forEach((list, k) => {
      if (list.length === 0) throw new WorkbenchError('bad-input', `No .npy array for input '${inputs[k].name}' (expected ${sanitize(inputs[k].name)}.npy or input${k}.npy).`);
    });
  }

  // Read every header once: sample counts, shapes and dtypes are checked before any run.
  const parts: Part[][] = [];
  const cache = new Map<DataFile, NpyArray>();
  for (let k = 0; k < inputs.length; k++) {
    const list: Part[] = [];
    let first = 0;
    for (const file of perInput[k]) {
      const array = readNpy(await file.read(), file.path);
      const count = samplesIn(array, inputs[k], file.path);
      checkDtype(array, inputs[k], file.path);
      if (count > 1) cache.set(file, array);
      list.push({ file, count, first, dtype: array.dtype });
      first += count;
    }
    parts.push(list);
  }
  const totals = parts.map((list) => list.reduce((n, p) => n + p.count, 0));
  if (totals.some((t) => t !== totals[0])) {
    const listed = inputs.map((input, k) => `'${input.name}': ${totals[k]}`).join(', ');
    throw new WorkbenchError('bad-input', `The inputs' arrays hold different numbers of samples (${listed}); each input needs one per sample.`);
  }
  const size = totals[0];
  if (size === 0) throw new WorkbenchError('bad-input', 'The .npy arrays hold no samples (their first dimension is 0).');

  const notes: string[] = [];
  let labels: (number | null)[] = new Array<number | null>(size).fill(null);
  if (labelFile) {
    labels = readLabels(readNpy(await labelFile.read(), labelFile.path), size, labelFile.path);
    notes.push(`Labels from ${labelFile.path}.`);
  }
  inputs.forEach((input, k) => {
    const ints = [...new Set(parts[k].map((p) => p.dtype).filter((d) => !d.startsWith('float')))];
    if (ints.length && !input.quantization && input.dtype === 'float32') {
      notes.push(`Input '${input.name}' is float but its arrays hold ${ints.join(', ')} values: they are fed as they are, without normalization.`);
    }
  });

  const names: string[] = [];
  for (const part of parts[0]) {
    for (let j = 0; j < part.count; j++) names.push(part.count === 1 ? part.file.path : `${part.file.path}[${j}]`);
  }

  async function sampleOf(k: number, i: number): Promise<Float32Array> {
    const list = parts[k];
    // Binary search for the file holding sample i.
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].first <= i) lo = mid;
      else hi = mid - 1;
    }
    const part = list[lo];
    const array = cache.get(part.file) ?? readNpy(await part.file.read(), part.file.path);
    const per = elementCount(inputs[k].shape);
    const offset = (i - part.first) * per;
    return toFloats(array, offset, per, inputs[k]);
  }

  return {
    kind: 'npy',
    size,
    names,
    labels,
    classNames: options.classNames ?? null,
    labelSource: labelFile ? 'npy' : null,
    inputs,
    preprocessing: inputs.map(() => null),
    notes,
    async sample(i: number): Promise<Float32Array[]> {
      checkIndex(size, i);
      const out: Float32Array[] = [];
      for (let k = 0; k < inputs.length; k++) out.push(await sampleOf(k, i));
      return out;
    },
  };
}

function stem(path: string): string {
  const base = baseName(path);
  return base.slice(0, base.length - '.npy'.length);
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

function inputNames(input: ModelInputInfo, k: number): Set<string> {
  return new Set([input.name, sanitize(input.name), `input${k}`, `input_${k}`, String(k)]);
}


/** How many samples of `input` the array holds, or a bad-input error saying what shape was expected. */
function samplesIn(array: NpyArray, input: ModelInputInfo, path: string): number {
  const per = elementCount(input.shape);
  const inner = input.shape[0] === 1 ? input.shape.slice(1) : input.shape;
  const shape = array.shape;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const count = elementCount(shape);
  const expected = `[${input.shape.join(', ')}], [${inner.join(', ')}], [N, ${inner.join(', ')}] or a flat array of N x ${per} values`;
  if (same(shape, input.shape) || same(shape, inner)) return 1;
  if (shape.length === inner.length + 1 && same(shape.slice(1), inner)) return shape[0];
  if (shape.length === input.shape.length + 1 && same(shape.slice(1), input.shape)) return shape[0];
  if (shape.length === 1 && per > 0 && count % per === 0) return count / per;
  throw new WorkbenchError('bad-input', `${path} has shape [${shape.join(', ')}], which does not fit input '${input.name}': expected ${expected}.`);
}

function checkDtype(array: NpyArray, input: ModelInputInfo, path: string): void {
  const float = array.dtype === 'float32' || array.dtype === 'float64';
  if (float || !input.quantization) return;
  if (array.dtype !== input.dtype) {
    throw new WorkbenchError(
      'bad-input',
      `${path} holds ${array.dtype} values but input '${input.name}' is quantized ${input.dtype}: save ${input.dtype} quantized values or float32 real values.`,
    );
  }
}

/** Elements [offset, offset + count) as real values (dequantized for quantized inputs). */
function toFloats(array: NpyArray, offset: number, count: number, input: ModelInputInfo): Float32Array {
  const out = new Float32Array(count);
  const data = array.data;
  const float = array.dtype === 'float32' || array.dtype === 'float64';
  const q = !float && input.quantization ? input.quantization : null;
  if (data instanceof BigInt64Array) {
    for (let j = 0; j < count; j++) out[j] = Number(data[offset + j]);
  } else if (q) {
    for (let j = 0; j < count; j++) out[j] = (data[offset + j] - q.zeroPoint) * q.scale;
  } else {
    for (let j = 0; j < count; j++) out[j] = data[offset + j];
  }
  return out;
}

function readLabels(array: NpyArray, size: number, path: string): number[] {
  const shape = array.shape;
  const values = Array.from(array.data as ArrayLike<number | bigint>, Number);
  const bad = (why: string): never => {
    throw new WorkbenchError('bad-input', `${path}: ${why}.`);
  };
  if (shape[0] !== size) bad(`it holds ${shape[0] ?? 0} labels for ${size} samples`);
  if (shape.length === 1 || (shape.length === 2 && shape[1] === 1)) {
    return values.map((v, i) => (Number.isInteger(v) && v >= 0 ? v : bad(`label ${i} is ${v}, not a class index`)));
  }
  if (shape.length === 2) {
    // One-hot or scores: the class with the highest value.
    const classes = shape[1];
    return Array.from({ length: size }, (_, i) => {
      let best = 0;
      for (let c = 1; c < classes; c++) if (values[i * classes + c] > values[i * classes + best]) best = c;
      return best;
    });
  }
  return bad(`labels have shape [${shape.join(', ')}]; expected [N] class indices or [N, classes]`);
}
