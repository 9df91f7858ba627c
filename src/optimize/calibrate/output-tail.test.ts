/**
 * The output tail rule (output-tail.ts) on MediaPipe's BlazeFace short range: full-integer int8 with
 * the default recipe, calibrated on ImageNet photos 0..49 and measured on photos 50..199 (never seen
 * by calibration) by mAP@0.5 of the decoded, NMS-ed faces against the float model's. Without the
 * rule the score logits' range (-329..1.3) gave a 1.3-logit step and 71.5% (tflite-opt eval, same split).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOX_CODER_PRESETS } from '../../evaluate/box-decoding';
import { compareModels } from '../../evaluate/compare';
import { initRuntime } from '../../runtime/start';
import { photoInput } from '../../test-support/photo-input';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { BLAZE_FACE_SHORT_RANGE, ssdAnchors } from '../../test-support/ssd-anchors';
import { readModel } from '../../tflite/read';
import { dequantizeBytes, optimizeModel } from '../pipeline';
import { defaultRecipe } from '../recipe';
import { clipOutputTails } from './output-tail';
import { rangeKey } from '../quantize/ranges';
import { accumulate, newTensorStats } from './statistics/histogram';

/** BlazeFace's input. */
const photo = (path: string) => photoInput(path, 128);

describe('output tail rule', () => {
  const model = readSharedModel('face_detection_short_range_fp16.tflite');
  const graph = readModel(model);
  const outputs = graph.subgraphs[0].outputs;
  const names = outputs.map((t) => graph.subgraphs[0].tensors[t].name);

  beforeAll(() => initRuntime());

  it('clips only the heavy one-sided tail of an output whose middle half gets under 4 int8 steps, over its whole scale group', () => {
    // Synthetic statistics for the two outputs: scores with a bulk in [-6, -3] and a rare tail to
    // -300 (clipped low, max kept); boxes spread evenly over [-50, 250] (left alone).
    const stats = new Map();
    const ranges = new Map();
    const scores = new Float32Array(10_000).map((_, i) => (i % 100 === 0 ? -300 + i / 100 : -6 + (3 * (i % 97)) / 96));
    scores[5] = 1.5;
    const boxes = new Float32Array(10_000).map((_, i) => -50 + (300 * i) / 9_999);
    for (const [k, values] of [scores, boxes].entries()) {
      const s = newTensorStats(0, outputs[k === 0 ? names.indexOf('classificators') : names.indexOf('regressors')], 'x');
      accumulate(s, values);
      stats.set(rangeKey(0, s.tensorIndex), s);
      ranges.set(rangeKey(0, s.tensorIndex), { min: s.min, max: s.max });
    }
    // A member of the scores' scale group (a conv output feeding RESHAPE -> CONCATENATION) with the tail too.
    const convOut = graph.subgraphs[0].tensors.findIndex((t) => t.name === 'classificator_16');
    ranges.set(rangeKey(0, convOut), { min: -320, max: 0.5 });
    const clips = clipOutputTails(graph, { tensors: stats }, ranges);
    expect(clips.map((c) => [c.tensor, c.side])).toEqual([['classificators', 'low']]);
    // Tukey's far-out fence: Q1 - 3 IQR, with Q1 ~ -5.2 and Q3 ~ -3.8 on these values.
    const scoreRange = ranges.get(rangeKey(0, outputs[names.indexOf('classificators')]));
    expect(scoreRange.max).toBe(1.5);
    expect(scoreRange.min).toBeGreaterThan(-12);
    expect(scoreRange.min).toBeLessThan(-7);
    expect(ranges.get(rangeKey(0, convOut))).toEqual({ min: scoreRange.min, max: 0.5 });
    expect(ranges.get(rangeKey(0, outputs[names.indexOf('regressors')]))).toEqual({ min: -50, max: 250 });
    // 16-bit activations resolve the same distribution: nothing clipped.
    const again = new Map([...ranges].map(([k]) => [k, { min: -300, max: 1.5 }]));
    expect(clipOutputTails(graph, { tensors: stats }, again, 16)).toEqual([]);
  });

  it('BlazeFace int8 (default recipe) on photos it was not calibrated on: mAP@0.5 against the float model >= 0.85', { timeout: 900_000 }, async () => {
    const dir = join(dataDir, 'imagenet_val_subset', 'images');
    const files = readdirSync(dir).sort().map((f) => join(dir, f));
    const calibration = files.slice(0, 50).map(photo);
    const evaluation = files.slice(50, 200).map(photo);
    const result = await optimizeModel({ model: dequantizeBytes(model).bytes, recipe: defaultRecipe('int8'), calibration, calibrationCount: calibration.length });
    const note = result.notes.find((n) => n.startsWith('output classificators: heavy low tail clipped'));
    const spec = { anchors: ssdAnchors(BLAZE_FACE_SHORT_RANGE), decoding: BOX_CODER_PRESETS['mediapipe-face'] };
    const compared = await compareModels(model, result.bytes, evaluation, { quality: { rawDetection: spec } });
    const map = compared.quality!;
    console.log(`BlazeFace int8, calibrated on ImageNet 0..49, mAP@0.5 vs float on 50..199: ${map.value.toFixed(4)} [${map.interval.map((v) => v.toFixed(3)).join(', ')}]; ${note}`);
    expect(note).toBeDefined();
    expect(map.samples).toBe(150);
    expect(map.value).toBeGreaterThanOrEqual(0.85);
  });
});
