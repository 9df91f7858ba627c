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
 * The subset has 500 labelled images; with 400 for evaluation, 100 are left to train on.
 * Run: npm run bench:qat-int4 [-- --train 100 --eval 400 --models v1,v2 --epochs 2 --lr 1e-4 --batch 16 --fixed-activations --augment flip]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { initNodeEngine } from '../src/engine/backend-node';
import { compareModels } from '../src/evaluate/compare';
import { finetune, type TrainingData } from '../src/optimize/finetune';
import { optimizeModel } from '../src/optimize/pipeline';
import { dequantizeModel } from '../src/optimize/quantize/dequantize-model';
import { defaultRecipe, type Recipe } from '../src/optimize/recipe';
import { initRuntime } from '../src/runtime/start';
import { readModel } from '../src/tflite/read';
import { TensorType } from '../src/tflite/schema/generated/tflite_generated';
import { writeModel } from '../src/tflite/write';
import { IMAGENET_CLASSIFIERS, imagenetSplit } from './imagenet-classifiers';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '100' },
    eval: { type: 'string', default: '400' },
    models: { type: 'string', default: 'v1,v2' },
    epochs: { type: 'string', default: '2' },
    lr: { type: 'string', default: '1e-4' },
    batch: { type: 'string', default: '16' },
    // Track activation ranges by moving average (and calibrate them again) instead of learning their steps.
    'fixed-activations': { type: 'boolean', default: false },
    augment: { type: 'string', default: 'none' },
  },
});
const trainCount = Number(values.train);
const evalCount = Number(values.eval);
const epochs = Number(values.epochs);
const learningRate = Number(values.lr);
const batchSize = Number(values.batch);

await initRuntime();
await initNodeEngine();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js (wasm CPU)`);
console.log(`data: imagenet_val_subset, images 0..${trainCount - 1} calibrate and train (no labels: distillation), ${trainCount}..${trainCount + evalCount - 1} evaluate`);
console.log(`QAT: ${epochs} epoch(s), Adam lr ${learningRate}, batch ${batchSize}, activation steps ${values['fixed-activations'] ? 'tracked (moving average)' : 'learned'}\n`);

const W4A8: Recipe = { ...defaultRecipe('int8'), weightBits: 4 };
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const rows: string[] = [];
const notes: string[] = [];
for (const classifier of IMAGENET_CLASSIFIERS.filter((c) => values.models.split(',').includes(c.key))) {
  const floatBytes = classifier.bytes();
  const { calibration, evaluation, labels } = await imagenetSplit(floatBytes, classifier, trainCount, evalCount);
  const top1 = async (bytes: Uint8Array) => (await compareModels(floatBytes, bytes, evaluation, { labels })).classification.accuracy!;

  let started = performance.now();
  const ptq = await optimizeModel({ model: floatBytes, recipe: W4A8, calibration });
  const ptqSeconds = (performance.now() - started) / 1000;
  const before = await top1(ptq.bytes);

  // The PTQ model's int4 scales, by weight tensor name: the steps QAT starts from.
  const ptqGraph = readModel(ptq.bytes);
  const learnedSteps = new Map<string, { bits: 4 | 8; scales: number[] }>();
  for (const t of ptqGraph.subgraphs[0].tensors) if (t.type === TensorType.INT4 && t.quantization?.scale?.length) learnedSteps.set(t.name, { bits: 4, scales: t.quantization.scale.slice() });
  const start = dequantizeModel(ptqGraph).graph;

  const data: TrainingData = { size: calibration.length, labels: calibration.map(() => null), sample: async (i) => calibration[i] as Float32Array[] };
  started = performance.now();
  const trained = await finetune(start, data, { mode: 'qat', teacher: readModel(floatBytes), learnedSteps, learnActivationSteps: !values['fixed-activations'], epochs, learningRate, batchSize, ...(values.augment === 'flip' ? { augment: 'flip' as const } : {}) });
  const trainSeconds = (performance.now() - started) / 1000;
  const int4Scales = new Map([...(trained.learnedSteps ?? new Map<string, { scales: number[] }>())].map(([name, s]) => [name, s.scales]));
  const written = await optimizeModel({
    model: writeModel(trained.graph),
    recipe: { ...W4A8, equalize: 'off', rounding: 'nearest' },
    calibration,
    biasCorrection: false,
    int4Scales,
    activationRanges: values['fixed-activations'] ? undefined : trained.learnedActivationRanges,
  });
  const after = await top1(written.bytes);

  const float = before.reference.top1;
  const remaining = float - 0.02 - before.candidate.top1; // the PTQ loss above 2 pt
  const recovered = after.candidate.top1 - before.candidate.top1;
  rows.push(
    `| ${classifier.label} | ${pct(float)} | ${pct(before.candidate.top1)} (${ptqSeconds.toFixed(0)} s) | ${pct(after.candidate.top1)} | ${(100 * recovered).toFixed(2)} pt` +
      ` | ${remaining > 0 ? `${(100 * remaining).toFixed(2)} pt: ${recovered >= remaining / 2 - 1e-9 ? 'yes' : 'no'}` : 'none'} | ${trainSeconds.toFixed(0)} s | ${(ptq.bytes.length / 1e6).toFixed(3)} / ${(written.bytes.length / 1e6).toFixed(3)} MB |`,
  );
  const history = trained.history.map((h) => `epoch ${h.epoch}: train ${h.trainLoss.toFixed(4)}, val ${h.validationLoss?.toFixed(4)} / agreement ${h.validationAccuracy === null ? '-' : pct(h.validationAccuracy)}`).join('; ');
  notes.push(`${classifier.label}: ${learnedSteps.size} int4 weight tensors with learned steps; kept epoch ${trained.bestEpoch}; ${history}`);
  notes.push(`${classifier.label} written: ${written.notes.filter((n) => /weights:|equalized|int4/.test(n)).join('; ')}`);
  console.log(rows[rows.length - 1]);
}
console.log('\n| model | float top-1 | PTQ W4A8 (time) | QAT W4A8 | gained | PTQ loss above 2 pt: half recovered? | training time | PTQ / QAT size |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
