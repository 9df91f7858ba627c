/**
 * The calibration memory check: the estimate bounds what LiteRT's heap really grows to while
 * calibrating a real model with the layer-input sampler, and a model over the budget is refused
 * with a 'too-large' error before LiteRT loads anything.
 */
import { getGlobalLiteRt } from '@litertjs/core';
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { initRuntime } from '../runtime/start';
import { randomInputs } from '../runtime/random-inputs';
import { readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { calibrate } from './calibrate/calibrate';
import { calibrationMemory, checkCalibrationMemory, LITERT_HEAP_MAX } from './memory-budget';
import { optimizeModel } from './pipeline';
import { defaultRecipe } from './recipe';
import { openLayerInputs } from './rounding/layer-inputs';
import { layerSites } from './rounding/layer-sites';

const MODEL = 'mobilenet_v1_0.25_224_float.tflite';
const heap = () => (getGlobalLiteRt() as unknown as { liteRtWasm: { HEAPU8: Uint8Array } }).liteRtWasm.HEAPU8.length;

describe('calibration memory', () => {
  it("bounds LiteRT's heap through a real calibration with the layer-input sampler", async () => {
    await initRuntime();
    const graph = readModel(readSharedModel(MODEL));
    const estimate = calibrationMemory(graph, layerSites(graph).map((s) => s.input));
    expect(estimate.weightBytes).toBeGreaterThan(1.8e6);
    const samples = Array.from({ length: 2 }, (_, i) => randomInputs({ inputs: [{ name: 'input', dtype: 'float32', shape: [1, 224, 224, 3], quantization: null }] }, 1 + i) as Float32Array[]);
    const collector = await openLayerInputs(graph, { total: samples.length, gramRows: 0 });
    for (const s of samples) await collector.add(s);
    // The reduced path, in this thread only (one instance, as the estimate counts).
    await calibrate(graph, samples, { histograms: false, reductions: 'litert', litertInstances: 1 });
    const used = heap();
    collector.dispose();
    expect(used).toBeLessThanOrEqual(estimate.heapBytes);
    expect(used).toBeGreaterThan(estimate.heapBytes / 4); // an estimate, not a blanket
  }, 120_000);

  it('refuses a model over the budget before LiteRT loads it, saying why', async () => {
    const bytes = readSharedModel(MODEL);
    const graph = readModel(bytes);
    const estimate = calibrationMemory(graph, layerSites(graph).map((s) => s.input));
    expect(() => checkCalibrationMemory(estimate)).not.toThrow();
    expect(estimate.heapBytes).toBeLessThan(LITERT_HEAP_MAX);
    let loads = 0;
    const error = await optimizeModel({
      model: bytes,
      recipe: defaultRecipe('int8'),
      // A sample pulled would mean calibration started: the check must come first.
      calibration: (async function* () {
        loads++;
        yield [new Float32Array(224 * 224 * 3)];
      })(),
      calibrationCount: 1,
      memoryBudget: estimate.heapBytes - 1,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).code).toBe('too-large');
    expect((error as WorkbenchError).message).toMatch(/too large to calibrate here.*over the \d+ MB budget.*Nearest rounding/);
    expect(loads).toBe(0);
    // Without the layer-input sampler (nearest rounding) the same budget is enough.
    const nearest = calibrationMemory(graph);
    expect(nearest.heapBytes).toBeLessThan(estimate.heapBytes);
  });
});
