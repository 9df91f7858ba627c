/**
 * The executor on quantized graphs (simulateQuantization, the default) predicts what LiteRT's integer
 * kernels output: SQNR >= 30 dB against the real int8/uint8 models on seeded inputs, and >= 99% top-1
 * agreement on ImageNet images for MobileNetV1 quantized by our PTQ and by Google.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, randomIndices } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import type { LoadedModel, RuntimeData } from '../runtime/types';
import { toModelInputs, type Sample } from '../runtime/samples';
import { optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { dataDir, readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import type { ModelGraph } from '../tflite/graph';
import { initNodeEngine } from './backend-node';
import { engineOutputs, runtimeReals } from './engine-test-support';
import { GraphExecutor } from './executor';

/** 10 log10(sum ref^2 / sum (ref - got)^2); Infinity when identical. */
function sqnrDb(reference: ArrayLike<number>, got: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] ** 2;
    noise += (reference[i] - got[i]) ** 2;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

function argMax(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i] > values[start + best]) best = i;
  return best;
}

/**
 * Top-1 of LiteRT and of the simulating engine on the same samples. LiteRT gets the samples as its
 * inputs take them (quantized when they are); the engine gets exactly those input values as reals.
 */
async function topOneAgreement(graph: ModelGraph, model: LoadedModel, samples: Sample[], batch = 25): Promise<{ agree: number; total: number }> {
  const executor = new GraphExecutor(graph);
  let agree = 0;
  try {
    for (let start = 0; start < samples.length; start += batch) {
      const chunk = samples.slice(start, start + batch);
      const inputs: RuntimeData[][] = chunk.map((s, k) => toModelInputs(s, model.inputs, start + k));
      const simulated = (await engineOutputs(executor, graph, model, inputs))[0];
      const classes = simulated.values.length / chunk.length;
      for (let k = 0; k < chunk.length; k++) {
        const reference = runtimeReals(model, await model.run(inputs[k]))[0];
        if (argMax(reference, 0, classes) === argMax(simulated.values, k * classes, classes)) agree++;
      }
    }
  } finally {
    executor.dispose();
  }
  return { agree, total: samples.length };
}

describe('simulated quantization predicts LiteRT integer kernels', () => {
  beforeAll(async () => {
    await initNodeEngine();
    await initRuntime();
  });

  const GOOGLE = ['mnist_conv_fc_int8.tflite', 'vww_96_int8.tflite', 'resnet8_cifar10_int8.tflite', 'ad01_toycar_autoencoder_int8.tflite', 'mobilenet_v1_0.25_224_quant_uint8.tflite'];
  for (const name of GOOGLE) {
    it(`${name}: SQNR >= 30 dB on seeded inputs`, async () => {
      const bytes = readSharedModel(name);
      const graph = readModel(bytes);
      const model = await loadModel(bytes);
      const executor = new GraphExecutor(graph);
      try {
        const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
        const inputs = seeds.map((seed) => randomInputs(model, seed));
        const simulated = (await engineOutputs(executor, graph, model, inputs))[0];
        const reference: number[] = [];
        for (const input of inputs) reference.push(...runtimeReals(model, await model.run(input))[0]);
        const sqnr = sqnrDb(reference, simulated.values);
        let exact = 0;
        for (let i = 0; i < reference.length; i++) if (Math.abs(reference[i] - simulated.values[i]) < 1e-6 * Math.max(1, Math.abs(reference[i]))) exact++;
        console.log(`${name}: simulated vs LiteRT SQNR ${sqnr.toFixed(1)} dB, ${exact}/${reference.length} output values identical (${seeds.length} seeded inputs, one batch)`);
        expect(sqnr).toBeGreaterThanOrEqual(30);
        // Integer-exact MAC ops make the simulation bit-identical here; allow a stray tie.
        expect(exact / reference.length).toBeGreaterThanOrEqual(0.99);
      } finally {
        executor.dispose();
        model.delete();
      }
    });
  }

  it('our int8 MNIST with its conv at 16x8 (QUANTIZE int16 -> int8 inside): SQNR >= 30 dB on seeded inputs', async () => {
    const floatBytes = readSharedModel('mnist_conv_fc_float.tflite');
    const floatModel = await loadModel(floatBytes);
    const calibration = [11, 12, 13, 14, 15, 16, 17, 18].map((seed) => randomInputs(floatModel, seed) as Sample);
    floatModel.delete();
    const recipe = { ...defaultRecipe('int8'), activationBitsByScope: [{ opTypes: ['CONV_2D'], bits: 16 as const }] };
    const bytes = (await optimizeModel({ model: floatBytes, recipe, calibration })).bytes;
    const graph = readModel(bytes);
    const model = await loadModel(bytes);
    const executor = new GraphExecutor(graph);
    try {
      const inputs = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => randomInputs(model, seed));
      const simulated = (await engineOutputs(executor, graph, model, inputs))[0];
      const reference: number[] = [];
      for (const input of inputs) reference.push(...runtimeReals(model, await model.run(input))[0]);
      const sqnr = sqnrDb(reference, simulated.values);
      console.log(`mnist int8 with a 16x8 conv: simulated vs LiteRT SQNR ${sqnr.toFixed(1)} dB`);
      expect(sqnr).toBeGreaterThanOrEqual(30);
    } finally {
      executor.dispose();
      model.delete();
    }
  });

  it('MobileNetV1 0.25 on ImageNet images: simulated top-1 = LiteRT top-1 on >= 99% (our int8, Google uint8)', { timeout: 300_000 }, async () => {
    const floatBytes = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const root = join(dataDir, 'imagenet_val_subset');
    const preprocessing = { width: 224, height: 224, channels: 3 as const, channelOrder: 'RGB' as const, mean: [127.5], std: [127.5], resize: 'bilinear' as const };
    const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(floatBytes)), { preprocessing });
    const indices = randomIndices(dataset.size, 250, 7);
    const samples = await Promise.all(indices.map((i) => dataset.sample(i)));
    const calibration = await Promise.all(randomIndices(dataset.size, 50, 0).map((i) => dataset.sample(i)));
    const ours = (await optimizeModel({ model: floatBytes, recipe: defaultRecipe('int8'), calibration })).bytes;
    const google = readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite');
    for (const [label, bytes] of [
      ['our int8', ours],
      ['Google uint8', google],
    ] as const) {
      const model = await loadModel(bytes);
      try {
        const { agree, total } = await topOneAgreement(readModel(bytes), model, samples);
        console.log(`MobileNetV1 0.25 ${label}: simulated vs LiteRT top-1 agreement ${agree}/${total}`);
        expect(agree / total, label).toBeGreaterThanOrEqual(0.99);
      } finally {
        model.delete();
      }
    }
    expect(tf.memory().numTensors).toBeLessThan(10_000);
  });
});
