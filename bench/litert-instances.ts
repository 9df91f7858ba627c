/**
 * npm run bench:litert-instances
 *
 * What a second LiteRT instance (a calibration worker) brings on this machine:
 * 1. plain runs of the same model on the calibrating thread alone, then on it and a calibration
 *    worker at once (runs/s summed);
 * 2. how long a calibration worker takes to load a model: a new worker (Node: worker start, tsx
 *    compiling its modules, LiteRT's start) and an idle one back in the pool (the model load only);
 * 3. reduced calibration (300 samples, no histograms) with 1 and 2 instances, the workers loaded
 *    before the first sample (waitForInstances), next to plain inference.
 * Wall clock, 3 rounds for 1 and 3.
 */
import { cpus } from 'node:os';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import type { RuntimeData } from '../src/runtime/types';
import { calibrate, calibrationTensors } from '../src/optimize/calibrate/calibrate';
import { withReductions } from '../src/optimize/calibrate/runs/reduced-in-litert';
import type { StatsWorkerPort } from '../src/optimize/calibrate/worker/port';
import { setStatsWorkerFactory, takeWorker, returnWorker } from '../src/optimize/calibrate/worker/stats-thread';
import { readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { writeModel } from '../src/tflite/write';
import { syntheticModel } from './synthetic-model';

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)\n`);
const models = [
  { name: 'audio_event_527_float', bytes: readSharedModel('audio_event_527_float.tflite') },
  { name: 'mobilenet_v1_0.25_224_float', bytes: readSharedModel('mobilenet_v1_0.25_224_float.tflite') },
  { name: 'synthetic FC chain (14 MB)', bytes: writeModel(syntheticModel(14e6)) },
];

/** Loads `bytes` (every tensor plain, the first activation tapped) on a worker; ms until loaded. */
async function loadOnWorker(port: StatsWorkerPort, bytes: Uint8Array, id: number): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    port.listen(
      (m) => (m.type === 'model-loaded' && m.id === id ? resolve() : m.type === 'model-failed' ? reject(new Error(m.message)) : undefined),
      reject,
    );
    port.post({ type: 'load-model', id, bytes, select: [readModel(bytes).subgraphs[0].operators[0].outputs[0]], pack: false, wasmBase: null }, []);
  });
  return performance.now() - started;
}

/** Runs `count` samples on the worker, one queued at a time ahead; resolves when all answered. */
function runOnWorker(port: StatsWorkerPort, samples: RuntimeData[][], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = 0;
    const send = () => port.post({ type: 'run', id: 1000 + sent, inputs: samples[sent++ % samples.length] }, []);
    port.listen((m) => {
      if (m.type === 'run-failed') return reject(new Error(m.message));
      if (m.type !== 'ran') return;
      if (++answered === count) return resolve();
      if (sent < count) send();
    }, reject);
    send();
    send();
  });
}

console.log('## Plain runs: this thread alone, then this thread and a calibration worker at once (runs/s)\n');
console.log('| model | alone | together (this thread + worker) | ratio |');
console.log('|---|---|---|---|');
setStatsWorkerFactory(undefined);
for (const model of models) {
  const plain = await loadModel(model.bytes);
  const samples = Array.from({ length: 20 }, (_, i) => randomInputs(plain, i));
  const port = await takeWorker();
  port.hold(true);
  await loadOnWorker(port, model.bytes, 1);
  const n = model.name.startsWith('mobilenet') ? 300 : 1000;
  for (let round = 0; round < 3; round++) {
    let started = performance.now();
    for (let i = 0; i < n; i++) await plain.run(samples[i % samples.length]);
    const alone = n / ((performance.now() - started) / 1000);
    started = performance.now();
    const worker = runOnWorker(port, samples, n);
    let here = 0;
    let stop = false;
    void worker.then(() => (stop = true));
    // This thread runs until the worker has done n; yield now and then so its answers arrive.
    while (!stop) {
      await plain.run(samples[here++ % samples.length]);
      if (here % 4 === 0) await new Promise((r) => setImmediate(r));
    }
    await worker;
    const together = (n + here) / ((performance.now() - started) / 1000);
    console.log(`| ${model.name} | ${alone.toFixed(0)} | ${together.toFixed(0)} | ${(together / alone).toFixed(2)}x |`);
  }
  port.post({ type: 'unload' }, []);
  returnWorker(port);
  plain.delete();
}

console.log('\n## A calibration worker loading a model (ms)\n');
console.log('| model | new worker | idle worker from the pool |');
console.log('|---|---|---|');
for (const model of models) {
  setStatsWorkerFactory(undefined); // empties the pool: the next worker is new
  const fresh = await takeWorker();
  fresh.hold(true);
  const cold = await loadOnWorker(fresh, model.bytes, 2);
  fresh.post({ type: 'unload' }, []);
  returnWorker(fresh);
  const idle = await takeWorker();
  idle.hold(true);
  const warm = await loadOnWorker(idle, model.bytes, 3);
  idle.post({ type: 'unload' }, []);
  returnWorker(idle);
  console.log(`| ${model.name} | ${cold.toFixed(0)} | ${warm.toFixed(0)} |`);
}

console.log('\n## Reduced calibration, 300 samples, 1 and 2 LiteRT instances (workers loaded first), ratio to plain inference\n');
console.log('| model | plain samples/s | 1 instance | 2 instances |');
console.log('|---|---|---|---|');
for (const model of models) {
  const graph = readModel(model.bytes);
  const { tapped, meanTensors } = calibrationTensors(graph);
  withReductions(graph, tapped, meanTensors.filter((t) => !graph.subgraphs[0].inputs.includes(t))); // throws if the model cannot be reduced
  const plain = await loadModel(model.bytes);
  const samples = Array.from({ length: 300 }, (_, i) => randomInputs(plain, i));
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (const s of samples) await plain.run(s);
    const rate = samples.length / ((performance.now() - started) / 1000);
    const cells = [];
    for (const litertInstances of [1, 2]) {
      const stats = await calibrate(graph, samples as never, { histograms: false, reductions: 'litert', litertInstances, waitForInstances: true });
      cells.push(`${(stats.samples / (stats.elapsedMs / 1000) / rate).toFixed(2)}x`);
    }
    console.log(`| ${model.name} | ${rate.toFixed(0)} | ${cells.join(' | ')} |`);
  }
  plain.delete();
}
