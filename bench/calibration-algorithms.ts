/**
 * bench/calibration-algorithms: accuracy of int8 with each calibration algorithm on the shared
 * labelled data, to choose the default. Run: npx tsx bench/calibration-algorithms.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset, randomIndices, type Dataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { compareModels } from '../src/evaluate/compare';
import { initRuntime } from '../src/runtime/start';
import type { Sample } from '../src/runtime/samples';
import { optimizeModel } from '../src/optimize/pipeline';
import { CALIBRATION_ALGORITHMS, defaultRecipe } from '../src/optimize/recipe';
import { readModel } from '../src/tflite/read';
import { dataDir, readSharedModel } from '../src/test-support/shared';

await initRuntime();
const all = async (d: Dataset): Promise<Sample[]> => Promise.all(Array.from({ length: d.size }, (_, i) => d.sample(i)));

const mnistModel = readSharedModel('mnist_conv_fc_float.tflite');
const mnist = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(mnistModel)));
const mobilenetModel = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
const root = join(dataDir, 'imagenet_val_subset');
const imagenet = await openDataset(await filesFromPath(root), graphInputs(readModel(mobilenetModel)), {
  preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
  labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
});

console.log('| model (data) | float | ' + CALIBRATION_ALGORITHMS.join(' | ') + ' |');
console.log('|---|---|' + CALIBRATION_ALGORITHMS.map(() => '---').join('|') + '|');
for (const [label, model, dataset, calibrationCount] of [
  ['MNIST CNN (10,000 digits, 200 calibration)', mnistModel, mnist, 200],
  ['MobileNetV1 0.25 (500 images, 100 calibration)', mobilenetModel, imagenet, 100],
] as const) {
  const samples = await all(dataset);
  const labels = dataset.labels as number[];
  const calibration = randomIndices(dataset.size, calibrationCount, 0).map((i) => samples[i]);
  const cells: string[] = [];
  let floatTop1 = 0;
  for (const algorithm of CALIBRATION_ALGORITHMS) {
    const recipe = { ...defaultRecipe('int8'), calibration: { ...defaultRecipe('int8').calibration, algorithm } };
    const { bytes } = await optimizeModel({ model, recipe, calibration, skipCheck: true });
    const result = await compareModels(model, bytes, samples, { labels });
    floatTop1 = result.classification.accuracy!.reference.top1;
    cells.push(`${(100 * result.classification.accuracy!.candidate.top1).toFixed(2)}% (SQNR ${result.outputs[0].sqnrDb.toFixed(1)} dB)`);
  }
  console.log(`| ${label} | ${(100 * floatTop1).toFixed(2)}% | ${cells.join(' | ')} |`);
}
