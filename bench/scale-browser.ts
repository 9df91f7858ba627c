/**
 * bench/scale-browser (issue #13 item 4): bench/scale.ts's int8 run of the largest shared model, in
 * the browser. pose_landmark_heavy_fp16 dequantized here to float32 (55 MB) is handed to the app's
 * own optimizer worker (workers/optimizer.worker.ts via comlink, in headless Chromium from Debian,
 * Vite's dev server with the app's config: cross-origin isolated), with the same 100 photos
 * (imagenet_val_subset, the first 100 in the dataset's order, RGB / 255) as the page hands them;
 * then one int8 variant (defaultRecipe('int8'), as bench:scale) made as the page makes it
 * (runVariant: make the variant, evaluate it on the split's evaluation photos, time both models).
 *
 * Printed: wall time per step (the worker's progress marks, timed here), the pipeline's own stage
 * timings, Chromium's memory sampled from /proc every 200 ms (RSS of the renderer that runs the page
 * and its workers, the tree's summed RSS and PSS; chromium-memory.ts), LiteRT's wasm heap in each
 * worker (litert-heaps.ts), what measureUserAgentSpecificMemory says, the load average beside each
 * figure; then in Node: the bytes load in LiteRT, no op left float (read from the written graph),
 * and the output SQNR against the float model on photos calibration never saw. `--node` also makes the variant in Node from the same
 * photos in the order the app's split feeds them and compares the two files byte for byte;
 * `--compat-wasm` hands the browser LiteRT's compat build (the one Node 20 runs) where it asks for
 * the relaxed-SIMD one, so that the two make their floats the same way.
 * Run: npm run bench:scale-browser [-- --calib 100 --eval 16 --check 32 --node]
 */
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getGlobalLiteRt } from '@litertjs/core';
import type { Page } from 'playwright-core';
import { makeVariant } from '../src/app/make-variant';
import { splitIndices } from '../src/app/split';
import type { Split } from '../src/app/worker-protocol';
import { openDataset, subset } from '../src/data/dataset';
import { defaultPreprocessing, graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { compareModels } from '../src/evaluate/compare';
import { dequantizeBytes } from '../src/optimize/pipeline';
import { defaultRecipe } from '../src/optimize/recipe';
import { initRuntime } from '../src/runtime/start';
import { dataDir, repoRoot, readSharedModel } from '../src/test-support/shared';
import { dtypeName } from '../src/tflite/dtypes';
import { opName } from '../src/tflite/ops';
import { readModel } from '../src/tflite/read';
import { openBenchBrowser } from './browser/bench-browser';
import { chromiumPeaks, type ChromiumSample } from './browser/chromium-memory';
import { litertHeaps, type WorkerHeap } from './browser/litert-heaps';
import type { MemoryMeasure, ScaleAnswer, ScaleRequest } from './browser/scale-page';

const { values } = parseArgs({
  options: {
    calib: { type: 'string', default: '100' },
    eval: { type: 'string', default: '16' },
    check: { type: 'string', default: '32' },
    target: { type: 'string', default: 'cpu' },
    node: { type: 'boolean', default: false },
    'compat-wasm': { type: 'boolean', default: false },
  },
});
const calibCount = Number(values.calib);
const checkCount = Number(values.check);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; load average ${load()}`);
const modelName = 'pose_landmark_heavy_fp16.tflite';
const float = dequantizeBytes(readSharedModel(modelName)).bytes;
const graph = readModel(float);
const folder = join(dataDir, 'imagenet_val_subset');
// As bench/scale.ts: the folder's images in the dataset's order, RGB in [0, 1] (BlazePose's input).
const preprocessing = { ...defaultPreprocessing(graph, 0).preprocessing!, mean: [0], std: [255] };
const dataset = await openDataset(await filesFromPath(folder), graphInputs(graph), { preprocessing: [preprocessing] });
const calibNames = dataset.names.slice(0, calibCount);
// The page gets exactly these photos, so the app's split calibrates on all of them (in its own seeded order).
const split: Split = { calibration: calibCount, evaluation: Number(values.eval), training: 0 };

// ForceEagerMeasureMemory: measureUserAgentSpecificMemory answers now, not at the next GC (up to 20 s later).
const { base, context, close } = await openBenchBrowser('bench-scale-browser', ['bench/browser/scale-page.ts', 'workers/*.worker.ts'], ['--enable-blink-features=ForceEagerMeasureMemory']);

interface Step {
  name: string;
  ms: number;
  peak: ChromiumSample;
  /** LiteRT's wasm heap in each worker at the step's end (heaps never shrink: their largest over the step). */
  heaps: WorkerHeap[];
  load: string;
}
const steps: Step[] = [];
const memory = chromiumPeaks(200);
let current: { name: string; started: number } | null = null;
const marks = new Map<string, number>();
let page: Page | null = null;
const mark = async (stage: string) => {
  if (current?.name === stage) return;
  const now = performance.now();
  if (!marks.has(stage)) marks.set(stage, now);
  if (current) {
    const step: Step = { name: current.name, ms: now - current.started, peak: memory.takePeak(), heaps: [], load: load() };
    steps.push(step);
    // Awaited only at 'returned' (the page waits for this call before it ends the worker); else read when the worker
    // next yields to its event loop, which can be a step later (GPTQ's layers run without yielding).
    const reading = litertHeaps(page!).then((heaps) => (step.heaps = heaps));
    if (stage === 'returned') await reading;
  } else memory.takePeak();
  current = stage === 'returned' ? null : { name: stage, started: now };
};

let answer: ScaleAnswer;
try {
  page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`browser: ${m.text().slice(0, 2000)}`));
  if (values['compat-wasm']) {
    // LiteRT picks its relaxed-SIMD build where the engine has relaxed SIMD (src/runtime/start.ts), the compat one in Node 20;
    // the compat glue then fetches its own .wasm by name.
    const glue = join(repoRoot, 'node_modules/@litertjs/core/wasm/litert_wasm_compat_internal.js');
    await context.route('**/litert_wasm_internal.js', (route) =>
      route.fulfill({ path: glue, contentType: 'text/javascript', headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } }),
    );
  }
  const builds = new Set<string>();
  context.on('request', (r) => /litert_wasm_\w+\.wasm/.test(r.url()) && builds.add(/litert_wasm_\w+\.wasm/.exec(r.url())![0]));
  page.on('crash', () => console.error('browser: the page crashed'));
  await page.exposeFunction('benchMark', (stage: string) => mark(stage));
  const modelUrl = `${base}bench-model/${modelName.replace('_fp16', '_dequantized')}`;
  await page.route(modelUrl, (route) => route.fulfill({ body: Buffer.from(float.buffer, float.byteOffset, float.length), contentType: 'application/octet-stream' }));
  await page.goto(`${base}bench/browser/scale.html`);
  await page.waitForFunction(() => 'runScale' in window);
  const request: ScaleRequest = {
    modelUrl,
    modelName: modelName.replace('_fp16', ''),
    images: calibNames.map((path) => ({ path, url: `${base}@fs${resolve(folder, path)}` })),
    preprocessing,
    split,
    target: values.target as ScaleRequest['target'],
  };
  console.log(`Chromium ${context.browser()?.version() ?? '(persistent context)'}: ${calibNames.length} photos, split ${JSON.stringify(split)}, target ${request.target}; load average ${load()}`);
  answer = await page.evaluate((r) => window.runScale(r), request);
  console.log(`LiteRT wasm the browser fetched: ${[...builds].join(', ') || 'none seen'}`);
} finally {
  memory.stop();
  await close();
}
if (!answer.ok) throw new Error(`the browser worker failed: ${answer.error}`);

console.log(`cross-origin isolated: ${answer.isolated}; the worker opened ${answer.datasetSize} photos; /proc sampled every 200 ms (${memory.sampleCostMs().toFixed(0)} ms a sample)`);
console.log("step (worker progress)      wall s   renderer RSS   tree RSS   tree PSS   load average     LiteRT heaps (read when the worker yields)");
for (const s of steps) {
  console.log(`${s.name.padEnd(26)} ${(s.ms / 1000).toFixed(1).padStart(7)} ${mb(s.peak.renderer).padStart(14)} ${mb(s.peak.rss).padStart(10)} ${mb(s.peak.pss).padStart(10)}   ${s.load.padEnd(15)}  ${s.heaps.map((h) => `${h.worker} ${mb(h.bytes)}`).join(', ')}`);
}
const runSteps = steps.slice(steps.findIndex((s) => s.name === 'run: read model'));
const peakOf = (list: Step[], key: keyof ChromiumSample) => Math.max(0, ...list.map((s) => s.peak[key]));
const made = (marks.get('evaluate') ?? marks.get('returned')!) - marks.get('run: read model')!;
const whole = marks.get('returned')! - marks.get('start worker')!;
const stages = Object.entries(answer.timings).map(([stage, ms]) => `${stage} ${seconds(ms)}`).join(', ');
console.log(`pipeline's own stage timings (worker): ${stages}`);
console.log(`int8 made in the worker (run called .. check done): ${seconds(made)} wall; whole run (start worker .. result back, evaluation and latency included): ${seconds(whole)}`);
console.log(`peak during the variant run: renderer RSS ${mb(peakOf(runSteps, 'renderer'))}, Chromium tree RSS ${mb(peakOf(runSteps, 'rss'))}, PSS ${mb(peakOf(runSteps, 'pss'))} (issue #13's 2 GB is Node's budget); whole session: renderer ${mb(peakOf(steps, 'renderer'))}, tree PSS ${mb(peakOf(steps, 'pss'))}`);
const measured = (m: MemoryMeasure | string) =>
  typeof m === 'string' ? m : `${mb(m.bytes)} (${m.breakdown.map((b) => `${b.scopes.join('/') || 'shared'} ${b.types.join('+') || ''} ${mb(b.bytes)}`).join(', ')})`;
console.log(`measureUserAgentSpecificMemory: before the run ${measured(answer.memory.beforeRun)}; after ${measured(answer.memory.afterRun)}`);
console.log(`the app's evaluation (${answer.evaluatedSamples} of the calibration photos): ${answer.outputs.map((o) => `${o.name} ${o.sqnrDb.toFixed(1)} dB`).join(', ')}; latency median int8 ${answer.latencyMs.candidate.toFixed(0)} ms, float ${answer.latencyMs.reference.toFixed(0)} ms`);
for (const note of answer.notes) console.log(`  note: ${note}`);

// What came back, checked in Node.
const bytes = new Uint8Array(Buffer.from(answer.bytesBase64, 'base64'));
const written = readModel(bytes);
const floatOps = written.subgraphs.flatMap((sg) =>
  sg.operators
    .filter((op) => !['QUANTIZE', 'DEQUANTIZE'].includes(opName(written, op)))
    .filter((op) => [...op.inputs, ...op.outputs].some((t) => t >= 0 && dtypeName(sg.tensors[t].type) === 'float32'))
    .map((op) => opName(written, op)),
);
console.log(`written model: ${mb(float.length)} -> ${(bytes.length / 1e6).toFixed(1)} MB (${answer.label}); ops with a float32 tensor other than QUANTIZE / DEQUANTIZE: ${floatOps.length}${floatOps.length ? ` (${floatOps.join(', ')})` : ''}; the worker's float-op list: ${answer.floatOps.length}`);
await initRuntime();
const held = Array.from({ length: Math.min(checkCount, dataset.size - calibCount) }, (_, i) => calibCount + i);
const heldSamples = await Promise.all(held.map((i) => dataset.sample(i)));
/** This thread's LiteRT wasm heap (it only grows), as bench/scale.ts reads it. */
const heap = () => (getGlobalLiteRt() as unknown as { liteRtWasm: { HEAPU8: Uint8Array } }).liteRtWasm.HEAPU8.length;
const sqnrs = (c: { outputs: { name: string; sqnrDb: number }[] }) => c.outputs.map((o) => `${o.name} ${o.sqnrDb.toFixed(1)} dB`).join(', ');

let nodeBytes: Uint8Array | null = null;
if (values.node) {
  // The worker's own path (makeVariant over the app's split of the same photos, with the page's activation
  // summaries), in Node, before anything else loads a model here: the heap figure is then the make's alone.
  const photos = subset(dataset, calibNames.map((_, i) => i));
  const started = performance.now();
  const node = await makeVariant({ model: float, spec: { recipe: defaultRecipe('int8') }, dataset: photos, indices: splitIndices(photos, split), activationSummaries: true });
  nodeBytes = node.bytes;
  const same = node.bytes.length === bytes.length && node.bytes.every((b, i) => b === bytes[i]);
  console.log(`Node made the same variant in ${seconds(performance.now() - started)} (LiteRT heap ${mb(heap())}): ${same ? 'byte for byte the same file' : 'a different file'}; load average ${load()}`);
  if (same) nodeBytes = null;
}
const check = await compareModels(float, bytes, heldSamples);
console.log(`LiteRT (Node) ran the browser's int8 against the float model on ${check.samples} photos calibration never saw: ${sqnrs(check)}; load average ${load()}`);
if (nodeBytes) {
  console.log(`  Node's int8 against the float model on the same photos: ${sqnrs(await compareModels(float, nodeBytes, heldSamples))}`);
  console.log(`  browser's int8 against Node's: ${sqnrs(await compareModels(nodeBytes, bytes, heldSamples))}`);
}
