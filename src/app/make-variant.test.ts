/**
 * The page's per-variant float-fallback choice (VariantSpec.allowFloatFallback) reaches the
 * pipeline as the CLI's --allow-float-fallback does: without it a result that changed nothing is
 * refused with the reason; with it the same result comes back, its verdict saying why it failed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FloatFallbackError } from '../optimize/fallback';
import { defaultRecipe } from '../optimize/recipe';
import { initRuntime } from '../runtime/start';
import { readSharedModel } from '../test-support/shared';
import { makeVariant } from './make-variant';

// Dynamic range that skips every weight tensor smaller than 10^9 elements: nothing is converted.
const recipe = { ...defaultRecipe('dynamic'), minWeightElements: 1e9 };

beforeAll(async () => {
  await initRuntime();
}, 60_000);

describe('makeVariant and float fallback', () => {
  it('refuses a result that changed nothing unless the variant allows float fallback', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const request = { model, dataset: null, indices: null };
    await expect(makeVariant({ ...request, spec: { recipe } })).rejects.toThrow(FloatFallbackError);
    await expect(makeVariant({ ...request, spec: { recipe } })).rejects.toThrow(/changed nothing/);
    const kept = await makeVariant({ ...request, spec: { recipe, allowFloatFallback: true } });
    expect(kept.verdict?.failure).toMatch(/changed nothing/);
    expect(kept.bytes.length).toBeGreaterThan(0.9 * model.length);
    // The plain recipe on the same model is no failure either way.
    const plain = await makeVariant({ ...request, spec: { recipe: defaultRecipe('dynamic') } });
    expect(plain.verdict?.failure).toBe('');
    expect(plain.bytes.length).toBeLessThan(0.5 * model.length);
  }, 120_000);
});
