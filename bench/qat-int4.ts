/**
 * bench/qat-int4: quantization-aware training of W4A8 (int4 weights where the plan puts them, int8
 * activations) from the best PTQ model, on the ImageNet classifiers, figures from LiteRT.
 *
 * 1. PTQ: the default W4A8 recipe (CLE, GPTQ rounding, int4 scales searched by output error, bias
 *    correction), calibrated on images 0..train-1.
 * 2. QAT starts from that model dequantized (its weights are the rounded ones, s * q, its biases
 *    the corrected ones) with the int4 scales as learned steps (LSQ, engine/lsq.ts), int8
 *    activations with learned steps too (from their measured ranges; --fixed-activations: ranges
 *    tracked by moving average and calibrated again when written), trained on the same images by distillation from the float model
 *    (no labels), a share held out to pick the epoch.
 * 3. The trained weights are written as W4A8 with the learned steps as int4 scales and activation ranges (nearest
 *    rounding, no CLE, no bias correction) and the result runs in LiteRT on images never trained
 *    on: `train`..`train + eval - 1`.
 *
 * The subset has 500 labelled images; with 400 for evaluation, 100 are left to train on. With
 * `--folds 5` every image is held out once: five times QAT on 400 images (PTQ calibrated on the first
 * 100 of them), evaluated on the other 100; the figures pool the five held-out folds.
 * `--features W` adds feature distillation (the int4 ops' outputs fit the float model's, CLE undone; W
 * weighs it beside the output loss); `--step-rate R` makes each int4 weight move about R of its step
 * per Adam update (training-weights.ts). Neither helped on V1 (bench/README.md).
 * Run: npm run bench:qat-int4 [-- --train 100 --eval 400 --models v1,v2 --epochs 2 --lr 2e-5 (the chain's default) --batch 16 --fixed-activations --augment flip --folds 5 --calib 100 --output-bias --features 1 --step-rate 0.01 --temperature 4 --fold-order interleaved]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { initNodeEngine } from '../src/engine/backend-node';
import { compareModels } from '../src/evaluate/compare';
import { int4ScalesOf, outputsOfSteppedOps } from '../src/optimize/chain-qat-int4';
import { finetune, type TrainingData } from '../src/optimize/finetune';
import { optimizeModel } from '../src/optimize/pipeline';
import { dequantizeModel } from '../src/optimize/quantize/dequantize-model';
import { QAT_INT4_LEARNING_RATE, QAT_INT4_TEMPERATURE } from '../src/optimize/qat-defaults';
import { defaultRecipe, type Recipe } from '../src/optimize/recipe';
import type { Sample } from '../src/runtime/samples';
import { initRuntime } from '../src/runtime/start';
import { readModel } from '../src/tflite/read';
import { writeModel } from '../src/tflite/write';
import { IMAGENET_CLASSIFIERS, imagenetFolds, imagenetSplit } from './imagenet-classifiers';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '100' },
    eval: { type: 'string', default: '400' },
    models: { type: 'string', default: 'v1,v2' },
    epochs: { type: 'string', default: '2' },
    lr: { type: 'string', default: String(QAT_INT4_LEARNING_RATE) },
    batch: { type: 'string', default: '16' },
    // Track activation ranges by moving average (and calibrate them again) instead of learning their steps.
    'fixed-activations': { type: 'boolean', default: false },
    augment: { type: 'string', default: 'none' },
    // k-fold over the train + eval images (e.g. 5: QAT on 400, evaluated on the 100 others, five times); PTQ calibrates on the first `calib` training images of each fold.
    folds: { type: 'string', default: '1' },
    // 'interleaved': fold f holds the images i with i % folds = f instead of a consecutive fifth.
    'fold-order': { type: 'string', default: 'consecutive' },
    // Output bias correction of the written QAT model against the float model (as PTQ has it).
    'output-bias': { type: 'boolean', default: false },
    calib: { type: 'string', default: '100' },
    // Feature distillation: the int4 ops' outputs fit the float model's (CLE scales undone), this weight beside the output loss; 0 = off.
    features: { type: 'string', default: '0' },
    // Stepped weights move by about this share of their int4 step per Adam update (0 = the plain lr).
    'step-rate': { type: 'string', default: '0' },
    // Distillation temperature (FinetuneOptions.temperature); default the chain's.
    temperature: { type: 'string', default: String(QAT_INT4_TEMPERATURE) },
  },
});
const trainCount = Number(values.train);
const evalCount = Number(values.eval);
const epochs = Number(values.epochs);
const learningRate = Number(values.lr);
const batchSize = Number(values.batch);
const foldOrder = values['fold-order'];
if (foldOrder !== 'consecutive' && foldOrder !== 'interleaved') throw new Error(`--fold-order must be consecutive or interleaved, got "${foldOrder}"`);

await initRuntime();
await initNodeEngine();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js (wasm CPU)`);
console.log(
  Number(values.folds) > 1
    ? `data: imagenet_val_subset, images 0..${trainCount + evalCount - 1} in ${values.folds} folds: each held out once, the others train (no labels: distillation), the first ${values.calib} of them calibrate`
    : `data: imagenet_val_subset, images 0..${trainCount - 1} calibrate and train (no labels: distillation), ${trainCount}..${trainCount + evalCount - 1} evaluate`,
);
console.log(`QAT: ${epochs} epoch(s), Adam lr ${learningRate}, batch ${batchSize}, temperature ${values.temperature}, activation steps ${values['fixed-activations'] ? 'tracked (moving average)' : 'learned'}, feature distillation ${Number(values.features) > 0 ? `x ${values.features}` : 'off'}, weights ${Number(values['step-rate']) > 0 ? `move ${values['step-rate']} of their step per update` : 'at the lr'}\n`);

const W4A8: Recipe = { ...defaultRecipe('int8'), weightBits: 4 };
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const rows: string[] = [];
const notes: string[] = [];

/** PTQ W4A8 calibrated on `calibration`, then QAT on `train` from it; top-1 of float, PTQ and QAT on `evaluation`. */
async function ptqThenQat(floatBytes: Uint8Array, calibration: Sample[], train: Sample[], evaluation: Sample[], labels: number[]) {
  const top1 = async (bytes: Uint8Array) => (await compareModels(floatBytes, bytes, evaluation, { labels })).classification.accuracy!;
  let started = performance.now();
  const ptq = await optimizeModel({ model: floatBytes, recipe: W4A8, calibration });
  const ptqSeconds = (performance.now() - started) / 1000;
  const before = await top1(ptq.bytes);

  // The PTQ model's int4 scales, by weight tensor name: the steps QAT starts from.
  const ptqGraph = readModel(ptq.bytes);
  const learnedSteps = int4ScalesOf(ptqGraph);
  const start = dequantizeModel(ptqGraph).graph;

  const data: TrainingData = { size: train.length, labels: train.map(() => null), sample: async (i) => train[i] as Float32Array[] };
  started = performance.now();
  const featureWeight = Number(values.features);
  const features = featureWeight > 0 ? { tensors: outputsOfSteppedOps(start, learnedSteps), weight: featureWeight, channelScales: ptq.channelScales, channelShifts: ptq.channelShifts } : undefined;
  const trained = await finetune(start, data, { mode: 'qat', teacher: readModel(floatBytes), learnedSteps, keepZeros: false, learnActivationSteps: !values['fixed-activations'], epochs, learningRate, batchSize, ...(values.augment === 'flip' ? { augment: 'flip' as const } : {}), features, ...(Number(values['step-rate']) > 0 ? { weightStepRate: Number(values['step-rate']) } : {}), temperature: Number(values.temperature) });
  const trainSeconds = (performance.now() - started) / 1000;
  const int4Scales = new Map([...(trained.learnedSteps ?? new Map<string, { scales: number[] }>())].map(([name, s]) => [name, s.scales]));
  const written = await optimizeModel({
    model: writeModel(trained.graph),
    recipe: { ...W4A8, equalize: 'off', rounding: 'nearest' },
    calibration,
    biasCorrection: false,
    int4Scales,
    activationRanges: values['fixed-activations'] ? undefined : trained.learnedActivationRanges,
    ...(values['output-bias'] ? { outputBias: { passes: 1 } } : {}),
  });
  const after = await top1(written.bytes);
  const history = trained.history.map((h) => `epoch ${h.epoch}: train ${h.trainLoss.toFixed(4)}, val ${h.validationLoss?.toFixed(4)} / agreement ${h.validationAccuracy === null ? '-' : pct(h.validationAccuracy)}`).join('; ');
  return { float: before.reference.top1, ptq: before.candidate.top1, qat: after.candidate.top1, ptqSeconds, trainSeconds, ptqBytes: ptq.bytes.length, qatBytes: written.bytes.length, steps: learnedSteps.size, bestEpoch: trained.bestEpoch, history, writtenNotes: written.notes };
}

for (const classifier of IMAGENET_CLASSIFIERS.filter((c) => values.models.split(',').includes(c.key))) {
  const floatBytes = classifier.bytes();
  const folds = Number(values.folds);
  let r: Awaited<ReturnType<typeof ptqThenQat>>;
  if (folds > 1) {
    // k-fold: every image evaluated once, by a model whose PTQ and QAT never saw it; figures pooled over the folds.
    const sums = { float: 0, ptq: 0, qat: 0, ptqSeconds: 0, trainSeconds: 0 };
    const splits = await imagenetFolds(floatBytes, classifier, trainCount + evalCount, folds, foldOrder);
    for (const [f, { rest: train, heldOut: evaluation, labels }] of splits.entries()) {
      const fold = await ptqThenQat(floatBytes, train.slice(0, Number(values.calib)), train, evaluation, labels);
      for (const key of ['float', 'ptq', 'qat'] as const) sums[key] += fold[key] * evaluation.length;
      sums.ptqSeconds += fold.ptqSeconds;
      sums.trainSeconds += fold.trainSeconds;
      console.log(`fold ${f + 1}/${folds}: ${evaluation.length} held out, float ${pct(fold.float)}, PTQ ${pct(fold.ptq)}, QAT ${pct(fold.qat)} (kept epoch ${fold.bestEpoch}; ${fold.history})`);
      r = { ...fold, ...sums };
    }
    const images = splits.reduce((n, s) => n + s.heldOut.length, 0);
    r = { ...r!, float: sums.float / images, ptq: sums.ptq / images, qat: sums.qat / images };
  } else {
    const { calibration, evaluation, labels } = await imagenetSplit(floatBytes, classifier, trainCount, evalCount);
    r = await ptqThenQat(floatBytes, calibration, calibration, evaluation, labels);
  }
  const remaining = r.float - 0.02 - r.ptq; // the PTQ loss above 2 pt
  const recovered = r.qat - r.ptq;
  rows.push(
    `| ${classifier.label} | ${pct(r.float)} | ${pct(r.ptq)} (${r.ptqSeconds.toFixed(0)} s) | ${pct(r.qat)} | ${(100 * recovered).toFixed(2)} pt` +
      ` | ${remaining > 0 ? `${(100 * remaining).toFixed(2)} pt: ${recovered >= remaining / 2 - 1e-9 ? 'yes' : 'no'}` : 'none'} | ${r.trainSeconds.toFixed(0)} s | ${(r.ptqBytes / 1e6).toFixed(3)} / ${(r.qatBytes / 1e6).toFixed(3)} MB |`,
  );
  notes.push(`${classifier.label}: ${r.steps} int4 weight tensors with learned steps; kept epoch ${r.bestEpoch}; ${r.history}`);
  notes.push(`${classifier.label} written: ${r.writtenNotes.filter((n) => /weights:|equalized|int4/.test(n)).join('; ')}`);
  console.log(rows[rows.length - 1]);
}
console.log('\n| model | float top-1 | PTQ W4A8 (time) | QAT W4A8 | gained | PTQ loss above 2 pt: half recovered? | training time | PTQ / QAT size |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
