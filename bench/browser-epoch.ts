/**
 * bench/browser-epoch (issue #13): the same QAT epoch (MobileNetV1 0.25, N ImageNet photos, batch
 * 16; bench/browser/qat-epoch-run.ts) in Node and in a module worker of headless Chromium (Debian
 * /usr/bin/chromium, Vite's dev server with the app's config: cross-origin isolated, the engine's
 * WASM as the app's workers start it), one after the other in one run, and the browser / Node ratio
 * (issue #13: <= 1.5x).
 * Run: npm run bench:browser-epoch [-- --images 200]
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { filesFromPath } from '../src/data/files-node';
import { isImagePath } from '../src/data/image-decode';
import { initNodeEngine } from '../src/engine/backend-node';
import { dataDir, modelsDir, readSharedModel } from '../src/test-support/shared';
import { openBenchBrowser } from './browser/bench-browser';
import { readFileSync } from 'node:fs';
import { qatEpoch, type EpochRun } from './browser/qat-epoch-run';

const { values } = parseArgs({ options: { images: { type: 'string', default: '200' } } });
const count = Number(values.images);
const load = () => `load ${loadavg()[0].toFixed(1)}`;
const folder = join(dataDir, 'imagenet_val_subset');
const modelName = 'mobilenet_v1_0.25_224_float.tflite';
const images = (await filesFromPath(folder)).filter((f) => isImagePath(f.path));
const labels = readFileSync(join(folder, 'labels.csv'), 'utf8');

function print(where: string, run: EpochRun) {
  const parts = Object.entries(run.parts)
    .sort((a, b) => b[1]! - a[1]!)
    .map(([part, ms]) => `${part} ${(ms! / 1000).toFixed(1)}`)
    .join(', ');
  console.log(`${where}: epoch of ${run.steps} steps (batch ${run.batch}) ${(run.epochMs / 1000).toFixed(1)} s (${parts}); ${load()}`);
}

await initNodeEngine();
console.log(`Node ${process.version}, engine ${tf.getBackend()}; ${load()}`);
const node = await qatEpoch(readSharedModel(modelName), images, labels, count);
print('Node', node);

const { base, context, close } = await openBenchBrowser('bench-browser-epoch', ['bench/browser/*.worker.ts']);
try {
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`browser: ${m.text()}`));
  await page.goto(`${base}bench/browser/qat-epoch.html`);
  await page.waitForFunction(() => 'runEpoch' in window);
  const fsUrl = (path: string) => `${base}@fs${resolve(path)}`;
  const request = {
    modelUrl: fsUrl(join(modelsDir, modelName)),
    labelsUrl: fsUrl(join(folder, 'labels.csv')),
    images: images.map((f) => ({ path: f.path, size: f.size, url: fsUrl(join(folder, f.path)) })),
    count,
  };
  const answer = (await page.evaluate((r) => (window as unknown as { runEpoch(r: unknown): Promise<unknown> }).runEpoch(r), request)) as
    | { ok: true; run: EpochRun; engine: unknown; isolated: boolean }
    | { ok: false; error: string };
  if (!answer.ok) throw new Error(`the browser worker failed: ${answer.error}`);
  console.log(`Chromium ${context.browser()?.version() ?? ''} module worker, engine ${JSON.stringify(answer.engine)}, cross-origin isolated: ${answer.isolated}`);
  print('browser', answer.run);
  console.log(`browser / Node = ${(answer.run.epochMs / node.epochMs).toFixed(2)}x (issue #13: <= 1.5x)`);
} finally {
  await close();
}
