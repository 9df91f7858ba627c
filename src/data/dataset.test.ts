/**
 * Datasets: layouts, labels, .npy and IDX inputs, and every way a dataset can fail to fit a model.
 * Real files from ../shared/data and real models in LiteRT; arrays written here are made from them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import type { RuntimeData } from '../runtime/types';
import { readModelMetadata } from '../tflite/metadata/read-metadata';
import { readModel } from '../tflite/read';
import { dataDir, modelsDir, readSharedModel, seededRandom } from '../test-support/shared';
import { modelSample, openDataset, randomIndices, subset, type Dataset, type DatasetOptions, type ModelInputInfo, type Preprocessing } from './dataset';
import { defaultPreprocessing, graphInputs } from './default-preprocessing';
import { fileFromBytes, type DataFile } from './files';
import { filesFromPath } from './files-node';
import { writeNpy, type NpyArray } from './npy';
import { toModelInput } from '../runtime/samples';

const IMAGENET = join(dataDir, 'imagenet_val_subset');
const imagenetLabels = readFileSync(join(modelsDir, 'imagenet_labels_1001.txt'), 'utf8').trim().split('\n');
const csvRows = readFileSync(join(IMAGENET, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
const imagenetImage = (file: string) => new Uint8Array(readFileSync(join(IMAGENET, file)));

const mobilenet = graphInputs(readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite')));
const mobilenetMeta = readModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'));
const mnist: ModelInputInfo[] = graphInputs(readModel(readSharedModel('mnist_conv_fc_float.tflite')));
const mnistInt8: ModelInputInfo[] = graphInputs(readModel(readSharedModel('mnist_conv_fc_int8.tflite')));
const imagenetPreprocessing: Preprocessing = defaultPreprocessing(mobilenetMeta).preprocessing!;

const npyFile = (path: string, array: NpyArray) => fileFromBytes(path, writeNpy(array));
const textFile = (path: string, text: string) => fileFromBytes(path, new TextEncoder().encode(text));

async function openError(files: DataFile[], inputs: ModelInputInfo[], options: DatasetOptions, message: RegExp): Promise<void> {
  const error = await openDataset(files, inputs, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkbenchError);
  expect((error as WorkbenchError).code).toBe('bad-input');
  expect((error as WorkbenchError).message).toMatch(message);
  expect((error as WorkbenchError).message).not.toContain('\n');
}

function argmax(data: RuntimeData): number {
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
  return best;
}

beforeAll(async () => {
  await initRuntime();
});

describe('image folders', () => {
  it('reads labels from one folder per class, mapped through the model labels', async () => {
    const rows = csvRows.slice(0, 12);
    const files = rows.map(([file, label1001]) => fileFromBytes(`${imagenetLabels[Number(label1001)]}/${file.split('/')[1]}`, imagenetImage(file)));
    const classNames = readModelMetadata(mobilenetMeta)!.labels!;
    const dataset = await openDataset(files, mobilenet, { preprocessing: imagenetPreprocessing, classNames });
    expect(dataset.labelSource).toBe('folders');
    expect(dataset.classNames).toBe(classNames);
    // Labels as the CSV says, in the files' (sorted) order.
    const expected = new Map(rows.map(([file, label]) => [file.split('/')[1], Number(label)]));
    expect(dataset.labels).toEqual(dataset.names.map((n) => expected.get(n.split('/')[1])));
    expect(dataset.notes[0]).toMatch(/class folders, mapped through the model's class names/);
  });

  it('numbers other class names in sorted order, and takes numeric folder names as indices', async () => {
    const images = csvRows.slice(0, 4).map(([file]) => imagenetImage(file));
    const sorted = await openDataset(
      ['zzz', 'aaa', 'mmm', 'aaa'].map((c, i) => fileFromBytes(`${c}/${i}.jpg`, images[i])),
      mobilenet,
      { preprocessing: imagenetPreprocessing, classNames: imagenetLabels },
    );
    expect(sorted.classNames).toEqual(['aaa', 'mmm', 'zzz']);
    expect(sorted.names).toEqual(['aaa/1.jpg', 'aaa/3.jpg', 'mmm/2.jpg', 'zzz/0.jpg']);
    expect(sorted.labels).toEqual([0, 0, 1, 2]);

    // The MNIST sample PNGs in digit folders, run through the float model.
    const digits: DataFile[] = [];
    for (let d = 0; d < 10; d++) digits.push(fileFromBytes(`${d}/sample.png`, new Uint8Array(readFileSync(join(dataDir, 'mnist_t10k', 'png_samples', `sample${d}.png`)))));
    const preprocessing = defaultPreprocessing(readModel(readSharedModel('mnist_conv_fc_float.tflite'))).preprocessing!;
    const dataset = await openDataset(digits, mnist, { preprocessing });
    expect(dataset.labels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const model = await loadModel(readSharedModel('mnist_conv_fc_float.tflite'));
    try {
      const predicted: number[] = [];
      for (let i = 0; i < dataset.size; i++) predicted.push(argmax((await model.run(await modelSample(dataset, i)))[0].data));
      expect(predicted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      model.delete();
    }
  });

  it('opens unlabeled images (baseline and progressive JPEG) and classifies them as expected', async () => {
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'sample_images')), mobilenet, { preprocessing: imagenetPreprocessing });
    expect(dataset.names).toEqual(['burger.jpg', 'cats_and_dogs.jpg', 'grace_hopper.jpg', 'multi_objects.jpg']);
    expect(dataset.labels).toEqual([null, null, null, null]);
    expect(dataset.notes).toEqual(['Ignored 1 file that is not JPEG or PNG (README.md).']);
    const model = await loadModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    try {
      const top: number[] = [];
      for (let i = 0; i < 3; i++) top.push(argmax((await model.run(await modelSample(dataset, i)))[0].data));
      expect(top[0]).toBe(934); // cheeseburger
      expect([152, 286]).toContain(top[1]); // Chihuahua / Egyptian cat (progressive JPEG)
      expect(top[2]).toBe(835); // suit
    } finally {
      model.delete();
    }
  });

  it('reads a labels CSV: explicit column, auto-detected file column, basenames, headerless', async () => {
    const files = await filesFromPath(IMAGENET);
    // labels.csv at the root has two label-like columns: opened unlabeled, with the reason.
    const auto = await openDataset(files, mobilenet, { preprocessing: imagenetPreprocessing });
    expect(auto.labelSource).toBeNull();
    expect(auto.notes[0]).toMatch(/^Opened without labels: labels\.csv: it has several columns that could hold the label \('label_1001', 'label_1000', 'wnid', 'name'\); name the label column\.$/);
    // Class names in a column: numbered in sorted order unless mapped.
    const byName = await openDataset(files, mobilenet, {
      preprocessing: imagenetPreprocessing,
      labelsCsv: { text: readFileSync(join(IMAGENET, 'labels.csv'), 'utf8'), name: 'labels.csv', labelColumn: 'wnid' },
    });
    expect(byName.classNames).toHaveLength(390);
    expect(byName.classNames![byName.labels[0]!]).toBe('n02951358');
    // Only the images folder, a CSV naming files by base name, without a header.
    const images = files.filter((f) => f.path.startsWith('images/')).slice(0, 20).map((f) => ({ ...f, path: f.path.slice('images/'.length) }));
    const text = csvRows.slice(0, 20).map(([file, label]) => `${file.split('/')[1]},${label}`).join('\r\n');
    const headerless = await openDataset(images, mobilenet, { preprocessing: imagenetPreprocessing, labelsCsv: { text } });
    expect(headerless.labels).toEqual(csvRows.slice(0, 20).map(([, label]) => Number(label)));
  });
});

describe('.npy arrays', () => {
  let mnistImages: Float32Array;
  let mnistLabels: number[];
  beforeAll(async () => {
    const idx = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), mnist);
    mnistImages = new Float32Array(100 * 784);
    for (let i = 0; i < 100; i++) mnistImages.set((await idx.sample(i))[0], i * 784);
    mnistLabels = idx.labels.slice(0, 100) as number[];
  });

  it('reads a stacked array with labels.npy, and per-sample files in folders', async () => {
    const stacked = await openDataset(
      [
        npyFile('x.npy', { dtype: 'float32', shape: [100, 28, 28, 1], data: mnistImages }),
        npyFile('labels.npy', { dtype: 'int64', shape: [100], data: BigInt64Array.from(mnistLabels, BigInt) }),
      ],
      mnist,
    );
    expect([stacked.kind, stacked.size, stacked.labelSource]).toEqual(['npy', 100, 'npy']);
    expect(stacked.labels).toEqual(mnistLabels);
    expect(stacked.names.slice(0, 2)).toEqual(['x.npy[0]', 'x.npy[1]']);
    expect((await stacked.sample(42))[0]).toEqual(mnistImages.subarray(42 * 784, 43 * 784));

    // One file per sample, [1, 28, 28, 1] or [28, 28, 1] or flat, one-hot labels.
    const oneHot = new Float32Array(3 * 10);
    mnistLabels.slice(0, 3).forEach((l, i) => (oneHot[i * 10 + l] = 1));
    const perSample = await openDataset(
      [
        npyFile('a/x.npy', { dtype: 'float32', shape: [1, 28, 28, 1], data: mnistImages.slice(0, 784) }),
        npyFile('b/x.npy', { dtype: 'float32', shape: [28, 28, 1], data: mnistImages.slice(784, 1568) }),
        npyFile('c/x.npy', { dtype: 'float64', shape: [784], data: Float64Array.from(mnistImages.subarray(1568, 2352)) }),
        npyFile('y.npy', { dtype: 'float32', shape: [3, 10], data: oneHot }),
      ],
      mnist,
    );
    expect(perSample.names).toEqual(['a/x.npy', 'b/x.npy', 'c/x.npy']);
    expect(perSample.labels).toEqual(mnistLabels.slice(0, 3));
    expect((await perSample.sample(2))[0]).toEqual(mnistImages.subarray(1568, 2352));
  });

  it('takes quantized int8 arrays for an int8 input and gives them back exactly', async () => {
    const q = mnistInt8[0];
    const quantized = toModelInput(mnistImages, q) as Int8Array;
    const dataset = await openDataset([npyFile('x.npy', { dtype: 'int8', shape: [100, 28, 28, 1], data: quantized })], mnistInt8);
    expect(Array.from((await modelSample(dataset, 7))[0])).toEqual(Array.from(quantized.subarray(7 * 784, 8 * 784)));
    const model = await loadModel(readSharedModel('mnist_conv_fc_int8.tflite'));
    try {
      let correct = 0;
      for (let i = 0; i < dataset.size; i++) if (argmax((await model.run(await modelSample(dataset, i)))[0].data) === mnistLabels[i]) correct++;
      expect(correct).toBeGreaterThanOrEqual(95);
    } finally {
      model.delete();
    }
  });

  it('feeds a model with several inputs (float and int32) one array per input, by name', async () => {
    const model = await loadModel(readSharedModel('ops/toy_model_with_kv_cache_multi_signature.tflite'));
    try {
      const random = seededRandom(7);
      const n = 3;
      const arrays = model.inputs.map((input) => {
        const per = input.shape.reduce((a, b) => a * b, 1);
        const data = input.dtype === 'int32' ? Int32Array.from({ length: n * per }, () => Math.floor(random() * 100)) : Float32Array.from({ length: n * per }, () => random() * 2 - 1);
        return { input, array: { dtype: input.dtype as 'int32' | 'float32', shape: [n, ...input.shape.slice(1)], data } };
      });
      // Files named after the inputs (in any order), e.g. tokens.npy, cache_0.npy.
      const files = [...arrays].reverse().map(({ input, array }) => npyFile(`${input.name}.npy`, array));
      const dataset = await openDataset(files, model.inputs);
      expect(dataset.size).toBe(n);
      const fed = await modelSample(dataset, 1);
      const direct = arrays.map(({ input, array }) => {
        const per = input.shape.reduce((a, b) => a * b, 1);
        return array.data.slice(per, 2 * per) as RuntimeData;
      });
      expect(fed.map((d) => d.constructor.name)).toEqual(['Float32Array', 'Float32Array', 'Int32Array', 'Int32Array']);
      expect(fed).toEqual(direct);
      const [viaDataset, viaArrays] = [await model.run(fed), await model.run(direct)];
      expect(viaDataset.map((o) => Array.from(o.data))).toEqual(viaArrays.map((o) => Array.from(o.data)));

      await openError(files.filter((f) => f.path !== 'cache_1.npy'), model.inputs, {}, /^No \.npy array for input 'cache_1' \(expected cache_1\.npy or input0\.npy\)\.$/);
      await openError([...files, npyFile('extra.npy', arrays[0].array)], model.inputs, {}, /^extra\.npy is named after none of the model's 4 inputs/);
      const short = { ...arrays[2].array, shape: [2, 100], data: (arrays[2].array.data as Int32Array).slice(0, 200) };
      await openError([...files.filter((f) => f.path !== 'tokens.npy'), npyFile('tokens.npy', short)], model.inputs, {}, /hold different numbers of samples \('cache_1': 3, 'cache_0': 3, 'tokens': 2, 'positions': 3\)/);
    } finally {
      model.delete();
    }
  });
});

describe('validation', () => {
  const burger = new Uint8Array(readFileSync(join(dataDir, 'sample_images', 'burger.jpg')));
  const mnistPng = new Uint8Array(readFileSync(join(dataDir, 'mnist_t10k', 'png_samples', 'sample3.png')));
  const images = [fileFromBytes('cat/a.jpg', burger), fileFromBytes('dog/b.jpg', burger)];
  const options = { preprocessing: imagenetPreprocessing };

  it('refuses empty datasets and datasets without usable files', async () => {
    await openError([], mobilenet, options, /^The dataset is empty: no files/);
    await openError([textFile('README.md', 'hi'), textFile('notes.txt', '')], mobilenet, options, /no JPEG\/PNG images, \.npy arrays or IDX files among its 2 files \(found: \.md, \.txt\)/);
  });

  it('refuses images the model cannot take', async () => {
    await openError(images, mobilenet, {}, /^Images need preprocessing for input 'input'/);
    const vww = graphInputs(readModel(readSharedModel('vww_96_float.tflite')));
    await openError(images, vww, options, /^The preprocessing makes 224x224x3 NHWC tensors but input 'input_1' \[1, 96, 96, 3\] takes 96x96x3 NHWC\.$/);
    await openError(images, mnist, options, /takes 28x28x1/);
    const audio = graphInputs(readModel(readSharedModel('audio_event_527_float.tflite')));
    await openError(images, audio, options, /^Input 'waveform_binary' has shape \[5360\], not an image of batch 1/);
    const text = graphInputs(readModel(readSharedModel('movie_review_text_classifier_float.tflite')));
    await openError(images, text, options, /^Input 'input_3' takes int32 values/);
    await openError(images, [mobilenet[0], mnist[0]], options, /^Image folders feed models with one input; this model has 2/);
    await openError(images, mobilenet, { preprocessing: { ...imagenetPreprocessing, mean: [1, 2] } }, /mean has 2 values; give 1, or one per channel \(3\)/);
  });

  it('names a corrupt image', async () => {
    await openError([fileFromBytes('a.jpg', burger.subarray(0, 300))], mobilenet, options, /^Cannot decode image a\.jpg: the JPEG data is corrupt/);
    const dataset = await openDataset([fileFromBytes('a.jpg', burger), fileFromBytes('b.png', burger)], mobilenet, options);
    await expect(dataset.sample(1)).resolves.toHaveLength(1); // JPEG bytes in a .png name: decoded by content
    const broken = await openDataset([fileFromBytes('a.jpg', burger), fileFromBytes('b.jpg', mnistPng.subarray(0, 40))], mobilenet, options);
    await expect(broken.sample(1)).rejects.toThrow(/^Cannot decode image b\.jpg: the PNG data is corrupt or unsupported/);
    await expect(broken.sample(2)).rejects.toThrow(/^No sample 2: the dataset has 2 samples \(0\.\.1\)\.$/);
  });

  it('refuses labels that do not cover the images', async () => {
    await openError([...images, fileFromBytes('c.jpg', burger)], mobilenet, options, /sit in 2 class folders, but 1 is outside any \(e\.g\. c\.jpg\)/);
    await openError(
      [fileFromBytes('tench/a.jpg', burger), fileFromBytes('not-a-label/b.jpg', burger)],
      mobilenet,
      { ...options, classNames: imagenetLabels },
      /^1 class folder \('not-a-label'\) match no class name of the model's 1001 labels while 1 others do/,
    );
    const csv = (text: string, labelColumn?: string) => ({ ...options, labelsCsv: { text, name: 'labels.csv', labelColumn } });
    await openError(images, mobilenet, csv('file,label\ncat/a.jpg,1\n'), /^labels\.csv: 1 of the 2 images have no row \(e\.g\. dog\/b\.jpg\)/);
    await openError(images, mobilenet, csv('file,label\ncat/a.jpg,1\ndog/b.jpg,2\n', 'class'), /^labels\.csv: it has no label column 'class' \(its columns: 'file', 'label'\)\.$/);
    await openError(images, mobilenet, csv('path,a,b\ncat/a.jpg,1,0.5\ndog/b.jpg,2,0.1\n'), /^labels\.csv: it has several columns that could hold the label \('a', 'b'\); name the label column\.$/);
    await openError(images, mobilenet, csv('file,label\ncat/a.jpg,1\ndog/b.jpg,\n'), /^labels\.csv: row 3 \(dog\/b\.jpg\) has an empty 'label'\.$/);
    await openError(images, mobilenet, csv('file,label\ncat/a.jpg,1\ndog/b.jpg,2\ncat/a.jpg,3\n'), /cat\/a\.jpg has two labels \('1' and '3'\)/);
    await openError(images, mobilenet, csv('a,b\nx,1\n'), /none of its columns \('a', 'b'\) names the dataset's image files/);
  });

  it('refuses .npy arrays of the wrong shape or dtype', async () => {
    const x = (shape: number[], dtype: NpyArray['dtype'] = 'float32') => {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = dtype === 'float32' ? new Float32Array(count) : dtype === 'uint8' ? new Uint8Array(count) : new Int8Array(count);
      return npyFile('x.npy', { dtype, shape, data });
    };
    await openError([x([10, 28, 28, 3])], mnist, {}, /^x\.npy has shape \[10, 28, 28, 3\], which does not fit input 'serving_default_conv2d_input:0': expected \[1, 28, 28, 1\], \[28, 28, 1\], \[N, 28, 28, 1\] or a flat array of N x 784 values\.$/);
    await openError([x([785])], mnist, {}, /has shape \[785\]/);
    await openError([x([2, 28, 28, 1], 'uint8')], mnistInt8, {}, /^x\.npy holds uint8 values but input 'serving_default_conv2d_input:0' is quantized int8: save int8 quantized values or float32 real values\.$/);
    await openError([x([0, 28, 28, 1])], mnist, {}, /hold no samples/);
    await openError([x([2, 28, 28, 1]), npyFile('labels.npy', { dtype: 'int32', shape: [3], data: new Int32Array(3) })], mnist, {}, /^labels\.npy: it holds 3 labels for 2 samples\.$/);
    const uint8 = await openDataset([x([2, 28, 28, 1], 'uint8')], mnist);
    expect(uint8.notes).toEqual(["Input 'serving_default_conv2d_input:0' is float but its arrays hold uint8 values: they are fed as they are, without normalization."]);
  });

  it('refuses IDX files that are not one image set', async () => {
    const idx = (path: string, dims: number[], type = 0x08) => {
      const header = new Uint8Array(4 + dims.length * 4);
      header.set([0, 0, type, dims.length]);
      dims.forEach((d, i) => new DataView(header.buffer).setUint32(4 + i * 4, d, false));
      const body = new Uint8Array(dims.reduce((a, b) => a * b, 1) * (type === 0x08 ? 1 : 4));
      const out = new Uint8Array(header.length + body.length);
      out.set(header);
      return fileFromBytes(path, out);
    };
    await openError([idx('a-images-idx3-ubyte', [2, 28, 28]), idx('b-images-idx3-ubyte', [2, 28, 28])], mnist, {}, /^2 IDX image files/);
    await openError([idx('a-images-idx3-ubyte', [2, 28, 28]), idx('a-labels-idx1-ubyte', [3])], mnist, {}, /has 2 images but the IDX labels \(a-labels-idx1-ubyte \(3\)\) do not have as many/);
    await openError([idx('a-images-idx3-ubyte', [2, 28, 28], 0x0d)], mnist, {}, /holds float32 values; IDX images must be uint8 pixels/);
    await openError([fileFromBytes('t-images-idx3-ubyte', new Uint8Array([0, 0, 8, 3, 0, 0]))], mnist, {}, /^Cannot read t-images-idx3-ubyte: its header is truncated\.$/);
    // 28x28 digits resized and copied to 3 channels for an RGB model.
    const rgb = await openDataset([idx('a-images-idx3-ubyte', [2, 28, 28])], mobilenet, { preprocessing: imagenetPreprocessing });
    expect((await rgb.sample(0))[0]).toHaveLength(224 * 224 * 3);
  });
});

describe('defaultPreprocessing', () => {
  const choose = (name: string) => defaultPreprocessing(readModel(readSharedModel(name)), 0);

  it('prefers metadata, then the quantization of uint8/int8 inputs, else asks', () => {
    expect(choose('mobilenet_v1_0.25_224_float_metadata.tflite')).toMatchObject({ source: 'metadata', needsUserInput: false, preprocessing: { width: 224, height: 224, channels: 3, mean: [127.5], std: [127.5] } });
    // int8 with scale 1/255, zero point -128: q = pixel - 128, i.e. [0, 1] floats.
    const mnistQ = choose('mnist_conv_fc_int8.tflite');
    expect(mnistQ).toMatchObject({ source: 'quantization', needsUserInput: false, preprocessing: { channels: 1, mean: [0] } });
    expect(mnistQ.preprocessing!.std[0]).toBeCloseTo(255.02, 2);
    expect(choose('resnet8_cifar10_int8.tflite').preprocessing).toMatchObject({ width: 32, mean: [0], std: [1] });
    expect(choose('vww_96_int8.tflite').reason).toMatch(/pixels 0\.\.255 span the input's range, \[0, 1\]/);
    const float = choose('mobilenet_v1_0.25_224_float.tflite');
    expect(float).toMatchObject({ source: 'suggested', needsUserInput: true, preprocessing: { mean: [127.5], std: [127.5] } });
    expect(choose('mnist_conv_fc_float.tflite')).toMatchObject({ source: 'suggested', needsUserInput: true, preprocessing: { mean: [0], std: [255] } });
    expect(choose('audio_event_527_float.tflite')).toMatchObject({ source: 'not-an-image', preprocessing: null, needsUserInput: false });
  });

  it('finds inputs by tensor or signature name', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_int8.tflite'));
    expect(defaultPreprocessing(graph, 'conv2d_input')).toEqual(defaultPreprocessing(graph, 'serving_default_conv2d_input:0'));
    expect(() => defaultPreprocessing(graph, 'nope')).toThrow(/^The model has no input 'nope' \(its inputs: 'serving_default_conv2d_input:0'\)\.$/);
    expect(() => defaultPreprocessing(graph, 3)).toThrow(/has 1 input; there is no input 3/);
  });
});

describe('subsets', () => {
  it('draws the same seeded calibration subset every time', async () => {
    expect(randomIndices(10, 4, 1)).toEqual(randomIndices(10, 4, 1));
    expect(new Set(randomIndices(1000, 1000, 3)).size).toBe(1000);
    expect(randomIndices(5, 10).sort()).toEqual([0, 1, 2, 3, 4]);
    const dataset: Dataset = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), mnist);
    const picked = randomIndices(dataset.size, 3, 42);
    const part = subset(dataset, picked);
    expect(part.size).toBe(3);
    expect(part.labels).toEqual(picked.map((i) => dataset.labels[i]));
    expect(await part.sample(2)).toEqual(await dataset.sample(picked[2]));
    await expect(part.sample(3)).rejects.toThrow(/^No sample 3: the dataset has 3 samples/);
  });
});
