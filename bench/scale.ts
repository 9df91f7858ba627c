/**
 * bench/scale: the largest shared model through int8 in Node. pose_landmark_heavy_fp16 (27.7 MB)
 * dequantized to float32 (55 MB), then int8 with 100 calibration photos: wall time, CPU time and
 * peak resident memory per step of the pipeline (OptimizeRequest.trace), LiteRT's wasm heap, and
 * the whole run against issue #13's budget (60 s, 2 GB). The machine is shared: the load average
 * is printed with each figure, and CPU time (process.cpuUsage, every thread) is the comparable one.
 * Peak RSS per step comes from a sampler thread reading /proc/self/status every 20 ms (it sees
 * the peaks of synchronous work too); the whole run's from getrusage.
 * Weight copies (tflite/weight-ledger.ts): the bytes of weight-holding arrays alive at each copy
 * made (the model bytes the graph views, written models, new graph buffers, working float32 copies)
 * and the model buffers LiteRT holds in its wasm heap, as multiples of the float model; each
 * measure forces a GC, so --plain leaves the accounting out for the time and RSS figures.
 * Run: npm run bench:scale [-- --calib 100] [-- --plain]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { getGlobalLiteRt } from '@litertjs/core';
import { openDataset } from '../src/data/dataset';
import { defaultPreprocessing, graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { dequantizeBytes, optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe } from '../src/optimize/recipe';
import { calibrationMemory } from '../src/optimize/memory-budget';
import { layerSites } from '../src/optimize/rounding/layer-sites';
import { initRuntime } from '../src/runtime/start';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { startWeightLedger, type WeightCopies, type WeightLedger } from '../src/tflite/weight-ledger';

const { values } = parseArgs({ options: { calib: { type: 'string', default: '100' }, plain: { type: 'boolean', default: false } } });
const calibCount = Number(values.calib);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const peakRss = () => process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
const rssNow = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
/** This thread's LiteRT wasm heap (it only grows). */
const wasmHeap = () => (getGlobalLiteRt() as unknown as { liteRtWasm: { HEAPU8: Uint8Array } }).liteRtWasm.HEAPU8.length;

// The sampler: slot 0 holds the highest VmRSS (KiB) since the main thread last reset it to 0.
const shared = new Int32Array(new SharedArrayBuffer(8));
const sampler = new Worker(
  `const { workerData } = require('node:worker_threads'); const fs = require('node:fs');
   const peak = new Int32Array(workerData);
   setInterval(() => {
     const kb = Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
     if (kb > Atomics.load(peak, 0)) Atomics.store(peak, 0, kb);
   }, 20);`,
  { eval: true, workerData: shared.buffer },
);
sampler.unref();

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU); load average ${load()}`);
const half = readSharedModel('pose_landmark_heavy_fp16.tflite');
let started = performance.now();
const float = dequantizeBytes(half).bytes;
console.log(`dequantize: ${mb(half.length)} float16 -> ${mb(float.length)} float32 in ${((performance.now() - started) / 1000).toFixed(1)} s; RSS ${mb(rssNow())}`);

// Started after the dequantization: the float bytes are the run's input, the copy every other is counted against.
// A fresh context picks up the flags: gc, and cleanupSome (finalization callbacks run at once after it).
setFlagsFromString('--expose-gc');
setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
const gc = runInNewContext('gc') as () => void;
const registry = runInNewContext('FinalizationRegistry') as typeof FinalizationRegistry;
if (!('cleanupSome' in new registry(() => {}))) console.log('warning: no FinalizationRegistry.cleanupSome here: weight copies dropped between two measures count until the next task');
const ledger: WeightLedger | null = values.plain ? null : startWeightLedger({ collect: gc, registry });
const copies = (c: WeightCopies | null) =>
  c ? `${(c.total / float.length).toFixed(1)} x ${mb(float.length)} at ${c.at} (${[...c.byKind].map(([kind, bytes]) => `${kind} ${(bytes / float.length).toFixed(2)}`).join(', ')})` : '-';

const graph = readModel(float);
const estimate = calibrationMemory(graph, layerSites(graph).map((s) => s.input));
console.log(`memory check (memory-budget.ts): LiteRT heap estimated at ${mb(estimate.heapBytes)} for calibration with the layer-input sampler (limit 2147 MB)`);
const files = await filesFromPath(join(dataDir, 'imagenet_val_subset'));
// BlazePose takes RGB in [0, 1].
const dataset = await openDataset(files, graphInputs(graph), {
  preprocessing: graph.subgraphs[0].inputs.map((_, i) => ({ ...defaultPreprocessing(graph, i).preprocessing!, mean: [0], std: [255] })),
});
async function* samples(): AsyncGenerator<Float32Array[]> {
  for (let i = 0; i < calibCount; i++) yield await dataset.sample(i);
}

interface Step {
  name: string;
  wallMs: number;
  cpuMs: number;
  peakRss: number;
  heapAfter: number;
  copies: WeightCopies | null;
  arrayBuffers: number;
  load: string;
  details: string[];
}
const steps: Step[] = [];
let current: { name: string; started: number; cpu: NodeJS.CpuUsage; details: string[] } | null = null;
const closeStep = () => {
  if (!current) return;
  const cpu = process.cpuUsage(current.cpu);
  ledger?.measure(`end of ${current.name}`);
  steps.push({
    name: current.name,
    wallMs: performance.now() - current.started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRss: Math.max(Atomics.load(shared, 0) * 1024, rssNow()),
    heapAfter: wasmHeap(),
    copies: ledger?.takeStepPeak() ?? null,
    arrayBuffers: process.memoryUsage().arrayBuffers,
    load: load(),
    details: current.details,
  });
  current = null;
};
const trace = (step: string, detail?: string) => {
  if (detail !== undefined) {
    current?.details.push(detail);
    return;
  }
  closeStep();
  if (step === 'done') return;
  Atomics.store(shared, 0, 0);
  current = { name: step, started: performance.now(), cpu: process.cpuUsage(), details: [] };
  ledger?.measure(step);
};

console.log(`before the run: RSS ${mb(rssNow())}, LiteRT wasm heap ${mb(wasmHeap())}`);
started = performance.now();
const cpuStart = process.cpuUsage();
const result = await optimizeModel({ model: float, recipe: defaultRecipe('int8'), calibration: samples(), calibrationCount: calibCount, trace });
closeStep();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;

console.log(`step                        wall s   CPU s   peak RSS   wasm heap after   JS array buffers after   load average${ledger ? '' : ' (--plain: no weight-copy accounting)'}`);
for (const s of steps) {
  console.log(
    `${s.name.padEnd(26)} ${(s.wallMs / 1000).toFixed(1).padStart(7)} ${(s.cpuMs / 1000).toFixed(1).padStart(7)} ${mb(s.peakRss).padStart(10)} ${mb(s.heapAfter).padStart(17)} ${mb(s.arrayBuffers).padStart(24)}   ${s.load}`,
  );
  if (ledger) console.log(`    weight copies at the step's peak: ${copies(s.copies)}`);
  for (const d of s.details) console.log(`    ${d}`);
}
const stages = Object.entries(result.timings).map(([stage, ms]) => `${stage} ${(ms! / 1000).toFixed(1)} s`).join(', ');
console.log(`int8 (${calibCount} calibration photos): ${mb(float.length)} -> ${mb(result.bytes.length)} in ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU (${stages}); ops left float: ${result.floatOps.length}`);
for (const note of result.notes) console.log(`  note: ${note}`);
if (ledger) console.log(`weight copies at peak: ${copies(ledger.peak)}; besides, XNNPACK packs a loaded float model's weights once more inside LiteRT's heap`);
console.log(`peak RSS of the whole run: ${mb(peakRss())} (budget 2 GB); time ${seconds <= 60 ? 'within' : 'over'} the 60 s budget; load average at the end ${load()}`);
await sampler.terminate();
