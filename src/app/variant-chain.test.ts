import { describe, expect, test } from 'vitest';
import { defaultRecipe } from '../optimize/recipe';
import { chainText, stepsProblem, variantChain, variantLabel } from './variant-chain';

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
    const chain = variantChain(recipe, 'cluster:32:per-channel+int8');
    expect(chain.quantize).toEqual(recipe);
    expect(chain.cluster?.exclude).toEqual([{ opTypes: ['SOFTMAX'] }]);
  });

  test('limits', () => {
    expect(stepsProblem({ prune: { sparsity: 0.96, structure: 'unstructured' } })).toMatch(/Sparsity/);
    expect(stepsProblem({ cluster: { clusters: 1, perChannel: true } })).toMatch(/Clusters/);
    expect(stepsProblem({ cluster: { clusters: 257, perChannel: true } })).toMatch(/Clusters/);
    expect(stepsProblem({ prune: { sparsity: 0.95, structure: 'unstructured' }, cluster: { clusters: 256, perChannel: false } })).toBeNull();
  });
});
