import { describe, expect, test } from 'vitest';
import { progressBatcher, trainingBadge, type TrainingPoint } from './training-progress';
import { untrainedLabel, chainText, defaultTraining, stepsProblem, variantLabel } from './variant-chain';
import { defaultRecipe, recipeLabel } from '../optimize/recipe';

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
    const lsq = { mode: 'qat', loss: 'distillation', epochsPlanned: 4, epochsDone: 4, bestEpoch: 2, batchSize: 16, learningRate: 1e-4, trainSamples: 100, elapsedMs: 1, backend: 'wasm', peakHeapBytes: null } as const;
    expect(trainingBadge({ ...lsq, lsq: { int4Tensors: 14, kept: 'qat' } })).toBe('QAT LSQ int4: 4/4 epochs, best epoch 2, distillation');
    expect(trainingBadge({ ...lsq, bestEpoch: 0, lsq: { int4Tensors: 14, kept: 'ptq' } })).toBe('QAT LSQ int4: 4/4 epochs, best epoch 0, distillation · no gain over PTQ on validation: PTQ model kept');
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
    // int4 weights: QAT starts from the W4A8 PTQ model, which would move pruned zeros.
    const w4a8 = { ...int8, weightBits: 4 as const };
    expect(stepsProblem({ train: defaultTraining('qat') }, w4a8)).toBeNull();
    expect(stepsProblem({ prune: { sparsity: 0.5, structure: 'unstructured' }, train: defaultTraining('qat') }, w4a8)).toMatch(/^QAT with int4 weights starts from the W4A8 post-training model/);
    expect(variantLabel(w4a8, { train: defaultTraining('qat') })).toBe(`qat-${recipeLabel(w4a8)}`);
  });
});
