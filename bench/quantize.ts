/**
 * bench/quantize: time to quantize with each technique, calibration throughput (LiteRT and engine
 * paths, bench/calibration-table.ts) next to plain LiteRT inference on the same samples, and our
 * int8 latency next to Google's int8 models.
 * Run: npm run bench:quantize
 */
import { cpus } from 'node:os';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, TECHNIQUES } from '../src/optimize/recipe';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import { measureLatency } from '../src/evaluate/latency';
import type { Sample } from '../src/runtime/samples';
import { readModel } from '../src/tflite/read';
import { writeModel } from '../src/tflite/write';
import { readSharedModel, sharedModelNames } from '../src/test-support/shared';
import { syntheticModel } from './synthetic-model';
import { calibrationPathRows, initBenchEngine, printCalibrationTable } from './calibration-table';

await initRuntime();
const engine = await initBenchEngine(); // the calibration table also measures the engine path (on request only)
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU), engine: tfjs ${engine}\n`);

async function samplesFor(bytes: Uint8Array, count: number): Promise<Sample[]> {
  const model = await loadModel(bytes);
  const samples = Array.from({ length: count }, (_, i) => randomInputs(model, i) as Sample);
  model.delete();
  return samples;
}

const largest = sharedModelNames()
  .filter((name) => readModel(readSharedModel(name)) && /float/.test(name) && !/lstm|rnn/.test(name))
  .map((name) => ({ name, bytes: readSharedModel(name) }))
  .sort((a, b) => b.bytes.length - a.bytes.length)[0];
const synthetic = { name: 'synthetic FC chain (14 MB)', bytes: writeModel(syntheticModel(14e6)) };

console.log('## Time to quantize (median of 3; int8/16x8 include calibration on 20 samples)\n');
console.log(`| technique | ${largest.name} (${(largest.bytes.length / 1e6).toFixed(1)} MB) | ${synthetic.name} |`);
console.log('|---|---|---|');
for (const technique of TECHNIQUES) {
  const cells: string[] = [];
  for (const model of [largest, synthetic]) {
    const samples = await samplesFor(model.bytes, 20);
    const times: number[] = [];
    let quantizeMs = 0;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const result = await optimizeModel({ model: model.bytes, recipe: defaultRecipe(technique), calibration: samples, skipCheck: true });
      times.push(performance.now() - started);
      quantizeMs = (result.timings.quantize ?? 0) + (result.timings.write ?? 0);
    }
    times.sort((a, b) => a - b);
    cells.push(`${(times[1] / 1000).toFixed(3)} s (rewrite+write ${(quantizeMs / 1000).toFixed(3)} s)`);
  }
  console.log(`| ${technique} | ${cells.join(' | ')} |`);
}

console.log('\n## Calibration throughput by path vs plain LiteRT inference (same 300 samples, best of 3 interleaved rounds)\n');
console.log('(More models: npm run bench:calibration-paths.)\n');
const calibrationRows = [];
for (const model of [largest, synthetic]) calibrationRows.push(...(await calibrationPathRows(model.name, model.bytes, readModel(model.bytes), { samples: 300, rounds: 3 })));
printCalibrationTable(calibrationRows);

console.log('\n## Our int8 vs Google int8 latency (median of 200 runs after 20 warm-up, int8 I/O)\n');
console.log('| network | ours | Google | ours / Google |');
console.log('|---|---|---|---|');
for (const [float, google] of [
  ['vww_96_float.tflite', 'vww_96_int8.tflite'],
  ['resnet8_cifar10_float.tflite', 'resnet8_cifar10_int8.tflite'],
  ['ad01_toycar_autoencoder_float.tflite', 'ad01_toycar_autoencoder_int8.tflite'],
  ['mnist_conv_fc_float.tflite', 'mnist_conv_fc_int8.tflite'],
]) {
  const bytes = readSharedModel(float);
  const samples = await samplesFor(bytes, 20);
  const recipe = { ...defaultRecipe('int8'), io: 'int8' as const };
  const ours = (await optimizeModel({ model: bytes, recipe, calibration: samples, skipCheck: true })).bytes;
  const a = await measureLatency(ours, { runs: 200, warmup: 20 });
  const b = await measureLatency(readSharedModel(google), { runs: 200, warmup: 20 });
  console.log(`| ${float.replace('_float.tflite', '')} | ${a.medianMs.toFixed(3)} ms | ${b.medianMs.toFixed(3)} ms | ${(a.medianMs / b.medianMs).toFixed(2)} |`);
}
