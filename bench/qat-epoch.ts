/**
 * bench/qat-epoch (issue #13): in one run, on MobileNetV1 0.25 and N ImageNet photos (default 200):
 *   1. `tflite-opt eval` of the N photos as the CLI does it (open the folder, decode + resize +
 *      normalize each photo, run the float model and its reference in LiteRT, compare);
 *   2. `tflite-opt optimize --recipe qat+int8 --train DIR --train-count N --epochs 1` through the same
 *      chain (runChain: QAT on the engine, then calibration and int8 conversion), with the epoch timed
 *      apart from the rest and its time split by part (the training loop's profile);
 *   3. the epoch / eval ratio (issue #13: <= 3x);
 *   4. the same epoch without fake quantization (fine-tuning), so QAT's own cost shows;
 *   5. the engine's batched forward (BatchedForward) against LiteRT's one-at-a-time forward, on
 *      MobileNetV1 0.25 and audio_event_527 (seeded synthetic waveforms; its input [5360] has no batch
 *      dimension: printed one waveform at a time, as the engine ran it before, and batched through the
 *      batch axis batch-axis.ts adds).
 * Every figure comes from this one process, so the ratios share the machine's load (printed).
 * Run: npm run bench:qat-epoch [-- --images 200 --batch 16 --forward-batch 16]
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { dataFlags, datasetSamples, openDataFlags } from '../src/cli/data-options';
import { randomIndices, subset } from '../src/data/dataset';
import { initNodeEngine } from '../src/engine/backend-node';
import { BatchedForward } from '../src/engine/batched-forward';
import { GraphExecutor } from '../src/engine/executor';
import { compareModels } from '../src/evaluate/compare';
import { parseChain, runChain } from '../src/optimize/chain';
import { finetune, type TrainingProfile } from '../src/optimize/finetune';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    batch: { type: 'string', default: '16' },
    'forward-batch': { type: 'string', default: '16' },
    'skip-finetune': { type: 'boolean', default: false },
  },
});
const count = Number(values.images);
const batchSize = Number(values.batch);
const forwardBatch = Number(values['forward-batch']);
const load = () => `load ${loadavg()[0].toFixed(1)}`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const engine = await initNodeEngine();
await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; engine ${engine.backend} (${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads allowed' : 'one thread'}); LiteRT.js 2.5.3 wasm; ${load()}`);

const modelName = 'mobilenet_v1_0.25_224_float.tflite';
const model = readSharedModel(modelName);
const graph = readModel(model);
const folder = join(dataDir, 'imagenet_val_subset');
const flags = dataFlags(folder, { labels: join(folder, 'labels.csv'), labelColumn: 'label_1001', mean: '127.5', std: '127.5' });
const first = (n: number) => Array.from({ length: n }, (_, i) => i);

// 1. eval, as eval-command.ts runs it (a fresh dataset: nothing decoded yet).
let started = performance.now();
const evalData = await openDataFlags(graph, flags);
const evalIndices = first(Math.min(count, evalData.size));
const comparison = await compareModels(model, model, datasetSamples(evalData, evalIndices), { labels: evalIndices.map((i) => evalData.labels[i]!), total: evalIndices.length });
const evalMs = performance.now() - started;
console.log(`\n1. eval of ${evalIndices.length} photos (decode + resize + LiteRT, model and reference): ${s(evalMs)} (top-1 ${(100 * comparison.classification.accuracy!.candidate.top1).toFixed(1)}%); ${load()}`);

// 2. qat+int8 as the CLI's chain runs it: --train-count N photos, calibration drawn from the --train folder.
const marks: Record<string, number> = {};
const profile: TrainingProfile = {};
let beforeEpoch: TrainingProfile = {};
const trainData = await openDataFlags(graph, flags);
const calibData = await openDataFlags(graph, flags);
const calibIndices = randomIndices(calibData.size, 100, 0);
started = performance.now();
const chain = await runChain({
  model,
  chain: parseChain('qat+int8'),
  calibration: datasetSamples(calibData, calibIndices),
  calibrationCount: calibIndices.length,
  onProgress: (stage, done) => {
    if (stage === 'train' && done === 1) marks.trained = performance.now();
  },
  training: {
    data: subset(trainData, first(Math.min(count, trainData.size))),
    options: {
      epochs: 1,
      batchSize,
      profile,
      onProgress: (p) => {
        if (p.phase === 'calibrate') marks.ranges = performance.now();
        if (p.phase === 'validate') marks[`validated${p.epoch}`] = performance.now();
        if (p.phase === 'validate' && p.epoch === 0) beforeEpoch = { ...profile };
      },
    },
  },
});
const chainMs = performance.now() - started;
const trained = chain.trained!;
const epochMs = marks.validated1 - marks.validated0;
// The epoch's own parts: the profile less what it held before the epoch (the first validation).
const epochParts = Object.entries(profile).map(([part, ms]) => [part, ms! - (beforeEpoch[part as keyof TrainingProfile] ?? 0)] as const);
const epochValidation = epochParts.find(([part]) => part === 'validation')?.[1] ?? 0;
const stepsMs = epochMs - epochValidation;
console.log(`\n2. qat+int8, ${trained.plan.split.train.length} training + ${trained.plan.split.validation.length} validation photos, batch ${trained.batchSize}, 1 epoch of ${trained.plan.stepsPerEpoch} steps; ${load()}`);
console.log(`   whole chain ${s(chainMs)}: initial activation ranges ${s(marks.ranges - started)}, validation before training ${s(marks.validated0 - marks.ranges)}, epoch ${s(epochMs)} (steps ${s(stepsMs)}, validation ${s(epochValidation)}), export ${s(marks.trained - marks.validated1)}, int8 (calibrate + convert + check) ${s(started + chainMs - marks.trained)}`);
console.log(`   int8 stages: ${Object.entries(chain.quantized?.timings ?? {}).map(([k, v]) => `${k} ${s(v as number)}`).join(', ')}`);
const parts = [...epochParts].sort((a, b) => b[1] - a[1]);
console.log('   | part of the epoch | s | share |\n   |---|---|---|');
for (const [part, ms] of parts) console.log(`   | ${part} | ${(ms / 1000).toFixed(2)} | ${((100 * ms) / epochMs).toFixed(1)}% |`);

// 3. The ratio issue #13 asks for.
console.log(`\n3. epoch / eval = ${(epochMs / evalMs).toFixed(2)}x (steps alone ${(stepsMs / evalMs).toFixed(2)}x; whole qat+int8 chain ${(chainMs / evalMs).toFixed(2)}x); ${load()}`);

// 4. The same epoch without fake quantization: what QAT's fake quantization and range tracking cost.
if (!values['skip-finetune']) {
  const plain: TrainingProfile = {};
  const qat: TrainingProfile = {};
  const data = subset(trainData, first(Math.min(count, trainData.size))); // photos decoded by now
  const time = async (mode: 'finetune' | 'qat', p: TrainingProfile) => {
    const t0 = performance.now();
    await finetune(graph, data, { mode, epochs: 1, batchSize, profile: p, validationFraction: 0.15 });
    return performance.now() - t0;
  };
  const stepOf = (p: TrainingProfile) => Object.entries(p).filter(([k]) => k !== 'validation').reduce((t, [, v]) => t + v!, 0);
  await time('finetune', plain);
  await time('qat', qat);
  console.log(`\n4. training steps of one epoch, photos already decoded: fine-tuning ${s(stepOf(plain))}, QAT ${s(stepOf(qat))} = ${(stepOf(qat) / stepOf(plain)).toFixed(2)}x (forward ${s(plain.forward ?? 0)} -> ${s(qat.forward ?? 0)}, backward ${s(plain.backward ?? 0)} -> ${s(qat.backward ?? 0)}, range tracking ${s(qat.rangeTracking ?? 0)}); ${load()}`);
}

// 5. Batched engine forward vs LiteRT one at a time.
async function forwardRates(name: string, inputs: Float32Array[][], engineBatch: number) {
  const bytes = readSharedModel(name);
  const g = readModel(bytes);
  const litert = await loadModel(bytes);
  await litert.run(inputs[0]);
  let t0 = performance.now();
  for (const x of inputs) await litert.run(x);
  const litertMs = (performance.now() - t0) / inputs.length;
  litert.delete();
  // BatchedForward takes [N, ...the file's input shape] whatever the file says about a batch; batch 1
  // is the file's graph on the bare executor, one sample at a time, as the engine ran audio_event before.
  const forward = new BatchedForward(g);
  const single = new GraphExecutor(g);
  const shape = g.subgraphs[0].tensors[g.subgraphs[0].inputs[0]].shape;
  const batches: tf.Tensor[] = [];
  for (let i = 0; i < inputs.length; i += engineBatch) {
    const rows = inputs.slice(i, i + engineBatch);
    const flat = new Float32Array(rows.length * rows[0][0].length);
    rows.forEach((r, j) => flat.set(r[0], j * r[0].length));
    batches.push(tf.tensor(flat, [rows.length, ...shape]));
  }
  const run = (x: tf.Tensor) => tf.tidy(() => (engineBatch === 1 ? single.run([tf.reshape(x, shape)], { freeIntermediates: true }).outputs[0] : forward.run([x], { freeIntermediates: true })[0]));
  await run(batches[0]).data();
  t0 = performance.now();
  for (const x of batches) {
    const y = run(x);
    await y.data();
    y.dispose();
  }
  const engineMs = (performance.now() - t0) / inputs.length;
  tf.dispose(batches);
  forward.dispose();
  single.dispose();
  const rate = (ms: number) => `${(1000 / ms).toFixed(0)}/s`;
  const how = engineBatch === 1 ? 'one at a time' : forward.batched ? `batch ${engineBatch}` : `batch ${engineBatch} run one at a time (${forward.reason})`;
  console.log(`   ${name}: LiteRT ${rate(litertMs)} (${litertMs.toFixed(2)} ms each), engine ${how} ${rate(engineMs)} = ${(litertMs / engineMs).toFixed(2)}x LiteRT's throughput; ${load()}`);
}
console.log('\n5. forward throughput, engine batched vs LiteRT one at a time');
const photos = await Promise.all(first(4 * forwardBatch).map((i) => trainData.sample(i)));
await forwardRates(modelName, photos, forwardBatch);
const audio = await loadModel(readSharedModel('audio_event_527_float.tflite'));
const waveforms = first(Math.max(32, 4 * forwardBatch)).map((i) => randomInputs(audio, i) as Float32Array[]);
audio.delete();
await forwardRates('audio_event_527_float.tflite', waveforms, 1);
await forwardRates('audio_event_527_float.tflite', waveforms, forwardBatch);
