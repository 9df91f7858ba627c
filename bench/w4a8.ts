/**
 * bench/w4a8: full-integer int4 weights (W4A8 = int8 + --weights int4, W4A16 = int16x8 + --weights int4)
 * against int8 and int16x8 on ImageNet classifiers: file size against int8, output SQNR against the
 * float model and top-1 in LiteRT, calibrated on images 0..calib-1 and evaluated on the next `eval`
 * images (never seen by calibration). Round-to-nearest int4 weights, depthwise convolutions int8 (the
 * default); the notes say which ops got which bits. Default recipe otherwise (per channel, minmax,
 * CLE auto, bias correction on). The last column keeps the first and last op with weights at int8
 * through a tensor-name weightBitsByScope entry; 'W4A8 first-int8' only the first (the convolution on
 * the image). --int4-inputs / --refit-layers: which inputs int4 layers are rounded for
 * (src/optimize/rounding/quantized-rounding.ts). Cells also give top-1 agreement with the float model.
 * Select a variant whose name holds a comma by leaving --variants out.
 * 'W4A8+absorb' turns high-bias absorption on (off by default); 'W4A8 all-int4' / 'W4A16 all-int4' make
 * the smallest layers int4 too (recipe.ts SMALL_INT4_SHARE keeps them int8 by default).
 * `--folds K`: every one of the calib + eval images is held out once: K times, calibrate on the first
 * `calib` of the others and evaluate the held-out fold; top-1 and agreement pool the folds, SQNR is
 * their mean.
 * Run: npm run bench:w4a8 [-- --calib 100 --eval 400 --models v1,v2 --variants int8,W4A8,W4A8+absorb --output-bias-passes 1 --output-bias-ops last --int4-inputs asymmetric --refit-layers 1 --folds 5]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { compareModels } from '../src/evaluate/compare';
import { IMAGENET_CLASSIFIERS, imagenetFolds, imagenetSplit } from './imagenet-classifiers';
import { initRuntime } from '../src/runtime/start';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, type Recipe } from '../src/optimize/recipe';
import type { ModelGraph } from '../src/tflite/graph';
import { opName } from '../src/tflite/ops';
import { readModel } from '../src/tflite/read';
import type { Int4Inputs } from '../src/optimize/rounding/quantized-rounding';
import type { Sample } from '../src/runtime/samples';

const { values } = parseArgs({ options: { calib: { type: 'string', default: '100' }, eval: { type: 'string', default: '400' }, models: { type: 'string', default: 'v1,v2' }, variants: { type: 'string' }, 'output-bias-passes': { type: 'string' }, 'output-bias-ops': { type: 'string' }, 'int4-inputs': { type: 'string' }, 'refit-layers': { type: 'string' }, folds: { type: 'string', default: '1' } } });
// Inputs int4 layers are rounded for (src/optimize/rounding/quantized-rounding.ts): float / quantized / asymmetric; default the pipeline's.
const int4Inputs = values['int4-inputs'] as Int4Inputs | undefined;
// Output bias correction (src/optimize/quantize/output-bias.ts): passes (0: off) and ops ('last' / 'int4' / 'all'; 'all' reaches int8 models too); default the pipeline's (1, 'int4').
const outputBias = {
  ...(values['output-bias-passes'] !== undefined ? { passes: Number(values['output-bias-passes']) } : {}),
  ...(values['output-bias-ops'] ? { ops: values['output-bias-ops'] as 'int4' | 'all' | 'last' } : {}),
};
const calibCount = Number(values.calib);
const evalCount = Number(values.eval);

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
const folds = Number(values.folds);
console.log(
  folds > 1
    ? `data: imagenet_val_subset, images 0..${calibCount + evalCount - 1} in ${folds} folds: each held out once and evaluated, the first ${calibCount} of the others calibrate\n`
    : `data: imagenet_val_subset, images 0..${calibCount - 1} calibrate, ${calibCount}..${calibCount + evalCount - 1} evaluate\n`,
);


/** W4A8 with the first and the last op that has weights kept at int8 (a common mixed-precision choice), by tensor-name scope. */
function firstLastInt8(graph: ModelGraph): Recipe {
  const main = graph.subgraphs[0];
  const withWeights = main.operators.filter((op) => ['CONV_2D', 'FULLY_CONNECTED', 'DEPTHWISE_CONV_2D'].includes(opName(graph, op)));
  const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const names = [withWeights[0], withWeights[withWeights.length - 1]].map((op) => `^${escape(main.tensors[op.outputs[0]].name)}$`);
  return { ...defaultRecipe('int8'), weightBits: 4, weightBitsByScope: [{ tensorNamePattern: names.join('|'), bits: 8 }] };
}

/** W4A8 with only the first op that has weights (the convolution on the image, a few hundred weights) kept at int8. */
function firstInt8(graph: ModelGraph): Recipe {
  const main = graph.subgraphs[0];
  const first = main.operators.find((op) => ['CONV_2D', 'FULLY_CONNECTED', 'DEPTHWISE_CONV_2D'].includes(opName(graph, op)))!;
  const name = main.tensors[first.outputs[0]].name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { ...defaultRecipe('int8'), weightBits: 4, weightBitsByScope: [{ tensorNamePattern: `^${name}$`, bits: 8 }] };
}

const ALL_VARIANTS: [string, Recipe | ((graph: ModelGraph) => Recipe)][] = [
  ['int8', defaultRecipe('int8')],
  ['W4A8', { ...defaultRecipe('int8'), weightBits: 4 }],
  ['int16x8', defaultRecipe('int16x8')],
  ['W4A16', { ...defaultRecipe('int16x8'), weightBits: 4 }],
  ['W4A8, first/last int8', firstLastInt8],
  // High-bias absorption after CLE (src/optimize/absorb.ts), off by default.
  ['W4A8+absorb', { ...defaultRecipe('int8'), weightBits: 4, biasAbsorption: 'on' }],
  ['W4A8 first-int8', firstInt8],
  // Every op weightBits names int4, the smallest too (recipe.ts SMALL_INT4_SHARE keeps those int8 by default).
  ['W4A8 all-int4', { ...defaultRecipe('int8'), weightBits: 4, smallInt4Layers: 'int4' }],
  ['W4A16 all-int4', { ...defaultRecipe('int16x8'), weightBits: 4, smallInt4Layers: 'int4' }],
];
const VARIANTS = values.variants ? ALL_VARIANTS.filter(([name]) => values.variants!.split(',').includes(name)) : ALL_VARIANTS;

const CLASSIFIERS = IMAGENET_CLASSIFIERS.filter((c) => values.models.split(',').includes(c.key));

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
console.log(`| model | float top-1 | ${VARIANTS.map(([name]) => name).join(' | ')} |`);
console.log(`|---|---|${VARIANTS.map(() => '---').join('|')}|`);
const notes: string[] = [];
for (const classifier of CLASSIFIERS) {
  const { label } = classifier;
  const bytes = classifier.bytes();
  // One (calibration, evaluation) pair, or one per fold: each image held out once.
  const splits: { calibration: Sample[]; evaluation: Sample[]; labels: number[] }[] = [];
  if (folds > 1) {
    for (const fold of await imagenetFolds(bytes, classifier, calibCount + evalCount, folds)) {
      splits.push({ calibration: fold.rest.slice(0, calibCount), evaluation: fold.heldOut, labels: fold.labels });
    }
  } else splits.push(await imagenetSplit(bytes, classifier, calibCount, evalCount));
  const cells: string[] = [];
  let floatTop1 = 0;
  let int8Bytes = 0;
  for (const [name, make] of VARIANTS) {
    const recipe = typeof make === 'function' ? make(readModel(bytes)) : make;
    const sums = { top1: 0, float: 0, agreement: 0, sqnr: 0, images: 0 };
    let resultBytes = 0;
    for (const [f, { calibration, evaluation, labels }] of splits.entries()) {
      const started = performance.now();
      const result = await optimizeModel({ model: bytes, recipe, calibration, outputBias, ...(int4Inputs ? { int4Inputs } : {}), ...(values['refit-layers'] ? { int4RefitLayers: Number(values['refit-layers']) } : {}) });
      const seconds = (performance.now() - started) / 1000;
      resultBytes = result.bytes.length;
      const compared = await compareModels(bytes, result.bytes, evaluation, { labels });
      const n = evaluation.length;
      sums.top1 += compared.classification.accuracy!.candidate.top1 * n;
      sums.float += compared.classification.accuracy!.reference.top1 * n;
      sums.agreement += compared.classification.agreement * n;
      sums.sqnr += compared.outputs[0].sqnrDb / splits.length;
      sums.images += n;
      const stages = Object.entries(result.timings).map(([stage, ms]) => `${stage} ${((ms ?? 0) / 1000).toFixed(0)}`).join(', ');
      const kept = result.notes.filter((n) => n.startsWith('weights:') || n.startsWith('output bias') || n.startsWith('int4 weights') || /small op\(s\) kept int8/.test(n) || (n.startsWith('high-bias absorption: ') && /shifted down/.test(n)) || /int4 asked/.test(n));
      notes.push(`${label} ${name}${splits.length > 1 ? ` (fold ${f + 1}: top-1 ${pct(compared.classification.accuracy!.candidate.top1)})` : ''}: ${seconds.toFixed(1)} s (${stages}); ${kept.join('; ') || 'all weights int8'}`);
    }
    if (name === 'int8') int8Bytes = resultBytes;
    floatTop1 = sums.float / sums.images;
    const size = `${(resultBytes / 1e6).toFixed(2)} MB${int8Bytes ? ` = ${(resultBytes / int8Bytes).toFixed(3)}x int8` : ''}`;
    cells.push(`${pct(sums.top1 / sums.images)}, agree ${pct(sums.agreement / sums.images)}, ${sums.sqnr.toFixed(2)} dB, ${size}`);
  }
  console.log(`| ${label} (${(bytes.length / 1e6).toFixed(2)} MB float) | ${pct(floatTop1)} | ${cells.join(' | ')} |`);
}
console.log('\ncells: top-1 on the evaluation images, top-1 agreement with the float model, output SQNR against the float model, file size (and against int8)\n');
console.log(notes.map((n) => `- ${n}`).join('\n'));
