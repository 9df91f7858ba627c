/**
 * Weight granularity per op (recipe granularityByScope): MobileNetV1 0.25's 1001-way classifier
 * (a 1x1 convolution on a 1x1 map) with one weight scale inside an otherwise per-channel int8 model.
 * Checked against the spec (bias scale = input scale * weight scale, zero points 0), the file size
 * (16 bytes a channel: the weight and bias scales, one shared int64 zero-point vector) and LiteRT:
 * the variant agrees with the per-channel model and keeps its SQNR against the float model on images
 * calibration never saw.
 */
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
import { opName } from '../../tflite/ops';
import { readModel } from '../../tflite/read';
import { optimizeModel } from '../pipeline';
import { defaultRecipe, parseRecipe, toAeqRecipe, type Recipe } from '../recipe';

beforeAll(() => initRuntime());

describe('granularityByScope', () => {
  it('parses, labels and exports to AI Edge Quantizer', () => {
    const recipe = parseRecipe({ technique: 'int8', granularityByScope: [{ tensorNamePattern: '^logits$', granularity: 'per-tensor' }] });
    expect(recipe.granularityByScope).toEqual([{ tensorNamePattern: '^logits$', granularity: 'per-tensor' }]);
    expect(() => parseRecipe({ technique: 'int8', granularityByScope: [{ opTypes: ['CONV_2D'], granularity: 'per-block' }] })).toThrow(/per-channel or per-tensor/);
    expect(() => parseRecipe({ technique: 'dynamic', granularityByScope: [{ opTypes: ['CONV_2D'], granularity: 'per-tensor' }] })).toThrow(/needs technique int8 or int16x8/);
    const aeq = toAeqRecipe(recipe).entries.at(-1)!;
    expect(aeq.regex).toBe('^logits$');
    expect(aeq.op_config?.weight_tensor_config?.granularity).toBe('TENSORWISE');
  });

  it('MobileNetV1 0.25: a per-tensor classifier inside per-channel int8, by the spec, 16 bytes a channel smaller, as good in LiteRT', async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const root = join(dataDir, 'imagenet_val_subset');
    const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(model)), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
    });
    const samples = async (from: number, count: number): Promise<Sample[]> => Promise.all(Array.from({ length: count }, (_, i) => dataset.sample(from + i)));
    const calibration = await samples(0, 16);
    const unseen = await samples(100, 48);

    const floatGraph = readModel(model);
    const main = floatGraph.subgraphs[0];
    const classifier = main.operators.find((op) => opName(floatGraph, op) === 'CONV_2D' && main.tensors[op.inputs[1]].shape[0] === 1001)!;
    const logits = main.tensors[classifier.outputs[0]].name;
    const base: Recipe = { ...defaultRecipe('int8'), rounding: 'nearest' };
    const perChannel = await optimizeModel({ model, recipe: base, calibration });
    const mixed = await optimizeModel({ model, recipe: { ...base, granularityByScope: [{ tensorNamePattern: `^${logits.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, granularity: 'per-tensor' }] }, calibration });

    const written = readModel(mixed.bytes);
    const sg = written.subgraphs[0];
    for (const op of sg.operators) {
      const name = opName(written, op);
      if (name !== 'CONV_2D' && name !== 'DEPTHWISE_CONV_2D') continue;
      const [input, weights, bias] = [sg.tensors[op.inputs[0]], sg.tensors[op.inputs[1]], sg.tensors[op.inputs[2]]];
      const channels = weights.shape[name === 'CONV_2D' ? 0 : 3];
      const isClassifier = sg.tensors[op.outputs[0]].name === logits;
      expect(weights.quantization!.scale!.length, weights.name).toBe(isClassifier ? 1 : channels);
      expect(weights.quantization!.zeroPoint!.every((z) => z === 0)).toBe(true);
      // The bias scale the spec requires, channel by channel (one channel here for the classifier).
      const inputScale = input.quantization!.scale![0];
      bias.quantization!.scale!.forEach((s, c) => expect(Math.abs(s - inputScale * weights.quantization!.scale![c]) / s).toBeLessThan(1e-6));
    }
    expect(perChannel.bytes.length - mixed.bytes.length).toBe(16 * 1001);

    const a = await compareModels(model, perChannel.bytes, unseen);
    const b = await compareModels(model, mixed.bytes, unseen);
    const between = await compareModels(perChannel.bytes, mixed.bytes, unseen);
    // Same agreement with the float model to within two of the 48 images, nearly the same SQNR,
    // and the two int8 models pick the same class on nearly every image.
    expect(Math.abs(a.classification.agreement - b.classification.agreement)).toBeLessThanOrEqual(2 / 48);
    expect(b.outputs[0].sqnrDb).toBeGreaterThan(a.outputs[0].sqnrDb - 1);
    expect(between.classification.agreement).toBeGreaterThanOrEqual(0.95);
  });
});
