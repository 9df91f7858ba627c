/**
 * bench/engine-profile (issue #13 item 1): where the engine's time goes on MobileNetV1 0.25, by tfjs
 * kernel, for a batched forward pass and for a training step (forward + gradients of every weight
 * and bias), against LiteRT's forward pass on the same images, one at a time.
 * Prints images per second of each, the training step / forward ratio, and the kernels that take
 * the time (tf.profile: kernel time, call count, bytes allocated), so a speed change can be aimed.
 * Run: npm run bench:engine-profile [-- --batch 16 --steps 3 --model mobilenet_v1_0.25_224_float.tflite]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeEngine } from '../src/engine/backend-node';
import { BatchedForward } from '../src/engine/batched-forward';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import { readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { isConstant } from '../src/tflite/queries';
import { TensorType } from '../src/tflite/schema/generated/tflite_generated';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '3' },
    model: { type: 'string', default: 'mobilenet_v1_0.25_224_float.tflite' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const bytes = readSharedModel(values.model!);
const graph = readModel(bytes);
const subgraph = graph.subgraphs[0];

const engine = await initNodeEngine();
await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; engine ${JSON.stringify(engine)}; LiteRT.js 2.5.3 wasm`);
console.log(`model ${values.model}, batch ${batch}, ${steps} timed step(s) after one warm-up\n`);

// LiteRT: one image at a time, as calibration and evaluation run it.
const litert = await loadModel(bytes);
const single = randomInputs(litert, 1);
await litert.run(single);
let started = performance.now();
const litertRuns = batch * steps;
for (let i = 0; i < litertRuns; i++) await litert.run(single);
const litertPerImage = (performance.now() - started) / litertRuns;
litert.delete();

// [batch, ...the file's input shape]: BatchedForward gives a model without a batch axis (audio_event's
// [5360] waveform) one, or runs it one sample at a time, and says why.
const batched = new BatchedForward(graph);
const executor = batched.executor;
console.log(`engine: ${batched.batched ? `one run per batch (inputs ${batched.plan.inputs.join(', ')})` : `one sample at a time: ${batched.reason}`}\n`);
const input = tf.randomUniform([batch, ...subgraph.tensors[subgraph.inputs[0]].shape], -1, 1);

const forward = () => tf.tidy(() => batched.run([input], { freeIntermediates: true })[0]);
forward().dispose();
started = performance.now();
for (let s = 0; s < steps; s++) await forward().data();
const forwardPerImage = (performance.now() - started) / (steps * batch);

// Every float constant of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED trains, as in fine-tuning.
const trainable = new Map<number, tf.Variable>();
for (const op of subgraph.operators) {
  for (const t of op.inputs.slice(1)) {
    const tensor = subgraph.tensors[t];
    if (t < 0 || trainable.has(t) || !tensor || tensor.type !== TensorType.FLOAT32 || !isConstant(graph, tensor)) continue;
    const c = executor.constantOf(t);
    if (c) trainable.set(t, tf.variable(tf.tensor(c.values as Float32Array, tensor.shape), true));
  }
}
const target = tf.tidy(() => forward());
const step = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = batched.run([input], { weights: trainable })[0];
      return tf.losses.meanSquaredError(target, out) as tf.Scalar;
    });
    const norms = tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))));
    return tf.stack([value, norms]);
  });
step().dispose();
started = performance.now();
for (let s = 0; s < steps; s++) await step().data();
const stepPerImage = (performance.now() - started) / (steps * batch);

const rate = (ms: number) => `${(1000 / ms).toFixed(1)} images/s (${ms.toFixed(2)} ms each)`;
console.log(`LiteRT forward, batch 1:        ${rate(litertPerImage)}`);
console.log(`engine forward, batch ${batch}:       ${rate(forwardPerImage)}  = ${(litertPerImage / forwardPerImage).toFixed(2)}x LiteRT's throughput`);
console.log(`engine training step, batch ${batch}: ${rate(stepPerImage)}  = ${(stepPerImage / forwardPerImage).toFixed(2)}x the engine forward, ${(stepPerImage / litertPerImage).toFixed(2)}x LiteRT's forward\n`);

async function kernels(label: string, f: () => tf.Tensor) {
  const info = await tf.profile(async () => {
    const out = f();
    await out.data();
    out.dispose();
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.calls++;
    byName.set(k.name, entry);
  }
  const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`${label}: ${info.kernels.length} kernel calls, ${total.toFixed(0)} ms kernel time, peak ${(info.peakBytes / 1e6).toFixed(0)} MB, ${info.newTensors} tensors left`);
  console.log('| kernel | ms | share | calls |', '\n|---|---|---|---|');
  for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`| ${name} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)}% | ${e.calls} |`);
  }
  console.log('');
}
await kernels(`forward, batch ${batch}`, forward);
await kernels(`training step, batch ${batch}`, step);
