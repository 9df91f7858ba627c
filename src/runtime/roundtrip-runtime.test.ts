/**
 * A model we read and write back runs in LiteRT with bit-identical outputs to the original file,
 * on the same inputs: the writer loses nothing the runtime uses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LITERT_CANNOT_RUN as CANNOT_RUN, readSharedModel, sharedModelNames } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';
import { loadModel } from './load';
import { randomInputs } from './random-inputs';
import { initRuntime } from './start';
import type { RuntimeTensor } from './types';

async function outputsOf(bytes: Uint8Array, seed: number, signature?: string): Promise<RuntimeTensor[]> {
  const model = await loadModel(bytes, signature ? { signature } : {});
  try {
    return await model.run(randomInputs(model, seed));
  } finally {
    model.delete();
  }
}

function bytesOf(t: RuntimeTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

describe('rewritten models run bit-identically in LiteRT', () => {
  beforeAll(() => initRuntime());

  for (const name of sharedModelNames()) {
    it(name, async () => {
      const original = readSharedModel(name);
      const rewritten = writeModel(readModel(original));
      if (CANNOT_RUN[name]) {
        await expect(loadModel(rewritten)).rejects.toThrow(CANNOT_RUN[name]);
        await expect(loadModel(original)).rejects.toThrow(CANNOT_RUN[name]);
        return;
      }
      const probe = await loadModel(original);
      const signatures = probe.signatures;
      probe.delete();
      for (const signature of signatures) {
        for (const seed of [1, 2]) {
          const before = await outputsOf(original, seed, signature);
          const after = await outputsOf(rewritten, seed, signature);
          expect(after.map((t) => [t.name, t.dtype, t.shape])).toEqual(before.map((t) => [t.name, t.dtype, t.shape]));
          for (let i = 0; i < before.length; i++) {
            expect(bytesOf(after[i]).equals(bytesOf(before[i])), `${signature} output ${before[i].name}`).toBe(true);
          }
        }
      }
    });
  }
});
