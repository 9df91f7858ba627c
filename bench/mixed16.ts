/**
 * bench/mixed16: 16x8 ops inside an int8 model (recipe activationBitsByScope) against all-int8 and
 * all-16x8 on MobileNetV1 0.25: top-1 and output SQNR against the float model in LiteRT, calibrated on
 * images 0..calib-1 and evaluated on the next `eval`, file size, and LiteRT latency (median and 10th
 * percentile of `runs` timed runs on one seeded input, after 5 warm-up runs). Default recipe otherwise
 * (per channel, minmax, CLE auto, gptq rounding).
 * Run: npm run bench:mixed16 [-- --calib 100 --eval 200 --runs 50]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { compareModels } from '../src/evaluate/compare';
import { measureLatency } from '../src/evaluate/latency';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, type Recipe, type ScopedActivationBits } from '../src/optimize/recipe';
import { initRuntime } from '../src/runtime/start';
import { IMAGENET_CLASSIFIERS, imagenetSplit } from './imagenet-classifiers';

const { values } = parseArgs({ options: { calib: { type: 'string', default: '100' }, eval: { type: 'string', default: '200' }, runs: { type: 'string', default: '50' } } });
const calibCount = Number(values.calib);
const evalCount = Number(values.eval);
const runs = Number(values.runs);

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
console.log(`data: imagenet_val_subset, images 0..${calibCount - 1} calibrate, ${calibCount}..${calibCount + evalCount - 1} evaluate; latency: ${runs} runs\n`);

const at16 = (...scopes: ScopedActivationBits[]): Recipe => ({ ...defaultRecipe('int8'), activationBitsByScope: scopes });
const VARIANTS: [string, Recipe][] = [
  ['int8', defaultRecipe('int8')],
  ['first conv 16x8', at16({ tensorNamePattern: 'Conv2d_0/', bits: 16 })],
  ['first 3 layers 16x8', at16({ tensorNamePattern: 'Conv2d_0/|Conv2d_1_depthwise/|Conv2d_1_pointwise/', bits: 16 })],
  ['logits + softmax 16x8', at16({ tensorNamePattern: 'Logits/Conv2d_1c_1x1/', bits: 16 }, { opTypes: ['SOFTMAX'], bits: 16 })],
  ['every depthwise 16x8', at16({ opTypes: ['DEPTHWISE_CONV_2D'], bits: 16 })],
  ['int16x8', defaultRecipe('int16x8')],
];

const classifier = IMAGENET_CLASSIFIERS.find((c) => c.key === 'v1')!;
const bytes = classifier.bytes();
const { calibration, evaluation, labels } = await imagenetSplit(bytes, classifier, calibCount, evalCount);
const floatLatency = await measureLatency(bytes, { runs, seed: 1 });
const lowTail = (times: number[]) => [...times].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.1 * times.length) - 1)];
console.log(`| ${classifier.label} | ops at 16x8 | top-1 | output SQNR | size | latency median / p10 |`);
console.log('|---|---|---|---|---|---|');
let floatTop1 = 0;
for (const [name, recipe] of VARIANTS) {
  const result = await optimizeModel({ model: bytes, recipe, calibration });
  const compared = await compareModels(bytes, result.bytes, evaluation, { labels });
  floatTop1 = compared.classification.accuracy!.reference.top1;
  const latency = await measureLatency(result.bytes, { runs, seed: 1 });
  const ops16 = result.plan!.subgraphs[0].ops.filter((op) => op.precision === 'int16x8').length;
  console.log(
    `| ${name} | ${ops16} | ${(100 * compared.classification.accuracy!.candidate.top1).toFixed(1)}% | ${compared.outputs[0].sqnrDb.toFixed(1)} dB | ${(result.bytes.length / 1e3).toFixed(0)} kB | ${latency.medianMs.toFixed(2)} / ${lowTail(latency.timesMs).toFixed(2)} ms |`,
  );
}
console.log(`| float | - | ${(100 * floatTop1).toFixed(1)}% | - | ${(bytes.length / 1e3).toFixed(0)} kB | ${floatLatency.medianMs.toFixed(2)} / ${lowTail(floatLatency.timesMs).toFixed(2)} ms |`);
