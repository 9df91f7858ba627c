import { describe, expect, it } from 'vitest';
import type { LayerComparison } from '../../evaluate/compare';
import { defaultRecipe } from '../../optimize/recipe';
import type { RunResult } from '../../app/worker-protocol';
import { layerBars, layerCaption, SQNR_CAP, variantActions } from './layer-bars';

/** MNIST int8 per layer as compareModels returned it (compare.test.ts prints the same shape). */
const layer = (op: string, opIndex: number, referenceOp: string, referenceOpIndex: number, sqnrDb: number) =>
  ({ op, opIndex, referenceOp, referenceOpIndex, sqnrDb, tensor: 't', tensorIndex: 0, dtype: 'int8', referenceTensor: 't', referenceTensorIndex: 0 }) as unknown as LayerComparison;
const layers = [layer('QUANTIZE', 0, '', -1, 144.8), layer('CONV_2D', 1, 'CONV_2D', 0, 46), layer('FULLY_CONNECTED', 5, 'FULLY_CONNECTED', 4, 21.7), layer('SOFTMAX', 6, 'SOFTMAX', 5, 50.2)];

describe('layerBars', () => {
  it("names bars by the float model's ops and caps the near-exact input so the others keep their height", () => {
    const bars = layerBars(layers);
    expect(bars.map((b) => b.key)).toEqual(['input (QUANTIZE)', 'CONV_2D #0', 'FULLY_CONNECTED #4', 'SOFTMAX #5']);
    expect(bars.map((b) => b.opIndex)).toEqual([-1, 0, 4, 5]);
    expect(bars[0]).toMatchObject({ value: SQNR_CAP, capped: true, valueText: '144.8 dB' });
    expect(bars[1]).toMatchObject({ value: 46, capped: false });
    expect(bars[2].title).toBe("FULLY_CONNECTED #4 (variant's op FULLY_CONNECTED #5): SQNR 21.7 dB");
    // The tallest uncapped bar is at least 3/4 of the axis (it was a third of 145 dB before).
    expect(Math.max(...bars.filter((b) => !b.capped).map((b) => b.value)) / SQNR_CAP).toBeGreaterThan(0.75);
    expect(layerBars([layer('ADD', 3, 'ADD', 3, Infinity)])[0]).toMatchObject({ value: SQNR_CAP, capped: true, valueText: '∞' });
  });
});

describe('layerCaption', () => {
  const int8 = defaultRecipe('int8');
  it('says what the variant did: a pruned or clustered chain is not blamed on quantization alone', () => {
    const chain = (text: string) => ({ recipe: int8, chain: { text } as RunResult['chain'] });
    expect(variantActions({ recipe: int8 })).toBe('int8 quantization');
    expect(variantActions(chain('prune:0.5+int8'))).toBe('pruning 50% of the weights, then int8 quantization');
    expect(variantActions(chain('prune:0.9'))).toBe('pruning 90% of the weights');
    expect(variantActions(chain('cluster:16:per-channel+finetune+int8'))).toBe('clustering the weights to 16 values per channel, fine-tuning, then int8 quantization');
    expect(layerCaption(chain('prune:0.9'))).toMatch(/where pruning 90% of the weights changed the values most/);
    expect(layerCaption(chain('prune:0.9'))).not.toMatch(/quantiz/);
  });
});
