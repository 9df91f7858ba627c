/**
 * Calibration with several LiteRT instances in the browser: the reduced path (min/max and channel
 * sums inside LiteRT) runs samples on a calibration worker too, which starts its own LiteRT from the
 * page's wasm, and the statistics equal those of one instance bit for bit. Runs the core modules
 * through Vite's dev server (no test page or hook in the app).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { devServerWithWebGpu, SHARED } from './support.mjs';

/** In the page: calibrate vww_96_float (232k activation values per sample) with one and with two LiteRT instances. */
async function runInPage({ model }) {
  const { readModel } = await import('/src/tflite/read.ts');
  const { initRuntime, loadModel, randomInputs } = await import('/src/evaluate/runtime.ts');
  const { calibrate } = await import('/src/optimize/calibrate.ts');
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
    let result;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await page.evaluate(runInPage, { model });
        break;
      } catch (e) {
        // Vite may discover dependencies on first import and reload the page once.
        if (attempt >= 2 || !/context was destroyed|navigation|Failed to fetch dynamically imported/i.test(String(e))) throw e;
        await page.waitForLoadState('load');
      }
    }
    console.log(`# one instance: ${result.one.reason}`);
    console.log(`# two instances: ${result.two.reason}`);
    assert.equal(result.one.reductions, 'litert');
    assert.equal(result.two.reductions, 'litert');
    const ran = Number(/(\d+) samples ran in a worker/.exec(result.two.reason)?.[1]);
    assert.ok(ran > 0, `the calibration worker ran samples (${result.two.reason})`);
    assert.deepEqual(result.two.tensors, result.one.tensors, 'min/max statistics');
    assert.deepEqual(result.two.means, result.one.means, 'channel means');
    assert.deepEqual(errors, []);
  });
});
