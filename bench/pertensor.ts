/**
 * bench/pertensor: per-tensor int8 on MobileNetV1 0.25 and MobileNetV2 1.0, and what cross-layer
 * equalization through RELU6 (equalize.ts, 'measured') buys it; per-channel beside it, to check it
 * gets no worse. ImageNet subset: images 0..99 calibrate, 100..499 evaluate (never seen by
 * calibration). Default pipeline otherwise (gptq rounding, minmax ranges, bias correction).
 * Cells: top-1, top-1 agreement with the float model, output SQNR against the float model; for CLE
 * other than 'exact', also what CLE alone does to the float model on the evaluation images.
 * Run: npm run bench:pertensor [-- --eval 400 --models v1,v2 --variants per-tensor:exact,per-tensor:measured@1.5]
 * A variant is granularity:strategy[@clip margin][+absorb] (the margin, default 2: equalize.ts clipMargin;
 * +absorb: high-bias absorption after CLE, absorb.ts; -absorb: without it, whatever the recipe's default;
 * --absorb-margin M: each channel moves down by its calibration minimum / M, default 2).
 * --diagnose: also, per RELU6 pair, how many channels' clip fired on the calibration images and how
 * many never left 0, and each layer's SQNR against the float model (per-tensor, CLE off and measured).
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { compareModels } from '../src/evaluate/compare';
import { IMAGENET_CLASSIFIERS, imagenetSplit } from './imagenet-classifiers';
import { initRuntime } from '../src/runtime/start';
import type { Sample } from '../src/runtime/samples';
import { equalizeForQuantization, type EqualizeStrategy } from '../src/optimize/equalize-for-quantization';
import { measureChannelMaxima } from '../src/optimize/channel-maxima';
import { outputChannelRanges, pairTensors } from '../src/optimize/equalize';
import { asFloat32 } from '../src/optimize/quantize/params';
import type { ModelGraph } from '../src/tflite/graph';
import { writeModel } from '../src/tflite/write';
import { builtinCodeOf } from '../src/tflite/ops';
import { BuiltinOperator } from '../src/tflite/schema/generated/tflite_generated';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, type Granularity } from '../src/optimize/recipe';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({
  options: {
    calib: { type: 'string', default: '100' },
    eval: { type: 'string', default: '400' },
    models: { type: 'string', default: 'v1,v2' },
    variants: { type: 'string', default: 'per-tensor:exact,per-tensor:measured,per-channel:exact,per-channel:measured' },
    diagnose: { type: 'boolean', default: false },
    'absorb-margin': { type: 'string' },
  },
});
const calibCount = Number(values.calib);
/** absorb.ts margin for +absorb variants (a channel moves down by its calibration minimum / this); default ABSORB_MARGIN. */
const absorbMargin = values['absorb-margin'] !== undefined ? Number(values['absorb-margin']) : undefined;
const evalCount = Number(values.eval);
const variants = values.variants.split(',').map((v) => {
  const [granularity, rest] = v.split(':');
  const absorb = rest.endsWith('+absorb') ? true : rest.endsWith('-absorb') ? false : undefined;
  const [strategy, margin] = rest.replace(/[+-]absorb$/, '').split('@');
  return { granularity: granularity as Granularity, strategy: strategy as EqualizeStrategy, margin: margin ? Number(margin) : undefined, absorb };
});

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js (wasm CPU)`);
console.log(`data: imagenet_val_subset, images 0..${calibCount - 1} calibrate, ${calibCount}..${calibCount + evalCount - 1} evaluate\n`);

const MODELS = Object.fromEntries(IMAGENET_CLASSIFIERS.map((c) => [c.key, c]));
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

for (const key of values.models.split(',')) {
  const classifier = MODELS[key];
  if (!classifier) throw new Error(`--models takes ${Object.keys(MODELS).join(', ')}; got ${key}`);
  const { label } = classifier;
  const bytes = classifier.bytes();
  const { calibration, evaluation, labels } = await imagenetSplit(bytes, classifier, calibCount, evalCount);
  console.log(`## ${label}`);
  if (values.diagnose) await diagnose(bytes, calibration, evaluation.slice(0, 50));
  for (const { granularity, strategy, margin, absorb } of variants) {
    const recipe = { ...defaultRecipe('int8'), granularity };
    const started = performance.now();
    let result;
    if (margin === undefined && absorbMargin === undefined) {
      result = await optimizeModel({ model: bytes, recipe, calibration, skipCheck: true, equalizeStrategy: strategy, biasAbsorption: absorb });
    } else {
      // A margin other than the default: the pipeline's CLE step by hand, then the rest without it.
      const equalized = await equalizeForQuantization(readModel(bytes), calibration, { strategy, clipMargin: margin, absorb, absorbMargin });
      result = await optimizeModel({ model: writeModel(equalized.graph), recipe: { ...recipe, equalize: 'off' }, calibration, skipCheck: true });
      result.notes.unshift(...equalized.notes);
    }
    const seconds = (performance.now() - started) / 1000;
    const compared = await compareModels(bytes, result.bytes, evaluation, { labels });
    const accuracy = compared.classification.accuracy!;
    console.log(
      `| ${granularity} | CLE ${strategy}${margin === undefined ? '' : ` margin ${margin}`}${absorb === undefined ? '' : absorb ? ' + absorption' : ' no absorption'} | float ${pct(accuracy.reference.top1)} | int8 ${pct(accuracy.candidate.top1)} | agreement ${pct(compared.classification.agreement)} | ${compared.outputs[0].sqnrDb.toFixed(2)} dB | ${seconds.toFixed(0)} s |`,
    );
    if (strategy !== 'exact' || absorb) {
      // What CLE (and absorption) alone did to the float model on the images calibration never saw (exact only where no clip that moved fires).
      const equalized = await equalizeForQuantization(readModel(bytes), calibration, { strategy, clipMargin: margin, absorb, absorbMargin });
      const drift = await compareModels(bytes, writeModel(equalized.graph), evaluation, { labels });
      console.log(`    float model after CLE alone: top-1 ${pct(drift.classification.accuracy!.candidate.top1)}, agreement ${pct(drift.classification.agreement)}, ${drift.outputs[0].sqnrDb.toFixed(1)} dB against the float model`);
    }
    console.log(`    ${result.notes.filter((n) => n.startsWith('cross-layer')).map((n) => n.replace('cross-layer equalization: ', '')).join('; ')}`);
    const absorption = result.notes.filter((n) => n.startsWith('high-bias absorption'));
    if (absorption.length) console.log(`    ${absorption.map((n) => n.replace('high-bias absorption: ', '')).join('; ')}`);
  }
}

/** Why per-tensor collapses: the RELU6 clip statistics per pair, and per-layer SQNR against the float model. */
async function diagnose(bytes: Uint8Array, calibration: Sample[], evaluation: Sample[]): Promise<void> {
  const graph = readModel(bytes);
  const subgraph = graph.subgraphs[0];
  const maxima = await measureChannelMaxima(graph, pairTensors(graph), calibration);
  const producerOf = new Map(subgraph.operators.flatMap((op, o) => op.outputs.map((t) => [t, o] as const)));
  console.log('| tensor between | written by | channels | clip fired | never above 0 |');
  console.log('|---|---|---|---|---|');
  // In the order of the ops that write them.
  for (const [t, m] of [...maxima].sort((a, b) => producerOf.get(a[0])! - producerOf.get(b[0])!)) {
    const o = producerOf.get(t)!;
    const op = BuiltinOperator[builtinCodeOf(graph.operatorCodes[subgraph.operators[o].opcodeIndex])];
    console.log(`| ${subgraph.tensors[t].name.split(";")[0]} | #${o} ${op} | ${m.length} | ${m.filter((v) => v >= 6).length} | ${m.filter((v) => v <= 0).length} |`);
  }
  weightTable(graph);
  const columns: string[][] = [];
  let rows: string[] = [];
  for (const strategy of ['exact', 'measured'] as const) {
    const result = await optimizeModel({ model: bytes, recipe: { ...defaultRecipe('int8'), granularity: 'per-tensor' }, calibration, skipCheck: true, equalizeStrategy: strategy });
    // Per-layer error against the float model the int8 one was made from (equalized or not): the
    // intermediate tensors of an equalized model are scaled per channel.
    const reference = strategy === 'exact' ? bytes : writeModel((await equalizeForQuantization(graph, calibration, { strategy })).graph);
    const compared = await compareModels(reference, result.bytes, evaluation, { perLayer: true });
    rows = compared.perLayer!.map((l) => `#${l.referenceOpIndex} ${l.referenceOp}`);
    columns.push(compared.perLayer!.map((l) => l.sqnrDb.toFixed(1)));
  }
  console.log(`\nper-layer SQNR (dB) of per-tensor int8 against its float model, ${evaluation.length} evaluation images\n`);
  console.log('| layer | CLE exact | CLE measured |');
  console.log('|---|---|---|');
  rows.forEach((r, i) => console.log(`| ${r} | ${columns[0][i]} | ${columns[1][i]} |`));
  console.log('');
}

/**
 * Weight SQNR of every conv / depthwise / FC layer rounded to int8 (symmetric, max|w| / 127, nearest)
 * per tensor and per channel, and the worst channel's under the per-tensor scale.
 */
function weightTable(graph: ModelGraph): void {
  const subgraph = graph.subgraphs[0];
  const db = (signal: number, noise: number) => (10 * Math.log10(signal / Math.max(noise, 1e-30))).toFixed(1);
  console.log('\n| layer | weights | per-tensor | per-channel | worst channel per-tensor |');
  console.log('|---|---|---|---|---|');
  subgraph.operators.forEach((op, o) => {
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    if (![BuiltinOperator.CONV_2D, BuiltinOperator.DEPTHWISE_CONV_2D, BuiltinOperator.FULLY_CONNECTED].includes(builtin)) return;
    const tensor = subgraph.tensors[op.inputs[1]];
    const w = asFloat32(graph.buffers[tensor.buffer].data);
    if (!w.length) return;
    const ranges = outputChannelRanges({ builtin, shape: tensor.shape }, w);
    const channels = ranges.length;
    const depthwise = builtin === BuiltinOperator.DEPTHWISE_CONV_2D;
    const inner = w.length / channels;
    const whole = Math.max(...ranges) / 127;
    let signal = 0, tensorNoise = 0, channelNoise = 0;
    const chSignal = new Float64Array(channels), chNoise = new Float64Array(channels);
    for (let k = 0; k < w.length; k++) {
      const c = depthwise ? k % channels : Math.floor(k / inner);
      const step = ranges[c] / 127 || 1;
      const e = w[k] - Math.round(w[k] / whole) * whole;
      signal += w[k] ** 2;
      tensorNoise += e ** 2;
      channelNoise += (w[k] - Math.round(w[k] / step) * step) ** 2;
      chSignal[c] += w[k] ** 2;
      chNoise[c] += e ** 2;
    }
    let worst = Infinity;
    for (let c = 0; c < channels; c++) if (chSignal[c] > 0) worst = Math.min(worst, Number(db(chSignal[c], chNoise[c])));
    console.log(`| #${o} ${BuiltinOperator[builtin]} | ${tensor.shape.join('x')} | ${db(signal, tensorNoise)} dB | ${db(signal, channelNoise)} dB | ${worst.toFixed(1)} dB |`);
  });
}
