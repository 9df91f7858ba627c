/**
 * bench/activation-summary: what keeping the calibrated activations' summary costs a page run
 * (OptimizeRequest.activationSummaries): its size as the session stores it (structured clone,
 * measured with v8.serialize, and as JSON), and calibration time with it (histograms, values path)
 * against without (the default minmax recipe reduces inside LiteRT). int8, 100 random samples;
 * times are the best of two runs each, interleaved (the first run of a process also warms up).
 * Run: npm run bench:activation-summary
 */
import { cpus } from 'node:os';
import { serialize } from 'node:v8';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe } from '../src/optimize/recipe';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import type { Sample } from '../src/runtime/samples';
import { readSharedModel } from '../src/test-support/shared';

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);
const SAMPLES = 100;
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['mobilenet_v1_0.25_224_float.tflite', 'pose_landmark_lite_fp16.tflite'];
console.log('| model | tensors summarized | samples binned | structured clone | JSON | model bytes (int8) | calibrate without / with (ms) |');
console.log('|---|---|---|---|---|---|---|');
for (const name of names) {
  const bytes = readSharedModel(name);
  const model = await loadModel(bytes);
  const samples = Array.from({ length: SAMPLES }, (_, i) => randomInputs(model, i) as Sample);
  model.delete();
  const run = (activationSummaries: boolean) =>
    optimizeModel({ model: bytes, recipe: defaultRecipe('int8'), calibration: samples, calibrationCount: SAMPLES, skipCheck: true, allowFloatFallback: true, activationSummaries });
  const runs: Awaited<ReturnType<typeof run>>[] = [];
  for (let round = 0; round < 2; round++) runs.push(await run(false), await run(true));
  const best = (flag: boolean) => Math.min(...runs.filter((r) => !!r.activations === flag).map((r) => r.timings.calibrate ?? Infinity));
  const withSummary = runs[1];
  const summaries = withSummary.activations ?? [];
  console.log(
    `| ${name} | ${summaries.length} | ${summaries[0]?.samples} of ${summaries[0]?.samplesCalibrated} | ${(serialize(summaries).length / 1024).toFixed(1)} KiB | ${(JSON.stringify(summaries).length / 1024).toFixed(1)} KiB | ${(withSummary.bytes.length / 1024).toFixed(0)} KiB | ${best(false).toFixed(0)} / ${best(true).toFixed(0)} |`,
  );
}
