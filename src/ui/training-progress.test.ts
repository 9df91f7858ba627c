import { describe, expect, test } from 'vitest';
import { progressBatcher, trainingBadge, type TrainingPoint } from './training-progress';
import { untrainedLabel, chainText, defaultTraining, stepsProblem, variantLabel } from './variant-chain';
import { defaultRecipe } from '../optimize/recipe';

const point = (x: number): TrainingPoint => ({ x, epoch: 1, phase: 'train', loss: 1, accuracy: null });

describe('training progress', () => {
  test('batches points: at most one message per interval, nothing lost', () => {
    let t = 0;
    const sent: number[][] = [];
    const b = progressBatcher((ps) => sent.push(ps.map((p) => p.x)), 100, () => t);
    for (let i = 0; i < 50; i++) {
      b.push(point(i));
      t += 10;
    }
    b.flush();
    expect(sent.length).toBeLessThanOrEqual(6 + 1);
    expect(sent.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test('badge', () => {
    expect(trainingBadge({ mode: 'qat', loss: 'cross-entropy', epochsPlanned: 3, epochsDone: 3, bestEpoch: 2, batchSize: 16, learningRate: 1e-4, trainSamples: 100, elapsedMs: 1, backend: 'wasm', peakHeapBytes: null })).toBe('QAT: 3/3 epochs, best epoch 2, cross-entropy');
  });
});

describe('training steps in chains', () => {
  const int8 = defaultRecipe('int8');
  test('fine-tune after prune, QAT before int8', () => {
    expect(chainText(int8, { prune: { sparsity: 0.9, structure: 'unstructured' }, train: defaultTraining('finetune') })).toBe('prune:0.9+finetune+int8');
    expect(chainText(int8, { train: defaultTraining('qat') })).toBe('qat+int8');
    expect(variantLabel(int8, { train: defaultTraining('qat') })).toBe('qat-int8');
    expect(variantLabel(int8, { prune: { sparsity: 0.9, structure: 'unstructured' }, train: defaultTraining('finetune') })).toBe('prune0.9-finetune-int8');
    expect(untrainedLabel('prune0.9-finetune-int8')).toBe('prune0.9-int8');
    expect(untrainedLabel('qat-int8')).toBe('int8');
    expect(untrainedLabel('int8')).toBeNull();
    expect(defaultTraining('qat').learningRate).toBe(1e-4);
    expect(defaultTraining('finetune').learningRate).toBe(1e-3);
  });
  test('problems', () => {
    expect(stepsProblem({ train: defaultTraining('finetune') })).toMatch(/prune or cluster/);
    expect(stepsProblem({ train: defaultTraining('qat') }, defaultRecipe('dynamic'))).toMatch(/int8/);
    expect(stepsProblem({ train: { ...defaultTraining('qat'), epochs: 0 } }, int8)).toMatch(/Epochs/);
    expect(stepsProblem({ train: defaultTraining('qat') }, int8)).toBeNull();
  });
});

describe('wizard and QAT', async () => {
  const { recommend } = await import('./wizard/recommend');
  const qat = (r: ReturnType<typeof recommend>) => r.filter((x) => x.steps?.train?.mode === 'qat');
  test('up front when almost no loss is acceptable and there is data', () => {
    expect(qat(recommend({ target: 'cpu', data: 'unlabeled', loss: 'tiny', priority: 'both', sensitive: false }))).toHaveLength(1);
    expect(qat(recommend({ target: 'cpu', data: 'none', loss: 'tiny', priority: 'both', sensitive: false }))).toHaveLength(0);
    expect(qat(recommend({ target: 'cpu', data: 'labeled', loss: 'small', priority: 'both', sensitive: false }))).toHaveLength(0);
  });
  test('first, with the reason, when int8 missed the target', () => {
    const r = recommend({ target: 'web', data: 'labeled', loss: 'small', priority: 'both', sensitive: false }, { int8Drop: 0.04 });
    expect(r[0].steps?.train?.mode).toBe('qat');
    expect(r[0].reason).toMatch(/lost 4\.0 pt, more than the 1\.0 pt/);
    expect(qat(recommend({ target: 'web', data: 'labeled', loss: 'moderate', priority: 'both', sensitive: false }, { int8Drop: 0.02 }))).toHaveLength(0);
  });
});
