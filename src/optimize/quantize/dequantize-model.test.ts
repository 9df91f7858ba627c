import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import { compareModels } from '../../evaluate/compare';
import { initRuntime } from '../../runtime/start';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { quantizationState } from '../../tflite/summary';
import { writeModel } from '../../tflite/write';
import { opName } from '../../tflite/ops';
import { ActivationFunctionType } from '../../tflite/schema/generated/tflite_generated';
import { dequantizeModel } from './dequantize-model';

describe('dequantizing a quantized model', () => {
  beforeAll(() => initRuntime());

  it("turns Google's uint8 MobileNet into a float model that predicts like it", async () => {
    const quantized = readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite');
    const { graph, notes } = dequantizeModel(readModel(quantized));
    expect(quantizationState(graph)).toBe('float32');
    expect(notes[0]).toMatch(/input "input" now takes float values; .*0\.0078125 \* \(q - 128\)/);
    const float = writeModel(graph);
    const root = join(dataDir, 'imagenet_val_subset');
    // The float version takes what the uint8 input meant: (pixel - 128) / 128.
    const dataset = await openDataset(await filesFromPath(root), graphInputs(graph), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [128], std: [128], resize: 'bilinear' },
      labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
    });
    const samples = await Promise.all(Array.from({ length: 100 }, (_, i) => dataset.sample(i)));
    const labels = dataset.labels.slice(0, 100) as number[];
    // Reference: the uint8 model (fed the same pixels, quantized); candidate: its float version.
    const result = await compareModels(quantized, float, samples, { labels });
    expect(result.classification.agreement).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(result.classification.accuracy!.candidate.top1 - result.classification.accuracy!.reference.top1)).toBeLessThanOrEqual(0.03);
  });

  it('restores fused ReLU6 that the quantized model expressed through its output range', () => {
    const { graph } = dequantizeModel(readModel(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite')));
    const activation = (op: (typeof graph.subgraphs)[0]['operators'][0]) => (op.builtinOptions as { fusedActivationFunction?: number } | null)?.fusedActivationFunction;
    const convs = graph.subgraphs[0].operators.filter((op) => ['CONV_2D', 'DEPTHWISE_CONV_2D'].includes(opName(graph, op)));
    // 27 conv layers end in ReLU6 (range [0, 6]); the logits conv (range [-13.3, 23.2]) has none.
    expect(convs.filter((op) => activation(op) === ActivationFunctionType.RELU6)).toHaveLength(27);
    expect(activation(convs[convs.length - 1])).toBe(ActivationFunctionType.NONE);
  });
});
