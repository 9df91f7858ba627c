/**
 * IDX files (MNIST, Fashion-MNIST, EMNIST): one images file [N, H, W] (or [N, H, W, C]) of uint8
 * pixels and optionally one labels file [N]. The images go through the same preprocessing as
 * decoded image files (resize, channels, normalization); by default x / 255, i.e. [0, 1], the
 * convention of MNIST models.
 */
import { WorkbenchError } from '../errors';
import type { Dataset, DatasetOptions } from './dataset-types';
import { checkIndex } from './dataset-types';
import type { DataFile } from './files';
import { isIdxPath, readIdx, type IdxArray } from './idx';
import type { DecodedImage } from './image-decode';
import { preprocessingFor, singleImageInput } from './image-input';
import { preprocessImage, type ModelInputInfo, type Preprocessing } from './preprocess';

export async function openIdxDataset(files: DataFile[], inputs: ModelInputInfo[], options: DatasetOptions): Promise<Dataset> {
  const { input, image } = singleImageInput(inputs, 'IDX image files');
  const arrays: { file: DataFile; array: IdxArray }[] = [];
  for (const file of files.filter((f) => isIdxPath(f.path))) {
    arrays.push({ file, array: readIdx(await file.read(), file.path) });
  }
  const imageFiles = arrays.filter((a) => a.array.shape.length === 3 || a.array.shape.length === 4);
  const labelFiles = arrays.filter((a) => a.array.shape.length === 1);
  if (imageFiles.length !== 1) {
    const listed = imageFiles.map((a) => a.file.path).join(', ');
    throw new WorkbenchError(
      'bad-input',
      imageFiles.length === 0
        ? `None of the IDX files (${arrays.map((a) => `${a.file.path} [${a.array.shape.join(', ')}]`).join(', ')}) holds images [N, height, width].`
        : `${imageFiles.length} IDX image files (${listed}): give one (e.g. only the test set).`,
    );
  }
  const { file: imagesFile, array: images } = imageFiles[0];
  const [count, height, width, channels = 1] = images.shape;
  if (images.dtype !== 'uint8') {
    throw new WorkbenchError('bad-input', `${imagesFile.path} holds ${images.dtype} values; IDX images must be uint8 pixels.`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new WorkbenchError('bad-input', `${imagesFile.path} has ${channels} channels per pixel; expected 1 or 3.`);
  }
  if (count === 0) throw new WorkbenchError('bad-input', `${imagesFile.path} holds no images.`);

  const matching = labelFiles.filter((a) => a.array.shape[0] === count);
  if (labelFiles.length > 0 && matching.length !== 1) {
    const listed = labelFiles.map((a) => `${a.file.path} (${a.array.shape[0]})`).join(', ');
    throw new WorkbenchError(
      'bad-input',
      matching.length === 0
        ? `${imagesFile.path} has ${count} images but the IDX labels (${listed}) do not have as many.`
        : `Several IDX label files fit ${imagesFile.path} (${listed}): give one.`,
    );
  }
  const labelArray = matching[0]?.array;
  const notes: string[] = [];
  const given = preprocessingFor(options.preprocessing, input, image);
  const preprocessing: Preprocessing = given ?? {
    width: image.width,
    height: image.height,
    channels: image.channels,
    channelOrder: 'RGB',
    mean: [0],
    std: [255],
    resize: 'bilinear',
    ...(image.layout === 'NCHW' ? { layout: 'NCHW' as const } : {}),
  };
  if (!given) notes.push('IDX images scaled to [0, 1] (x / 255), the MNIST convention; give a preprocessing to change it.');
  if (labelArray) notes.push(`Labels from ${matching[0].file.path}, taken as class indices.`);

  const pixels = height * width * channels;
  const name = imagesFile.path;
  return {
    kind: 'idx',
    size: count,
    names: Array.from({ length: count }, (_, i) => `${name}[${i}]`),
    labels: Array.from({ length: count }, (_, i) => (labelArray ? Number(labelArray.data[i]) : null)),
    classNames: options.classNames ?? null,
    labelSource: labelArray ? 'idx' : null,
    inputs: [input],
    preprocessing: [preprocessing],
    notes,
    async sample(i: number): Promise<Float32Array[]> {
      checkIndex(count, i);
      const decoded: DecodedImage = {
        width,
        height,
        channels: channels as 1 | 3,
        data: (images.data as Uint8Array).subarray(i * pixels, (i + 1) * pixels),
      };
      return [preprocessImage(decoded, preprocessing)];
    },
  };
}
