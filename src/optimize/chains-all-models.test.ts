/**
 * Every chain the pruning/clustering issue names, on every shared float model LiteRT can run: the
 * output loads and runs in LiteRT, zeros and clusters survive quantization (the chain's own checks).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import type { Sample } from '../runtime/samples';
import { readSharedModel, sharedModelNames } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { quantizationState } from '../tflite/summary';
import { parseChain, runChain } from './chain';

const CHAINS = ['prune:0.5+int8', 'cluster:16+int8', 'prune:0.5+cluster:16+int8', 'cluster:32+float16'];
const FLOAT_STATES = new Set(['float32', 'float16']);

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
        expect((error as Error).message).toMatch(/variable \(state\) tensors/);
        return;
      }
      for (const text of CHAINS) {
        let result;
        try {
          result = await runChain({ model: bytes, chain: parseChain(text), calibration: samples });
        } catch (error) {
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
    });
  }
});
