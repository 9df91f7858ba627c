/**
 * bench/calibration-paths: calibration throughput through LiteRT (statistics in-thread, in a worker
 * overlapping the runs, or reduced inside LiteRT: calibrate()'s default), with and without
 * histograms, next to plain LiteRT inference of the same samples. Rounds are interleaved and the best of each is kept (the dev
 * machine is shared; the best round is the least disturbed one).
 * Run: npm run bench:calibration-paths [-- model.tflite ...]
 */
import { cpus } from 'node:os';
import { initRuntime } from '../src/runtime/start';
import { readModel } from '../src/tflite/read';
import { readSharedModel } from '../src/test-support/shared';
import { writeModel } from '../src/tflite/write';
import { syntheticModel } from './synthetic-model';
import { calibrationPathRows, initBenchEngine, printCalibrationTable } from './calibration-table';

await initRuntime();
const engine = await initBenchEngine();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU), engine: tfjs ${engine}\n`);

const names = process.argv.slice(2).filter((a) => a.endsWith('.tflite'));
const models = (names.length ? names : ['mnist_conv_fc_float.tflite', 'resnet8_cifar10_float.tflite', 'vww_96_float.tflite', 'mobilenet_v1_0.25_224_float.tflite', 'audio_event_527_float.tflite'])
  .map((name) => ({ name, bytes: readSharedModel(name) }));
if (!names.length) models.push({ name: 'synthetic FC chain (14 MB)', bytes: writeModel(syntheticModel(14e6)) });

console.log('## Calibration throughput by path vs plain LiteRT inference (same 300 samples, best of 3 interleaved rounds)\n');
const rows = [];
for (const model of models) rows.push(...(await calibrationPathRows(model.name, model.bytes, readModel(model.bytes), { samples: 300, rounds: 3 })));
printCalibrationTable(rows);
