/**
 * Every chain the pruning/clustering issue names, on every shared float model LiteRT can run: the
 * output loads and runs in LiteRT, zeros and clusters survive quantization (the chain's own checks).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import type { Sample } from '../runtime/samples';
import { LITERT_CANNOT_RUN, readSharedModel, sharedModelNames } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { quantizationState } from '../tflite/summary';
import { parseChain, runChain } from './chain';
import { FloatFallbackError } from './fallback';

const CHAINS = ['prune:0.5+int8', 'cluster:16+int8', 'prune:0.5+cluster:16+int8', 'cluster:32+float16'];
const FLOAT_STATES = new Set(['float32', 'float16']);

/**
 * Models whose chain result is a float-fallback failure (fallback.ts), with the reason: tiny models
 * whose int8 parameters outweigh what the weights save; ops in signatures calibration does not run.
 */
const FALLBACK: Record<string, RegExp> = {
  'hello_world_sine_float.tflite': /larger than the input/,
  'ops/single_conv2d_transpose_bias.tflite': /larger than the input/,
  'ops/toy_model_with_kv_cache_multi_signature.tflite': /no calibration range/,
  'ops/weight_sharing_fcs.tflite': /no calibration range/,
};
/** The 27.7 MB model runs four chains of 689 ops: minutes on two busy cores. */
const SLOW: Record<string, number> = { 'pose_landmark_heavy_fp16.tflite': 600_000 };

describe('every chain on every shared float model', () => {
  beforeAll(() => initRuntime());

  for (const name of sharedModelNames()) {
    const state = quantizationState(readModel(readSharedModel(name)));
    if (!FLOAT_STATES.has(state)) continue;
    it(name, async () => {
      const bytes = readSharedModel(name);
      let samples: Sample[];
      try {
        const model = await loadModel(bytes);
        samples = Array.from({ length: 4 }, (_, i) => randomInputs(model, i) as Sample);
        model.delete();
      } catch (error) {
        expect(LITERT_CANNOT_RUN[name], `${name}: ${(error as Error).message}`).toBeDefined();
        expect((error as Error).message).toMatch(LITERT_CANNOT_RUN[name]);
        return;
      }
      for (const text of CHAINS) {
        let result;
        try {
          result = await runChain({ model: bytes, chain: parseChain(text), calibration: samples });
        } catch (error) {
          if (error instanceof FloatFallbackError) {
            expect(FALLBACK[name], `${name} ${text}: ${error.message}`).toBeDefined();
            expect(error.message).toMatch(FALLBACK[name]);
            continue;
          }
          // Models whose weights are all too small to prune or cluster say so clearly.
          expect((error as Error).message, `${name} ${text}`).toMatch(/no (float )?weights|nothing to|too small|at most|fewer|above the weight count/i);
          continue;
        }
        const model = await loadModel(result.bytes);
        const outputs = await model.run(randomInputs(model, 7));
        model.delete();
        expect(outputs.length, `${name} ${text}`).toBeGreaterThan(0);
        expect(result.checks.zerosLost ?? 0, `${name} ${text}`).toBe(0);
        expect(result.checks.clusterViolations ?? 0, `${name} ${text}`).toBe(0);
      }
    }, SLOW[name]);
  }
});
