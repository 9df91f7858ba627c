/**
 * bench/equalize: what cross-layer equalization (src/optimize/equalize.ts) buys int8, to choose the
 * recipe's 'auto'. ImageNet top-1 in LiteRT of the float model and of int8 per-tensor / per-channel
 * without and with CLE, calibrated on images 0..99 and evaluated on 100..499; and, for the MediaPipe
 * float16 models, SQNR of every output of per-channel int8 against the float16 model on photos.
 * Run: npm run bench:equalize [-- --eval 400 --mediapipe-eval 50]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset';
import { defaultPreprocessing, graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { runtimeReals } from '../src/engine/engine-test-support';
import { compareModels } from '../src/evaluate/compare';
import { IMAGENET_CLASSIFIERS, imagenetSplit } from './imagenet-classifiers';
import { sqnrDb } from '../src/evaluate/metrics';
import { initRuntime } from '../src/runtime/start';
import { loadModel } from '../src/runtime/load';
import type { Sample } from '../src/runtime/samples';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, type EqualizeMode, type Granularity } from '../src/optimize/recipe';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({ options: { calib: { type: 'string', default: '100' }, eval: { type: 'string', default: '400' }, 'mediapipe-eval': { type: 'string', default: '50' } } });
const calibCount = Number(values.calib);
const evalCount = Number(values.eval);
const mediapipeEval = Number(values['mediapipe-eval']);

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
console.log(`data: imagenet_val_subset, images 0..${calibCount - 1} calibrate, ${calibCount}..${calibCount + evalCount - 1} evaluate; int8 minmax ranges, bias correction on\n`);

const VARIANTS: { granularity: Granularity; equalize: EqualizeMode }[] = [
  { granularity: 'per-tensor', equalize: 'off' },
  { granularity: 'per-tensor', equalize: 'on' },
  { granularity: 'per-channel', equalize: 'off' },
  { granularity: 'per-channel', equalize: 'on' },
];

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const cleNotes = (notes: string[]) => notes.filter((n) => n.startsWith('cross-layer')).map((n) => n.replace('cross-layer equalization: ', ''));

console.log('| model | float | int8 per-tensor | + CLE | int8 per-channel | + CLE |');
console.log('|---|---|---|---|---|---|');
const details: string[] = [];
for (const classifier of IMAGENET_CLASSIFIERS) {
  const { label } = classifier;
  const bytes = classifier.bytes();
  const { calibration, evaluation, labels } = await imagenetSplit(bytes, classifier, calibCount, evalCount);
  const cells: string[] = [];
  let floatTop1 = 0;
  for (const { granularity, equalize } of VARIANTS) {
    const recipe = { ...defaultRecipe('int8'), granularity, equalize };
    const started = performance.now();
    const result = await optimizeModel({ model: bytes, recipe, calibration, skipCheck: true });
    const seconds = (performance.now() - started) / 1000;
    const compared = await compareModels(bytes, result.bytes, evaluation, { labels });
    floatTop1 = compared.classification.accuracy!.reference.top1;
    cells.push(`${pct(compared.classification.accuracy!.candidate.top1)} (${compared.outputs[0].sqnrDb.toFixed(1)} dB)`);
    details.push(`- ${label}, ${granularity}, CLE ${equalize}: ${seconds.toFixed(1)} s; ${cleNotes(result.notes).join('; ') || 'no CLE'}`);
  }
  console.log(`| ${label} | ${pct(floatTop1)} | ${cells.join(' | ')} |`);
}
console.log('\ntop-1 on the evaluation images (output SQNR against the float model)\n');
console.log(details.join('\n'));

// MediaPipe float16 models: per-channel int8 without / with CLE, SQNR of each output against the float16 model.
const files = await filesFromPath(join(dataDir, 'imagenet_val_subset'));
const MEDIAPIPE = [
  { name: 'face_detection_short_range_fp16.tflite', mean: 127.5, std: 127.5 },
  { name: 'selfie_segmentation_fp16.tflite', mean: 0, std: 255 },
  { name: 'pose_landmark_lite_fp16.tflite', mean: 0, std: 255 },
];

async function outputsOn(bytes: Uint8Array, samples: Sample[]): Promise<Float32Array[][]> {
  const model = await loadModel(bytes);
  try {
    const rows: Float32Array[][] = [];
    for (const sample of samples) rows.push(runtimeReals(model, await model.run(sample as Float32Array[])));
    return rows;
  } finally {
    model.delete();
  }
}

const sqnrPerOutput = (reference: Float32Array[][], got: Float32Array[][]) =>
  reference[0].map((_, o) => sqnrDb(Float32Array.from(reference.flatMap((r) => Array.from(r[o]))), Float32Array.from(got.flatMap((r) => Array.from(r[o])))));

console.log(`\nMediaPipe float16 models, int8 per-channel: SQNR per output (dB) against the float16 model, images ${calibCount}..${calibCount + mediapipeEval - 1}\n`);
console.log('| model | CLE off | CLE on | CLE on: pairs |');
console.log('|---|---|---|---|');
for (const { name, mean, std } of MEDIAPIPE) {
  const bytes = readSharedModel(name);
  const graph = readModel(bytes);
  const dataset = await openDataset(files, graphInputs(graph), {
    preprocessing: graph.subgraphs[0].inputs.map((_, i) => ({ ...defaultPreprocessing(graph, i).preprocessing!, mean: [mean], std: [std] })),
  });
  const samples: Sample[] = [];
  for (let i = 0; i < calibCount + mediapipeEval; i++) samples.push(await dataset.sample(i));
  const calibration = samples.slice(0, calibCount);
  const evaluation = samples.slice(calibCount);
  const reference = await outputsOn(bytes, evaluation);
  const cells: string[] = [];
  let pairs = '';
  for (const equalize of ['off', 'on'] as const) {
    const result = await optimizeModel({ model: bytes, recipe: { ...defaultRecipe('int8'), equalize }, calibration, skipCheck: true });
    cells.push(sqnrPerOutput(reference, await outputsOn(result.bytes, evaluation)).map((v) => v.toFixed(1)).join(' / '));
    if (equalize === 'on') pairs = cleNotes(result.notes).join('; ');
  }
  console.log(`| ${name} | ${cells.join(' | ')} | ${pairs} |`);
}
