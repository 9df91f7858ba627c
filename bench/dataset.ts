/**
 * npm run bench:dataset
 *
 * What producing image samples costs: the shared 500-image ImageNet subset for MobileNetV1 0.25
 * (224x224x3), one pass after another over the same samples (as evaluating several variants
 * does), without the decoded-image cache, with its default budget (the subset's decoded pixels,
 * about 78 MB, do not all fit) and with twice that. Each row runs in a fresh Node process (what
 * one row leaves on the heap changes the next one's first pass). Mean ms per sample, wall clock.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDataset } from '../src/data/dataset';
import { DECODED_CACHE_BYTES } from '../src/data/decoded-cache';
import { defaultPreprocessing, graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const row = process.argv[2];
if (row === undefined) {
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);
  console.log('| decoded-image cache | pass 1 | pass 2 | pass 3 |');
  console.log('|---|---|---|---|');
  for (const budget of [0, DECODED_CACHE_BYTES, 2 * DECODED_CACHE_BYTES]) {
    const script = fileURLToPath(import.meta.url);
    process.stdout.write(execFileSync(process.execPath, [...process.execArgv, script, String(budget)], { encoding: 'utf8' }));
  }
} else {
  const budget = Number(row);
  const model = readModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'));
  const preprocessing = defaultPreprocessing(model).preprocessing!;
  const files = await filesFromPath(join(dataDir, 'imagenet_val_subset'));
  const dataset = await openDataset(files, graphInputs(model), { preprocessing, decodedCacheBytes: budget });
  const passes: string[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const started = performance.now();
    for (let i = 0; i < dataset.size; i++) await dataset.sample(i);
    passes.push(`${((performance.now() - started) / dataset.size).toFixed(2)} ms`);
  }
  const label = budget === 0 ? 'none' : `${budget >> 20} MB${budget === DECODED_CACHE_BYTES ? ' (default)' : ''}`;
  console.log(`| ${label} | ${passes.join(' | ')} |`);
}
