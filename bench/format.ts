/**
 * bench/format: read and write throughput of the TFLite format core, next to a plain copy of the
 * same bytes. Run: npm run bench:format
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import { readModel } from '../src/tflite/read';
import { writeModel } from '../src/tflite/write';
import { modelsDir, sharedModelNames } from '../src/test-support/shared';
import { syntheticModel } from './synthetic-model';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(fn: () => unknown, repeats: number): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

const gbps = (bytes: number, ms: number) => (bytes / 1e9 / (ms / 1000)).toFixed(2);

function measure(label: string, view: Uint8Array, repeats: number) {
  // A file read from disk owns its buffer; a view would make readModel copy it first.
  const bytes = view.slice();
  const graph = readModel(bytes);
  const copyMs = time(() => bytes.slice(), repeats);
  const readMs = time(() => readModel(bytes), repeats);
  const writeMs = time(() => writeModel(graph), repeats);
  const mb = (bytes.length / 1e6).toFixed(1);
  console.log(
    `| ${label} | ${mb} MB | ${copyMs.toFixed(2)} ms (${gbps(bytes.length, copyMs)} GB/s) | ${readMs.toFixed(2)} ms (${gbps(bytes.length, readMs)} GB/s) | ${writeMs.toFixed(2)} ms (${gbps(bytes.length, writeMs)} GB/s) | ${(writeMs / copyMs).toFixed(2)}x |`,
  );
}

const largest = sharedModelNames()
  .map((name) => ({ name, size: readFileSync(join(modelsDir, name)).length }))
  .sort((a, b) => b.size - a.size)[0];

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
console.log('| model | size | plain copy | read | write | write / copy |');
console.log('|---|---|---|---|---|---|');
measure(largest.name, new Uint8Array(readFileSync(join(modelsDir, largest.name))), 20);
const synthetic = writeModel(syntheticModel(100e6));
measure('synthetic FC chain', synthetic, 7);

// The synthetic model is only a fair yardstick if it is a real model: run it once in LiteRT.
await initRuntime();
const model = await loadModel(synthetic);
const [output] = await model.run(randomInputs(model, 1));
console.log(`synthetic model runs in LiteRT: output ${output.dtype} [${output.shape}], finite: ${Array.from(output.data).every(Number.isFinite)}`);
model.delete();
