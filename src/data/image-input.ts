/**
 * The checks shared by image-like datasets (image files, IDX): the model must have one image input,
 * and the preprocessing must produce exactly that input.
 */
import { WorkbenchError } from '../errors';
import { checkPreprocessing, imageInputShape, type ImageInputShape, type ModelInputInfo, type Preprocessing } from './preprocess';

/** The model's single image input, or a bad-input error saying why images cannot feed it. */
export function singleImageInput(inputs: ModelInputInfo[], what: string): { input: ModelInputInfo; image: ImageInputShape } {
  if (inputs.length !== 1) {
    const names = inputs.map((i) => `'${i.name}'`).join(', ');
    throw new WorkbenchError('bad-input', `${what} feed models with one input; this model has ${inputs.length} (${names}): give .npy arrays, one per input.`);
  }
  const input = inputs[0];
  if (input.dtype === 'int32') {
    throw new WorkbenchError('bad-input', `Input '${input.name}' takes int32 values (ids or indices), not image pixels: give .npy arrays.`);
  }
  const image = imageInputShape(input.shape);
  if (!image) {
    throw new WorkbenchError(
      'bad-input',
      `Input '${input.name}' has shape [${input.shape.join(', ')}], not an image of batch 1 (expected [1, height, width, 1 or 3]): give .npy arrays.`,
    );
  }
  return { input, image };
}

/** The preprocessing for input 0 from the options (one value or one per input), checked against the input. */
export function preprocessingFor(
  option: Preprocessing | null | (Preprocessing | null)[] | undefined,
  input: ModelInputInfo,
  image: ImageInputShape,
): Preprocessing | null {
  const p = Array.isArray(option) ? option[0] ?? null : option ?? null;
  if (!p) return null;
  checkPreprocessing(p, `preprocessing for input '${input.name}'`);
  const layout = p.layout ?? 'NHWC';
  if (p.width !== image.width || p.height !== image.height || p.channels !== image.channels || layout !== image.layout) {
    throw new WorkbenchError(
      'bad-input',
      `The preprocessing makes ${p.width}x${p.height}x${p.channels} ${layout} tensors but input '${input.name}' [${input.shape.join(', ')}] takes ${image.width}x${image.height}x${image.channels} ${image.layout}.`,
    );
  }
  return p;
}
