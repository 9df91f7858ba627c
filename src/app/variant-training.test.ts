import { describe, expect, it } from 'vitest';
import type { Dataset } from '../data/dataset';
import { variantTraining } from './variant-training';

// The page's training settings reach the chain's training options unchanged; "Mirror images" is the
// only path by which the page asks for augmentation, so losing it on the way would silently train without.
describe('variantTraining', () => {
  const dataset = { labels: [null, null, null], sample: async () => [] } as unknown as Dataset;
  const request = (augment?: 'flip') => ({
    mode: 'qat' as const,
    dataset,
    indices: [0, 1, 2],
    settings: { epochs: 2, batchSize: 4, learningRate: 3e-4, ...(augment ? { augment } : {}) },
    stop: new AbortController().signal,
    initEngine: async () => ({ backend: 'wasm' }) as never,
    onProgress: () => {},
  });

  it('passes mirror augmentation and the step settings to the chain', async () => {
    const { chainTraining } = await variantTraining(request('flip'));
    expect(chainTraining.options).toMatchObject({ epochs: 2, batchSize: 4, learningRate: 3e-4, augment: 'flip' });
    expect(chainTraining.data.size).toBe(3);
    expect(chainTraining.data.labels).toEqual([null, null, null]);
  });

  it('asks for no augmentation unless the user ticked it', async () => {
    const { chainTraining } = await variantTraining(request());
    expect(chainTraining.options).not.toHaveProperty('augment');
  });
});
