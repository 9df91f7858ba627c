/**
 * The WebGPU probe on a real (software) WebGPU adapter: Chromium started with
 * --enable-unsafe-webgpu gets SwiftShader. The probe must say the float model runs on WebGPU, on a
 * fallback adapter, and give the int8 model's outcome with its reason; never throw. Runs the core
 * modules through Vite's dev server (no test hooks in the app).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { devServerWithWebGpu, ROOT } from './support.mjs';

const MODELS = path.resolve(ROOT, '../shared/models');

describe('LiteRT.js on a software WebGPU adapter', () => {
  let session;
  let context;
  let base;

  before(async () => {
    session = await devServerWithWebGpu('tflite-webgpu-');
    ({ context, base } = session);
  });

  after(async () => {
    await session?.close();
  });

  test('probeWebGpu: float MNIST runs on WebGPU (fallback adapter); int8 says what happens', { timeout: 120_000 }, async () => {
    const page = await context.newPage();
    await page.goto(base);
    const float = [...readFileSync(path.join(MODELS, 'mnist_conv_fc_float.tflite'))];
    const int8 = [...readFileSync(path.join(MODELS, 'mnist_conv_fc_int8.tflite'))];
    const results = await page.evaluate(
      async ({ float, int8, base }) => {
        const { initRuntime } = await import('/src/runtime/start.ts');
        const { probeWebGpu } = await import('/src/runtime/webgpu-probe.ts');
        await initRuntime({ wasmBase: new URL('litert/', base).href });
        const hasAdapter = !!(await navigator.gpu?.requestAdapter());
        const probe = async (bytes) => probeWebGpu(new Uint8Array(bytes), { timeoutMs: 20_000 });
        return { hasAdapter, float: await probe(float), int8: await probe(int8) };
      },
      { float, int8, base },
    );
    console.log(`# float: ${results.float.status}: ${results.float.message}`);
    console.log(`# int8: ${results.int8.status}: ${results.int8.message}`);
    if (!results.hasAdapter) {
      // Some Chromium builds give no adapter even with the flag: then the probe must say exactly that.
      assert.equal(results.float.status, 'no-adapter');
      return;
    }
    assert.ok(['webgpu', 'partial'].includes(results.float.status), `float model on WebGPU: ${results.float.message}`);
    assert.equal(results.float.fallbackAdapter, true, 'SwiftShader is a fallback adapter');
    assert.match(results.float.message, /fallback: yes/);
    assert.ok(['webgpu', 'partial', 'wasm', 'failed'].includes(results.int8.status));
    assert.ok(results.int8.message.length > 10, 'the int8 outcome comes with its reason');
  });
});
