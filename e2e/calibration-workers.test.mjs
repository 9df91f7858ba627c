/**
 * Calibration with several LiteRT instances in the browser: the reduced path (min/max and channel
 * sums inside LiteRT) runs samples on a calibration worker too, which starts its own LiteRT from the
 * page's wasm, and the statistics equal those of one instance bit for bit, in a page and in a module
 * worker (as the app's optimizer worker runs it). Runs the core modules through Vite's dev server
 * (no test page or hook in the app); then checks the production build's calibration worker bundle
 * loads a model into LiteRT and runs it (its LiteRT modules are chunks it imports on demand).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { tsImport } from 'tsx/esm/api';
import { preview } from 'vite';
import { CHROMIUM_ARGS, devServerWithWebGpu, ROOT, SHARED } from './support.mjs';

/**
 * Calibrates vww_96_float (232k activation values per sample) with one and with two LiteRT
 * instances and returns both results as plain data. Runs in the page and, from its source text,
 * in a module worker: it imports the core modules by URL from the dev server at `origin`.
 */
async function calibrateTwice(model, origin) {
  const { readModel } = await import(`${origin}/src/tflite/read.ts`);
  const { initRuntime } = await import(`${origin}/src/runtime/start.ts`);
  const { loadModel } = await import(`${origin}/src/runtime/load.ts`);
  const { randomInputs } = await import(`${origin}/src/runtime/random-inputs.ts`);
  const { calibrate } = await import(`${origin}/src/optimize/calibrate/calibrate.ts`);
  // As the app's optimizer worker does: the core has no browser default for calibration workers.
  const { setStatsWorkerFactory } = await import(`${origin}/src/optimize/calibrate/worker/stats-thread.ts`);
  const { browserStatsWorker } = await import(`${origin}/workers/calibration-stats-browser.ts`);
  setStatsWorkerFactory(browserStatsWorker);
  await initRuntime();
  const bytes = new Uint8Array(model);
  const graph = readModel(bytes);
  const probe = await loadModel(bytes);
  const samples = Array.from({ length: 24 }, (_, i) => randomInputs(probe, i + 1));
  probe.delete();
  const summary = (s) => ({
    reason: s.statsReason,
    reductions: s.reductions,
    tensors: [...s.tensors].map(([key, t]) => [key, t.samples, t.count, t.min, t.max, t.movingMin, t.movingMax]),
    means: [...s.channelMeans].map(([key, m]) => [key, Array.from(m)]),
  });
  const one = await calibrate(graph, samples, { histograms: false, litertInstances: 1 });
  const two = await calibrate(graph, samples, { histograms: false, litertInstances: 2, waitForInstances: true });
  return { one: summary(one), two: summary(two) };
}

/** In the page: calibrateTwice, given as source text (page.evaluate sends one function only). */
async function runInPage({ model, calibrateSource }) {
  const run = (0, eval)(`(${calibrateSource})`);
  return run(model, location.origin);
}

/**
 * In the page: calibrateTwice inside a module worker, as the app's optimizer worker calibrates (the
 * calibration worker is then a nested worker, and takes the outer worker's wasm URL).
 */
async function runInWorker({ model, calibrateSource }) {
  const source = `
    const calibrateTwice = ${calibrateSource};
    self.onmessage = async (event) => {
      try {
        self.postMessage(await calibrateTwice(event.data, ${JSON.stringify(location.origin)}));
      } catch (error) {
        self.postMessage({ error: String(error?.stack ?? error) });
      }
    };
    self.postMessage({ ready: true });
  `;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(e.message || 'the worker failed to load'));
      worker.onmessage = (e) => {
        if (e.data.ready) worker.postMessage(new Uint8Array(model));
        else if (e.data.error) reject(new Error(e.data.error));
        else resolve(e.data);
      };
    });
  } finally {
    worker.terminate();
  }
}

/** Both instance counts gave the same statistics, and the calibration worker ran samples. */
function checkSame(result) {
  console.log(`# one instance: ${result.one.reason}`);
  console.log(`# two instances: ${result.two.reason}`);
  assert.equal(result.one.reductions, 'litert');
  assert.equal(result.two.reductions, 'litert');
  const ran = Number(/(\d+) samples ran in a worker/.exec(result.two.reason)?.[1]);
  assert.ok(ran > 0, `the calibration worker ran samples (${result.two.reason})`);
  assert.doesNotMatch(result.two.reason, /failed/);
  assert.deepEqual(result.two.tensors, result.one.tensors, 'min/max statistics');
  assert.deepEqual(result.two.means, result.one.means, 'channel means');
}

/** page.evaluate, retried when Vite reloads the page after discovering dependencies. */
async function evaluateWithRetry(page, fn, arg) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await page.evaluate(fn, arg);
    } catch (e) {
      if (attempt >= 2 || !/context was destroyed|navigation|Failed to fetch dynamically imported/i.test(String(e))) throw e;
      await page.waitForLoadState('load');
    }
  }
}

describe('calibration workers in the browser', () => {
  let session;

  before(async () => {
    session = await devServerWithWebGpu('tflite-calibration-workers-');
  });

  after(async () => {
    await session?.close();
  });

  test('two LiteRT instances (the page and a calibration worker): bit-identical statistics', { timeout: 300_000 }, async () => {
    const page = await session.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(session.base);
    const model = [...readFileSync(path.join(SHARED, 'models', 'vww_96_float.tflite'))];
    checkSame(await evaluateWithRetry(page, runInPage, { model, calibrateSource: calibrateTwice.toString() }));
    assert.deepEqual(errors, []);
  });

  test('inside a module worker (as in the app): the nested calibration worker runs samples, same statistics', { timeout: 300_000 }, async () => {
    const page = await session.context.newPage();
    await page.goto(session.base);
    const model = [...readFileSync(path.join(SHARED, 'models', 'vww_96_float.tflite'))];
    checkSame(await evaluateWithRetry(page, runInWorker, { model, calibrateSource: calibrateTwice.toString() }));
  });
});

/** In a page of the production build: the bundled calibration worker loads a model and runs a sample. */
async function runBundledWorker({ workerUrl, model, tensor, wasmBase }) {
  const worker = new Worker(workerUrl, { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(e.message || 'the worker failed to load'));
      worker.onmessage = (e) => {
        const reply = e.data;
        if (reply.type === 'model-loaded') worker.postMessage({ type: 'run', id: 2, inputs: [new Float32Array(96 * 96 * 3).fill(0.5)] });
        else if (reply.type === 'ran') resolve({ id: reply.id, length: reply.values[0].length, finite: reply.outputsFinite, max: Math.max(...reply.values[0]) });
        else reject(new Error(JSON.stringify(reply)));
      };
      worker.postMessage({ type: 'load-model', id: 1, bytes: new Uint8Array(model), select: [tensor], pack: false, wasmBase });
    });
  } finally {
    worker.terminate();
  }
}

describe('the production build', () => {
  let server;
  let context;
  let userDataDir;

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'index.html'))) throw new Error('dist/ is missing: run `npm run test:e2e` (it builds first).');
    server = await preview({ root: ROOT, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false } });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'tflite-calibration-build-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  test('the bundled calibration worker runs a model on its own LiteRT', { timeout: 120_000 }, async () => {
    const base = `http://127.0.0.1:${server.httpServer.address().port}/`;
    const bundled = readdirSync(path.join(ROOT, 'dist', 'assets')).filter((f) => f.startsWith('calibration-stats.worker-') && f.endsWith('.js'));
    assert.equal(bundled.length, 1, `one calibration worker bundle (${bundled.join(', ')})`);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base);
    const bytes = readFileSync(path.join(SHARED, 'models', 'vww_96_float.tflite'));
    const { readModel } = await tsImport('../src/tflite/read.ts', import.meta.url);
    const tensor = readModel(new Uint8Array(bytes)).subgraphs[0].operators[0].outputs[0]; // the first convolution's output
    const result = await page.evaluate(runBundledWorker, { workerUrl: `${base}assets/${bundled[0]}`, model: [...bytes], tensor, wasmBase: `${base}litert/` });
    console.log(`# bundled calibration worker: ${JSON.stringify(result)}`);
    assert.equal(result.id, 2);
    assert.ok(result.length > 1000, 'the tapped activation came back');
    assert.equal(result.finite, true);
    assert.deepEqual(errors, []);
  });
});
