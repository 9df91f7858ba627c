/**
 * The engine on WebGPU computes what it computes on WASM: headless Chromium with
 * --enable-unsafe-webgpu gets SwiftShader (a fallback adapter), the engine runs float models on
 * WebGPU when asked for explicitly and on WASM, and the outputs agree to 1e-4 relative. With 'auto'
 * it must choose WASM on that fallback adapter and say why. Runs the core modules through Vite's dev
 * server (no test page or hook in the app); the WASM binaries come from the app itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { devServerWithWebGpu, ROOT } from './support.mjs';

const MODELS = path.resolve(ROOT, '../shared/models');
/** Float models covering convolutions, pooling, FC, softmax, residual adds, resize, transposed convs, hard-swish, sigmoid. */
const MODEL_NAMES = ['mnist_conv_fc_float.tflite', 'resnet8_cifar10_float.tflite', 'selfie_segmentation_fp16.tflite', 'ops/single_conv2d_transpose_bias.tflite', 'ops/single_resize_bilinear.tflite'];

/** In the page: run each model on the engine, once per backend, on the same seeded inputs. */
async function runInPage({ models }) {
  const { initBrowserEngine } = await import('/src/engine/backend-browser.ts');
  // A bare '@tensorflow/tfjs-core' does not resolve here; import the very URL Vite gave the engine's
  // own import (so this is the same module instance, with the same registered backends).
  const served = await (await fetch('/src/engine/backend.ts')).text();
  const tfUrl = served.match(/from\s+["']([^"']*tfjs-core[^"']*)["']/)?.[1];
  if (!tfUrl) throw new Error('could not find where the dev server serves @tensorflow/tfjs-core');
  const tf = await import(tfUrl);
  const { readModel } = await import('/src/tflite/read.ts');
  const { GraphExecutor } = await import('/src/engine/executor.ts');
  const hasAdapter = !!(await navigator.gpu?.requestAdapter());
  const auto = await initBrowserEngine('auto');

  const inputsOf = (graph, seed) => {
    let state = seed >>> 0;
    const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const sg = graph.subgraphs[0];
    return sg.inputs.map((t) => {
      const shape = sg.tensors[t].shape;
      return Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, random);
    });
  };
  const runAll = async () => {
    const results = {};
    for (const [name, bytes] of Object.entries(models)) {
      const graph = readModel(new Uint8Array(bytes));
      const executor = new GraphExecutor(graph);
      const sg = graph.subgraphs[0];
      const feeds = inputsOf(graph, 7).map((data, i) => tf.tensor(data, sg.tensors[sg.inputs[i]].shape));
      const started = performance.now();
      const outputs = executor.run(feeds).outputs;
      results[name] = { outputs: await Promise.all(outputs.map(async (o) => Array.from(await o.data()))), ms: performance.now() - started };
      tf.dispose([...feeds, ...outputs]);
      executor.dispose();
    }
    return results;
  };
  // Training runs on the same backend: the gradient of a loss w.r.t. every weight of MNIST (a conv,
  // an average pool, two fully connected layers) through the executor, batch 2.
  const gradients = async () => {
    const graph = readModel(new Uint8Array(models['mnist_conv_fc_float.tflite']));
    const executor = new GraphExecutor(graph, { simulateQuantization: false });
    const sg = graph.subgraphs[0];
    const weightIndices = sg.tensors.map((_, t) => t).filter((t) => executor.constantOf(t)?.dtype === 'float32' && sg.tensors[t].shape.length >= 1);
    const weights = weightIndices.map((t) => tf.tensor(executor.constantOf(t).values, sg.tensors[t].shape));
    const [a, b] = [inputsOf(graph, 3)[0], inputsOf(graph, 4)[0]];
    const x = tf.tensor([...a, ...b], [2, ...sg.tensors[sg.inputs[0]].shape.slice(1)]);
    const loss = (...w) => {
      const out = executor.run([x], { weights: new Map(weightIndices.map((t, k) => [t, w[k]])) }).outputs[0];
      return tf.neg(tf.sum(tf.mul(tf.log(tf.add(out, 1e-3)), tf.oneHot(tf.tensor1d([3, 7], 'int32'), out.shape[1]))));
    };
    const grads = tf.grads(loss)(weights);
    const values = await Promise.all(grads.map(async (g) => Array.from(await g.data())));
    tf.dispose([...grads, ...weights, x]);
    executor.dispose();
    return values;
  };
  const onAuto = { backend: tf.getBackend(), results: await runAll(), gradients: await gradients() };
  let webgpu = null;
  if (hasAdapter) {
    const info = await initBrowserEngine('webgpu');
    webgpu = { info, backend: tf.getBackend(), results: await runAll(), gradients: await gradients() };
  }
  return { hasAdapter, auto, onAuto, webgpu };
}

describe('engine: WebGPU vs WASM in headless Chromium (SwiftShader)', () => {
  let session;
  let context;
  let base;

  before(async () => {
    session = await devServerWithWebGpu('tflite-engine-webgpu-');
    ({ context, base } = session);
  });

  after(async () => {
    await session?.close();
  });

  test("'auto' picks WASM on the fallback adapter; WebGPU outputs = WASM outputs (1e-4)", { timeout: 300_000 }, async () => {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base);
    const models = Object.fromEntries(MODEL_NAMES.map((n) => [n, [...readFileSync(path.join(MODELS, n))]]));
    let result;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await page.evaluate(runInPage, { models });
        break;
      } catch (e) {
        // Vite may discover the tfjs dependencies on first import and reload the page once.
        if (attempt >= 2 || !/context was destroyed|navigation|Failed to fetch dynamically imported/i.test(String(e))) throw e;
        await page.waitForLoadState('load');
      }
    }
    console.log(`# auto: ${result.auto.backend} (${result.auto.reason})`);
    assert.equal(result.onAuto.backend, 'wasm');
    if (!result.hasAdapter) {
      // Some Chromium builds give no adapter even with the flag: then 'auto' must say so.
      assert.match(result.auto.reason, /no WebGPU adapter/);
      return;
    }
    assert.equal(result.auto.backend, 'wasm', "'auto' on SwiftShader");
    assert.match(result.auto.reason, /fallback/);
    assert.equal(result.webgpu.info.backend, 'webgpu');
    assert.equal(result.webgpu.backend, 'webgpu');
    for (const name of MODEL_NAMES) {
      const wasm = result.onAuto.results[name];
      const gpu = result.webgpu.results[name];
      assert.equal(gpu.outputs.length, wasm.outputs.length, name);
      wasm.outputs.forEach((reference, o) => {
        assert.equal(gpu.outputs[o].length, reference.length, `${name} output ${o} size`);
        let err = 0;
        let ref = 0;
        for (let i = 0; i < reference.length; i++) {
          err = Math.max(err, Math.abs(reference[i] - gpu.outputs[o][i]));
          ref = Math.max(ref, Math.abs(reference[i]));
        }
        const rel = ref === 0 ? err : err / ref;
        console.log(`# ${name}[${o}]: WebGPU vs WASM max rel error ${rel.toExponential(1)} (WASM ${wasm.ms.toFixed(0)} ms, WebGPU ${gpu.ms.toFixed(0)} ms)`);
        assert.ok(rel <= 1e-4, `${name} output ${o}: ${rel}`);
      });
    }
    // Training gradients: WebGPU vs WASM, every weight tensor of MNIST.
    assert.equal(result.webgpu.gradients.length, result.onAuto.gradients.length);
    assert.ok(result.onAuto.gradients.length >= 4, 'conv + 2 FC weights and biases');
    result.onAuto.gradients.forEach((reference, k) => {
      let err = 0;
      let ref = 0;
      for (let i = 0; i < reference.length; i++) {
        err = Math.max(err, Math.abs(reference[i] - result.webgpu.gradients[k][i]));
        ref = Math.max(ref, Math.abs(reference[i]));
      }
      console.log(`# MNIST gradient ${k} (${reference.length} values): WebGPU vs WASM max rel error ${(err / ref).toExponential(1)}`);
      assert.ok(ref > 0 && err / ref <= 1e-3, `gradient ${k}: ${err / ref}`);
    });
    assert.deepEqual(errors, []);
  });
});
