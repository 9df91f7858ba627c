import { describe, expect, test } from 'vitest';
import { defaultRecipe } from '../optimize/recipe';
import { parseChain } from '../optimize/chain';
import { chainOf, chainText, defaultTraining, stepsProblem, variantLabel, type VariantSteps } from './variant-chain';

describe('variant steps as chains', () => {
  test('serializes prune / cluster steps before the technique', () => {
    const int8 = defaultRecipe('int8');
    expect(chainText(int8, undefined)).toBeNull();
    expect(chainText(int8, { cluster: { clusters: 16, perChannel: true } })).toBe('cluster:16:per-channel+int8');
    expect(chainText(defaultRecipe('dynamic'), { prune: { sparsity: 0.5, structure: '2of4' } })).toBe('prune:0.5:2of4+dynamic');
    expect(chainText(int8, { prune: { sparsity: 0.3, structure: 'unstructured' }, cluster: { clusters: 8, perChannel: false }, float: true })).toBe('prune:0.3+cluster:8');
    expect(variantLabel(int8, { cluster: { clusters: 16, perChannel: true } })).toBe('cluster16pc-int8');
    expect(variantLabel({ ...int8, io: 'int8' }, { prune: { sparsity: 0.5, structure: 'unstructured' } })).toBe('prune0.5-int8-int8io');
    expect(variantLabel(int8, { cluster: { clusters: 4, perChannel: false }, float: true })).toBe('cluster4-float');
    expect(variantLabel(int8, undefined)).toBe('int8');
  });

  test('the quantization step keeps the variant recipe options', () => {
    const recipe = { ...defaultRecipe('int8'), granularity: 'per-tensor' as const, keepFloat: [{ opTypes: ['SOFTMAX'] }] };
    const chain = chainOf(recipe, { cluster: { clusters: 32, perChannel: true } })!;
    expect(chain.quantize).toEqual(recipe);
    expect(chain.cluster?.exclude).toEqual([{ opTypes: ['SOFTMAX'] }]);
  });

  test('the chain built as data is the chain its text reads as', () => {
    const recipe = { ...defaultRecipe('int8'), keepFloat: [{ opTypes: ['SOFTMAX'] }] };
    const cases: VariantSteps[] = [
      { prune: { sparsity: 0.5, structure: 'unstructured' } },
      { prune: { sparsity: 0.5, structure: '2of4' } },
      { cluster: { clusters: 16, perChannel: true } },
      { cluster: { clusters: 8, perChannel: false } },
      { prune: { sparsity: 0.3, structure: 'unstructured' }, cluster: { clusters: 8, perChannel: false }, float: true },
      { prune: { sparsity: 0.9, structure: 'unstructured' }, train: defaultTraining('finetune') },
      { train: defaultTraining('qat') },
    ];
    for (const steps of cases) {
      const parsed = parseChain(chainText(recipe, steps)!, { recipeFor: (technique) => ({ ...recipe, technique }) });
      expect(chainOf(recipe, steps)).toEqual(parsed);
    }
    expect(chainOf(recipe, undefined)).toBeNull();
    expect(() => chainOf(recipe, { prune: { sparsity: 0.99, structure: 'unstructured' } })).toThrow(/Sparsity/);
  });

  test('limits', () => {
    expect(stepsProblem({ prune: { sparsity: 0.96, structure: 'unstructured' } })).toMatch(/Sparsity/);
    expect(stepsProblem({ cluster: { clusters: 1, perChannel: true } })).toMatch(/Clusters/);
    expect(stepsProblem({ cluster: { clusters: 257, perChannel: true } })).toMatch(/Clusters/);
    expect(stepsProblem({ prune: { sparsity: 0.95, structure: 'unstructured' }, cluster: { clusters: 256, perChannel: false } })).toBeNull();
  });
});
