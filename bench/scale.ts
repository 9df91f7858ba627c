/**
 * bench/scale: the largest shared model through int8 in Node. pose_landmark_heavy_fp16 (27.7 MB)
 * dequantized to float32 (55 MB), then int8 with 100 calibration photos: wall time per stage and the
 * process's peak resident memory (getrusage maxRSS), against issue #13's budget (60 s, 2 GB).
 * Run: npm run bench:scale [-- --calib 100]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset';
import { defaultPreprocessing, graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { dequantizeBytes, optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe } from '../src/optimize/recipe';
import { initRuntime } from '../src/runtime/start';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({ options: { calib: { type: 'string', default: '100' } } });
const calibCount = Number(values.calib);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
const half = readSharedModel('pose_landmark_heavy_fp16.tflite');
let started = performance.now();
const float = dequantizeBytes(half).bytes;
console.log(`dequantize: ${mb(half.length)} float16 -> ${mb(float.length)} float32 in ${((performance.now() - started) / 1000).toFixed(1)} s; peak RSS ${mb(peakRss())}`);

const graph = readModel(float);
const files = await filesFromPath(join(dataDir, 'imagenet_val_subset'));
// BlazePose takes RGB in [0, 1].
const dataset = await openDataset(files, graphInputs(graph), {
  preprocessing: graph.subgraphs[0].inputs.map((_, i) => ({ ...defaultPreprocessing(graph, i).preprocessing!, mean: [0], std: [255] })),
});
async function* samples(): AsyncGenerator<Float32Array[]> {
  for (let i = 0; i < calibCount; i++) yield await dataset.sample(i);
}
started = performance.now();
const result = await optimizeModel({ model: float, recipe: defaultRecipe('int8'), calibration: samples(), calibrationCount: calibCount });
const seconds = (performance.now() - started) / 1000;
const stages = Object.entries(result.timings).map(([stage, ms]) => `${stage} ${(ms! / 1000).toFixed(1)} s`).join(', ');
console.log(`int8 (${calibCount} calibration photos): ${mb(float.length)} -> ${mb(result.bytes.length)} in ${seconds.toFixed(1)} s (${stages}); ops left float: ${result.floatOps.length}`);
console.log(`peak RSS of the whole run: ${mb(peakRss())} (budget 2 GB); time ${seconds <= 60 ? 'within' : 'over'} the 60 s budget`);
