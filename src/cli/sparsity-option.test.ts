import { describe, expect, it } from 'vitest';
import { sparsityAskOf } from './sparsity-option';

describe('--sparsity-sensitivity', () => {
  it('takes prune:S and / or cluster:K', () => {
    expect(sparsityAskOf(undefined)).toBeUndefined();
    expect(sparsityAskOf('prune:0.5')).toEqual({ prune: 0.5 });
    expect(sparsityAskOf('cluster:16')).toEqual({ clusters: 16 });
    expect(sparsityAskOf('prune:0.8, cluster:4')).toEqual({ prune: 0.8, clusters: 4 });
  });

  it('refuses anything else, saying what it takes', () => {
    expect(() => sparsityAskOf('prune:1')).toThrow('--sparsity-sensitivity prune:S takes a sparsity between 0 and 1 (exclusive); got 1.');
    expect(() => sparsityAskOf('cluster:1')).toThrow('--sparsity-sensitivity cluster:K takes 2 to 256 clusters; got 1.');
    expect(() => sparsityAskOf('cluster:2.5')).toThrow('cluster:K takes 2 to 256 clusters; got 2.5.');
    expect(() => sparsityAskOf('prune')).toThrow('"prune" is not one of them');
    expect(() => sparsityAskOf('quantize:8')).toThrow('"quantize" is neither');
    expect(() => sparsityAskOf('')).toThrow('needs prune:S, cluster:K or both');
  });
});
