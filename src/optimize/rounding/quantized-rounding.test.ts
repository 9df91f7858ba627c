import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import { compareModels } from '../../evaluate/compare';
import type { Sample } from '../../runtime/samples';
import { initRuntime } from '../../runtime/start';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { optimizeModel } from '../pipeline';
import { defaultRecipe } from '../recipe';

beforeAll(async () => {
  await initRuntime();
}, 120_000);

describe('int4 layers refitted from the quantized model inputs (asymmetric target), in LiteRT', () => {
  it("MobileNetV1 0.25 W4A8: the refitted layer's output is closer to the float model's on held-out photos", async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const root = join(dataDir, 'imagenet_val_subset');
    const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(model)), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
      labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
    });
    const samples: Sample[] = await Promise.all(Array.from({ length: 64 }, (_, i) => dataset.sample(i)));
    // 48 images: the last 1x1 convolution (256 inputs, 7x7 positions) gets 2352 rows, over the 8 per input a fit needs.
    const calibration = samples.slice(0, 48);
    const heldOut = samples.slice(48);
    const recipe = { ...defaultRecipe('int8'), weightBits: 4 as const };
    const layerSqnr = async (int4Inputs: 'float' | 'asymmetric') => {
      const result = await optimizeModel({ model, recipe, calibration, int4Inputs, int4RefitLayers: 1 });
      const compared = await compareModels(model, result.bytes, heldOut, { perLayer: true, channelScales: result.channelScales });
      // The refitted layer: conv_pw_13, the last CONV_2D but the logits (a 1x1 CONV_2D on the pooled
      // features, one row per image: too few for a fit).
      const convs = compared.perLayer!.filter((l) => l.referenceOp === 'CONV_2D');
      const layer = convs[convs.length - 2];
      expect(layer.referenceTensor).toMatch(/Conv2d_13_pointwise/);
      return { sqnr: layer.sqnrDb, notes: result.notes };
    };
    const before = await layerSqnr('float');
    const after = await layerSqnr('asymmetric');
    expect(after.notes.some((n) => /int4 weights of the last 1 layer\(s\) with enough rows refitted/.test(n))).toBe(true);
    expect(after.sqnr).toBeGreaterThan(before.sqnr + 0.3);
  }, 1_200_000);
});
