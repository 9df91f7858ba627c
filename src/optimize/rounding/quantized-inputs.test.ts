import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import type { Sample } from '../../runtime/samples';
import { initRuntime } from '../../runtime/start';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { optimizeModel } from '../pipeline';
import { defaultRecipe } from '../recipe';
import { layerSites } from './layer-sites';
import { quantizedInputMoments } from './quantized-inputs';

beforeAll(async () => {
  await initRuntime();
}, 120_000);

async function photos(model: Uint8Array, count: number): Promise<Sample[]> {
  const root = join(dataDir, 'imagenet_val_subset');
  const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(model)), {
    preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
    labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
  });
  return Promise.all(Array.from({ length: count }, (_, i) => dataset.sample(i)));
}

const trace = (outer: Float64Array, k: number, n: number) => {
  let t = 0;
  for (let i = 0; i < k; i++) t += outer[i * k + i] / n;
  return t;
};

describe('quantizedInputMoments: the inputs of dense layers in a quantized model, paired with the float ones, in LiteRT', () => {
  it('MobileNetV1 0.25: against itself the cross matrix is X^T X; against its W4A8 model, X~ is X plus the int4 prefix error', async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const graph = readModel(model);
    const samples = await photos(model, 8);
    const sites = layerSites(graph).filter((s) => s.layout === 'dense' && s.width <= 256);
    // Pairing: the same model on both sides gives X~ = X at the same positions, so X~^T X = X~^T X~.
    const self = await quantizedInputMoments(graph, graph, sites, samples, { total: samples.length, rows: 512, cross: true });
    for (const site of sites) {
      const m = self.get(site.key)!;
      const k = site.width;
      expect(m.count).toBe(samples.length * Math.min(64, site.positions));
      for (let i = 0; i < k; i += 7) {
        expect(m.floatSum![i]).toBeCloseTo(m.sum[i], 3);
        for (let j = i; j < k; j += 5) expect(m.cross![i * k + j]).toBeCloseTo(m.outer[i * k + j], 2);
      }
    }
    // The W4A8 model (int8 activations, dequantized here): the same energy per input to within a few
    // percent at the first layer, and a growing gap to the float rows deeper in (the int4 error).
    const w4 = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), weightBits: 4 }, calibration: samples, int4Inputs: 'float' });
    const quantized = await quantizedInputMoments(graph, readModel(w4.bytes), sites, samples, { total: samples.length, rows: 512, cross: true });
    const gaps = sites.map((site) => {
      const m = quantized.get(site.key)!;
      const k = site.width;
      const ratio = trace(m.outer, k, m.count) / trace(self.get(site.key)!.outer, k, m.count);
      // ||x~ - x||^2 / ||x||^2 from the moments: (tr X~^T X~ - 2 tr X~^T X + tr X^T X) / tr X^T X.
      let crossTrace = 0;
      for (let i = 0; i < k; i++) crossTrace += m.cross![i * k + i] / m.count;
      const floatTrace = trace(self.get(site.key)!.outer, k, m.count);
      return { ratio, relativeError: (trace(m.outer, k, m.count) - 2 * crossTrace + floatTrace) / floatTrace };
    });
    expect(gaps[0].ratio).toBeGreaterThan(0.95);
    expect(gaps[0].ratio).toBeLessThan(1.05);
    expect(gaps[0].relativeError).toBeLessThan(0.01);
    expect(gaps[gaps.length - 1].relativeError).toBeGreaterThan(10 * gaps[0].relativeError);
  }, 900_000);
});
