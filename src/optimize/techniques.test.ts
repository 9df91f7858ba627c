/**
 * Every technique on every shared model: float models give a result that loads and runs in LiteRT
 * (the pipeline checks it; this test runs it again itself); quantized models are refused with the
 * way out; the models LiteRT cannot run at all are listed with LiteRT's reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import type { Sample } from '../runtime/samples';
import { readSharedModel, sharedModelNames } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { quantizationState } from '../tflite/summary';
import { optimizeModel } from './pipeline';
import { defaultRecipe, TECHNIQUES } from './recipe';

const CANNOT_RUN = /variable \(state\) tensors/;

async function randomSamples(bytes: Uint8Array, count: number): Promise<Sample[] | null> {
  try {
    const model = await loadModel(bytes);
    const samples = Array.from({ length: count }, (_, i) => randomInputs(model, 10 + i) as Sample);
    model.delete();
    return samples;
  } catch (error) {
    expect((error as Error).message).toMatch(CANNOT_RUN);
    return null;
  }
}

describe('every technique on every shared model', () => {
  beforeAll(() => initRuntime());

  for (const name of sharedModelNames()) {
    it(name, async () => {
      const bytes = readSharedModel(name);
      const state = quantizationState(readModel(bytes));
      const samples = await randomSamples(bytes, 6);
      if (!samples) return; // LiteRT.js cannot run it (variable tensors): nothing to optimize into.
      for (const technique of TECHNIQUES) {
        const run = optimizeModel({ model: bytes, recipe: defaultRecipe(technique), calibration: samples });
        if (['int8', 'uint8', '16x8', 'mixed', 'dynamic-range'].includes(state)) {
          await expect(run).rejects.toThrow(/already quantized .*dequantize/);
          continue;
        }
        if (state === 'no-weights') {
          await expect(run).rejects.toThrow(/no float weights/);
          continue;
        }
        const result = await run;
        const model = await loadModel(result.bytes);
        const outputs = await model.run(randomInputs(model, 99));
        model.delete();
        expect(outputs.length, `${technique}`).toBeGreaterThan(0);
        for (const output of outputs) {
          if (output.dtype === 'float32') expect(Array.from(output.data).every(Number.isFinite), `${technique} ${output.name}`).toBe(true);
        }
      }
    });
  }

  it('refuses with a clear error when calibration data is missing', async () => {
    await expect(optimizeModel({ model: readSharedModel('mnist_conv_fc_float.tflite'), recipe: defaultRecipe('int8') })).rejects.toThrow(
      /needs representative data for calibration/,
    );
  });

  it('refuses calibration data of the wrong shape or dtype, naming what is wrong', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const wrongShape = [[new Float32Array(100)]];
    await expect(optimizeModel({ model, recipe: defaultRecipe('int8'), calibration: wrongShape })).rejects.toThrow(WorkbenchError);
    await expect(optimizeModel({ model, recipe: defaultRecipe('int8'), calibration: wrongShape })).rejects.toThrow(/784|28, 28/);
    const twoInputs = [[new Float32Array(784), new Float32Array(784)]];
    await expect(optimizeModel({ model, recipe: defaultRecipe('int8'), calibration: twoInputs })).rejects.toThrow(/1 input|2/);
  });

  it('integer-only names each op that would stay float', async () => {
    // two_signatures has ADD and MUL in two subgraphs; only the main subgraph is calibrated, so
    // the other subgraph's op has no ranges and would stay float.
    const model = readSharedModel('ops/two_signatures.tflite');
    const samples = await randomSamples(model, 4);
    const recipe = { ...defaultRecipe('int8'), integerOnly: true };
    await expect(optimizeModel({ model, recipe, calibration: samples! })).rejects.toThrow(/integer-only quantization is impossible: 1 op\(s\) would stay float: #0 (ADD|MUL) \(no calibration range/);
  });
});
