/**
 * Output bias correction (output-bias.ts), checked against an independent measurement: the written
 * W4A8 model and the float model run in LiteRT (taps made here with withTaps + loadModel, values
 * dequantized here) on the calibration samples, and per output channel of the corrected op the mean
 * of (quantized - float) worked out here. Corrected, that mean is near zero; without the correction
 * it is not. Plus the accumulation rule on hand-made values.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import { loadModel } from '../../runtime/load';
import { randomInputs } from '../../runtime/random-inputs';
import { toModelInputs, type Sample } from '../../runtime/samples';
import { initRuntime } from '../../runtime/start';
import { tapOutputIndices, withTaps } from '../../runtime/taps';
import { dataDir, readSharedModel } from '../../test-support/shared';
import type { ModelGraph } from '../../tflite/graph';
import { opName } from '../../tflite/ops';
import { readModel } from '../../tflite/read';
import { writeModel } from '../../tflite/write';
import { optimizeModel } from '../pipeline';
import { defaultRecipe } from '../recipe';
import { accumulate } from './output-bias';

beforeAll(() => initRuntime());

/** Values of the tensor named `name` on every sample, as floats (dequantized with its own parameters). */
async function tensorValues(bytes: Uint8Array, name: string, samples: Sample[]): Promise<Float32Array[]> {
  const graph = readModel(bytes);
  const sg = graph.subgraphs[0];
  const index = sg.tensors.findIndex((t) => t.name === name);
  expect(index).toBeGreaterThanOrEqual(0);
  const tapped = withTaps(graph, 0, (t) => t === index, { tapsOnly: true });
  const model = await loadModel(writeModel(tapped.graph));
  try {
    const [position] = tapOutputIndices(model, tapped);
    const q = sg.tensors[index].quantization;
    const scale = q?.scale?.[0];
    const zeroPoint = Number(q?.zeroPoint?.[0] ?? 0);
    const out: Float32Array[] = [];
    for (let i = 0; i < samples.length; i++) {
      const [result] = [(await model.run(toModelInputs(samples[i], model.inputs, i)))[position]];
      const raw = result.data;
      out.push(scale ? Float32Array.from(raw as ArrayLike<number>, (v) => scale * (v - zeroPoint)) : Float32Array.from(raw as ArrayLike<number>));
    }
    return out;
  } finally {
    model.delete();
  }
}

/** Output tensor name of the last CONV_2D / FULLY_CONNECTED of the float model (the logits). */
function lastLayerOutput(graph: ModelGraph): string {
  const sg = graph.subgraphs[0];
  const ops = sg.operators.filter((op) => ['CONV_2D', 'FULLY_CONNECTED'].includes(opName(graph, op)));
  return sg.tensors[ops[ops.length - 1].outputs[0]].name;
}

/** RMS over channels of the per-channel mean of (quantized - float). */
function meanErrorRms(quantized: Float32Array[], float: Float32Array[], channels: number): number {
  const sum = new Float64Array(channels);
  let positions = 0;
  quantized.forEach((q, s) => {
    for (let i = 0; i < q.length; i++) sum[i % channels] += q[i] - float[s][i];
    positions += q.length / channels;
  });
  return Math.sqrt(sum.reduce((a, v) => a + (v / positions) ** 2, 0) / channels);
}

async function check(model: Uint8Array, calibration: Sample[], weightBits: 4 | 8, ops: 'last' | 'all', note: string) {
  const name = lastLayerOutput(readModel(model));
  const float = await tensorValues(model, name, calibration);
  const recipe = { ...defaultRecipe('int8'), weightBits };
  const rms: Record<string, number> = {};
  for (const [label, passes] of [['without', 0], ['with', 1]] as const) {
    const result = await optimizeModel({ model, recipe, calibration, outputBias: { passes, ops } });
    const q = await tensorValues(result.bytes, name, calibration);
    const channels = readModel(result.bytes).subgraphs[0].tensors.find((t) => t.name === name)!.shape.at(-1)!;
    rms[label] = meanErrorRms(q, float, channels);
    if (passes) expect(result.notes.some((n) => n.startsWith(note))).toBe(true);
  }
  return rms;
}

async function photos(model: Uint8Array, count: number): Promise<Sample[]> {
  const dataset = await openDataset(await filesFromPath(join(dataDir, 'imagenet_val_subset')), graphInputs(readModel(model)), {
    preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
  });
  return Promise.all(Array.from({ length: count }, (_, i) => dataset.sample(i)));
}

describe('output bias correction of the last int4 layer: its mean output error on the calibration data is ~0 in LiteRT', () => {
  it('MobileNetV1 0.25 W4A8 on 16 ImageNet photos (logits)', async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const rms = await check(model, await photos(model, 16), 4, 'last', 'output bias correction: 1 op(s) with int4 weights (the last)');
    // Measured: RMS over the 1001 logits of their mean error 0.632 without, 0.0139 with (what is left:
    // the int32 bias's rounding and the int8 output's requantization).
    expect(rms.without).toBeGreaterThan(0.2);
    expect(rms.with).toBeLessThan(rms.without / 10);
  }, 600_000);
});

describe('output bias correction of every layer of an int8 model (asked for with ops: all)', () => {
  it('MobileNetV1 0.25 int8 on 16 ImageNet photos: all 28 layers with weights corrected, the logits last', async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const rms = await check(model, await photos(model, 16), 8, 'all', 'output bias correction: 28 op(s) with weights');
    // Measured: RMS over the 1001 logits of their mean error 0.110 without, 0.0098 with.
    expect(rms.without).toBeGreaterThan(0.05);
    expect(rms.with).toBeLessThan(rms.without / 5);
  }, 600_000);
});

describe("the pipeline's default: every int4 layer where the model can be walked, else the last", () => {
  it('MobileNetV1 0.25 W4A8: all 9 int4 layers (the 6 smallest of 15 stay int8), or only the logits when the walk may cache nothing', async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const calibration = await photos(model, 8);
    const recipe = { ...defaultRecipe('int8'), weightBits: 4 as const };
    const walked = await optimizeModel({ model, recipe, calibration });
    expect(walked.notes.find((n) => n.startsWith('output bias correction'))).toMatch(/^output bias correction: 9 op\(s\) with int4 weights, /);
    const narrowed = await optimizeModel({ model, recipe, calibration, outputBias: { walkCacheBytes: 1 } });
    expect(narrowed.notes.find((n) => n.startsWith('output bias correction'))).toMatch(
      /^output bias correction: 1 op\(s\) with int4 weights \(the last\), .*; only the last int4 layer, as the model cannot be walked from layer to layer \(its cache would hold \d+ MB, over the 0 MB allowed\)/,
    );
    expect(Buffer.from(narrowed.bytes).equals(Buffer.from(walked.bytes))).toBe(false);
  }, 600_000);
});

describe('a model whose int4 ops have no bias', () => {
  it('ops/weight_sharing_fcs (FULLY_CONNECTED without bias): says there is nothing to correct', async () => {
    const model = readSharedModel('ops/weight_sharing_fcs.tflite');
    const loaded = await loadModel(model);
    const calibration = [0, 1, 2, 3].map((seed) => randomInputs(loaded, seed));
    loaded.delete();
    const result = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), weightBits: 4 }, calibration, allowFloatFallback: true });
    expect(result.notes).toContain('no output bias correction: no op with int4 weights has a bias to move');
    expect(result.notes.some((n) => n.startsWith('output bias correction'))).toBe(false);
  });
});

describe('accumulate', () => {
  it('sums the dequantized values per channel over every position, and counts where the quantized value is unclamped', () => {
    // Two channels, three positions; int8 with scale 0.5, zero point -128 (a RELU output from 0).
    const yq = Int8Array.of(-128, -126, -127, -124, -128, 127);
    const sum = new Float64Array(2);
    const linear = new Float64Array(2);
    accumulate(yq, 2, { scale: 0.5, zeroPoint: -128, limits: [-128, 127] }, sum, linear);
    // channel 0: 0 + 0.5 + 0; channel 1: 1 + 2 + 127.5
    expect(sum[0]).toBeCloseTo(0.5, 9);
    expect(sum[1]).toBeCloseTo(130.5, 9);
    expect(Array.from(linear)).toEqual([1, 2]);
  });
});
