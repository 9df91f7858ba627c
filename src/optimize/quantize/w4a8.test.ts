/**
 * Full-integer int4 weights (W4A8: int8 + weightBits 4; W4A16: int16x8 + weightBits 4), in LiteRT:
 * - on one-op models (CONV_2D, FULLY_CONNECTED, DEPTHWISE_CONV_2D named by the recipe): every INT4
 *   constant decoded here from its nibbles equals round(w / s) clamped to -8..7 with s = max|w_c| / 7
 *   worked out here from the float weights, and equals what the plan says; the bias is int32 / int64 at
 *   input_scale * s_c; op versions are the converter's; and LiteRT's output matches the float model
 *   whose weights are the decoded int4 values (so the kernel reads the packing as we mean it);
 * - depthwise W4A16 (LiteRT.js computes it wrong) keeps int8 weights, said in the plan and the notes;
 * - on MobileNetV1 0.25 (ImageNet photos) and the MNIST CNN (two FCs): SQNR against the float model on
 *   held-out inputs above a measured floor, below int8's, and a smaller file than int8's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, randomIndices } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import { runtimeReals } from '../../engine/engine-test-support';
import { compareModels } from '../../evaluate/compare';
import { reportMarkdown, buildReport } from '../../evaluate/report';
import { sqnrDb } from '../../evaluate/metrics';
import { loadModel } from '../../runtime/load';
import { randomInputs } from '../../runtime/random-inputs';
import type { Sample } from '../../runtime/samples';
import { initRuntime } from '../../runtime/start';
import { seededRandom } from '../../seeded-random';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { addBuffer, newGraph, newOperator, newTensor, opcodeIndex } from '../../tflite/edit';
import type { ModelGraph, Tensor } from '../../tflite/graph';
import { readModel } from '../../tflite/read';
import { BuiltinOperator as Op, BuiltinOptions, FullyConnectedOptionsT, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { Conv2DOptionsT } from '../../tflite/schema/generated/tflite/conv2doptions';
import { DepthwiseConv2DOptionsT } from '../../tflite/schema/generated/tflite/depthwise-conv2doptions';
import { writeModel } from '../../tflite/write';
import { optimizeModel, type OptimizeResult } from '../pipeline';
import { defaultRecipe, type Recipe } from '../recipe';
import type { OpPlan } from './plan-types';

beforeAll(() => initRuntime());

type Kind = 'conv' | 'fc' | 'depthwise';

/** One op with weights and bias: x -> op(W, b) -> y, weights spread unevenly over channels. */
function oneOpModel(kind: Kind): Uint8Array {
  const random = seededRandom(kind === 'fc' ? 11 : kind === 'conv' ? 12 : 13);
  const g = newGraph(kind);
  const sg = g.subgraphs[0];
  const shapes = { fc: { x: [1, 64], w: [16, 64], y: [1, 16] }, conv: { x: [1, 8, 8, 8], w: [16, 3, 3, 8], y: [1, 8, 8, 16] }, depthwise: { x: [1, 8, 8, 8], w: [1, 3, 3, 8], y: [1, 8, 8, 8] } }[kind];
  const count = shapes.w.reduce((n, d) => n * d, 1);
  const channels = kind === 'depthwise' ? 8 : 16;
  const w = Float32Array.from({ length: count }, (_, i) => (random() * 2 - 1) * (1 + (i % 5) / 2));
  const b = Float32Array.from({ length: channels }, () => random() * 0.2 - 0.1);
  sg.tensors.push(
    newTensor({ name: 'x', type: TensorType.FLOAT32, shape: shapes.x }),
    newTensor({ name: 'w', type: TensorType.FLOAT32, shape: shapes.w, buffer: addBuffer(g, new Uint8Array(w.buffer)) }),
    newTensor({ name: 'b', type: TensorType.FLOAT32, shape: [channels], buffer: addBuffer(g, new Uint8Array(b.buffer)) }),
    newTensor({ name: 'y', type: TensorType.FLOAT32, shape: shapes.y }),
  );
  sg.inputs = [0];
  sg.outputs = [3];
  if (kind === 'fc') {
    sg.operators.push(newOperator(opcodeIndex(g, Op.FULLY_CONNECTED, 1), [0, 1, 2], [3], BuiltinOptions.FullyConnectedOptions, new FullyConnectedOptionsT()));
  } else if (kind === 'conv') {
    const options = Object.assign(new Conv2DOptionsT(), { strideW: 1, strideH: 1 });
    sg.operators.push(newOperator(opcodeIndex(g, Op.CONV_2D, 1), [0, 1, 2], [3], BuiltinOptions.Conv2DOptions, options));
  } else {
    const options = Object.assign(new DepthwiseConv2DOptionsT(), { strideW: 1, strideH: 1, depthMultiplier: 1 });
    sg.operators.push(newOperator(opcodeIndex(g, Op.DEPTHWISE_CONV_2D, 1), [0, 1, 2], [3], BuiltinOptions.DepthwiseConv2DOptions, options));
  }
  return writeModel(g);
}

/** Signed int4 values from packed bytes, element 0 in the low nibble (the TFLite schema's INT4). */
function decodeNibbles(bytes: Uint8Array, count: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const nibble = i % 2 === 0 ? bytes[i >> 1] & 0x0f : bytes[i >> 1] >> 4;
    return nibble > 7 ? nibble - 16 : nibble;
  });
}

const floatsOf = (g: ModelGraph, t: Tensor) => new Float32Array(g.buffers[t.buffer].data.slice().buffer);

/** Channel of element i along `axis` of `shape` (row-major). */
function channelOf(shape: number[], axis: number, i: number): number {
  const inner = shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  return Math.floor(i / inner) % shape[axis];
}

async function outputsOn(bytes: Uint8Array, seeds: number[]): Promise<Float32Array> {
  const model = await loadModel(bytes);
  try {
    const rows: number[] = [];
    for (const seed of seeds) rows.push(...runtimeReals(model, await model.run(randomInputs(model, seed)))[0]);
    return Float32Array.from(rows);
  } finally {
    model.delete();
  }
}

const calibrationFor = async (bytes: Uint8Array): Promise<Sample[]> => {
  const model = await loadModel(bytes);
  const samples = Array.from({ length: 16 }, (_, i) => randomInputs(model, 100 + i) as Sample);
  model.delete();
  return samples;
};

// Nearest rounding: these one-op tests check the stored form against round(w / s) computed here (GPTQ's choice is tested in rounding/).
const w4 = (technique: 'int8' | 'int16x8', changes: Partial<Recipe> = {}): Recipe => ({ ...defaultRecipe(technique), weightBits: 4, equalize: 'off', rounding: 'nearest', ...changes });
const versionOf = (g: ModelGraph, op: Op) => g.operatorCodes.filter((c) => c.builtinCode === op).map((c) => c.version);
const weightOp = (result: OptimizeResult): OpPlan => result.plan!.subgraphs[0].ops.find((op) => op.weights)!;

describe('W4A8 / W4A16 on one-op models, in LiteRT', () => {
  const cases: [Kind, 'int8' | 'int16x8', Op, number][] = [
    ['conv', 'int8', Op.CONV_2D, 7],
    ['fc', 'int8', Op.FULLY_CONNECTED, 10],
    ['depthwise', 'int8', Op.DEPTHWISE_CONV_2D, 7],
    ['conv', 'int16x8', Op.CONV_2D, 7],
    ['fc', 'int16x8', Op.FULLY_CONNECTED, 10],
  ];
  for (const [kind, technique, builtin, version] of cases) {
    it(`${kind} ${technique === 'int8' ? 'W4A8' : 'W4A16'}: nibbles = round(w / (max|w_c| / 7)), bias at input_scale * s_c, v${version}, LiteRT = the float model with those weights`, async () => {
      const model = oneOpModel(kind);
      const float = readModel(model);
      // Depthwise stays int8 unless the recipe names it.
      const recipe = w4(technique, kind === 'depthwise' ? { opWeightBits: { DEPTHWISE_CONV_2D: 4 } } : {});
      // One tiny op: the file is mostly flatbuffer, the result may outgrow the float input.
      const result = await optimizeModel({ model, recipe, calibration: await calibrationFor(model), allowFloatFallback: true });
      const written = readModel(result.bytes);
      const tensors = written.subgraphs[0].tensors;
      const weights = tensors.find((t) => t.name === 'w' && t.buffer && written.buffers[t.buffer].data.length)!;
      expect(TensorType[weights.type]).toBe('INT4');
      const w = floatsOf(float, float.subgraphs[0].tensors[1]);
      expect(written.buffers[weights.buffer].data.length).toBe(Math.ceil(w.length / 2));
      const axis = kind === 'depthwise' ? 3 : 0;
      const channels = weights.shape[axis];
      const maxima = new Array(channels).fill(0);
      w.forEach((v, i) => (maxima[channelOf(weights.shape, axis, i)] = Math.max(maxima[channelOf(weights.shape, axis, i)], Math.abs(v))));
      const scales = maxima.map((m) => m / 7);
      expect(weights.quantization!.quantizedDimension).toBe(axis);
      weights.quantization!.scale!.forEach((s, c) => expect(s).toBeCloseTo(scales[c], 6)); // float32 storage
      expect(weights.quantization!.zeroPoint!.every((z) => z === 0)).toBe(true);
      // Round to nearest: every value within half a step of w / s (ties and the float32-stored scale
      // may go either way), inside -8..7; the channel maximum lands on +-7.
      const q = decodeNibbles(written.buffers[weights.buffer].data, w.length);
      const off = q.map((v, i) => Math.abs(w[i] / scales[channelOf(weights.shape, axis, i)] - v));
      expect(Math.max(...off)).toBeLessThanOrEqual(0.5 + 1e-4);
      expect(Math.min(...q)).toBeGreaterThanOrEqual(-8);
      expect(Math.max(...q)).toBeLessThanOrEqual(7);
      expect(new Set(q.map(Math.abs)).has(7)).toBe(true);
      // The plan says the same: 4 bits, int4, these scales.
      const plan = weightOp(result);
      expect(plan).toMatchObject({ weightBits: 4, weights: { dtype: 'int4', bits: 4, granularity: 'per-channel', axis } });
      expect(plan.weights!.scales.map(Math.fround)).toEqual(weights.quantization!.scale); // stored as float32
      // Bias: int32 (int64 under int16 activations) at input_scale * s_c.
      const bias = tensors.find((t) => t.name === 'b' && t.type !== TensorType.FLOAT32)!;
      expect(TensorType[bias.type]).toBe(technique === 'int8' ? 'INT32' : 'INT64');
      const inputScale = result.plan!.subgraphs[0].tensors.find((t) => t.tensorIndex === 0)!.scales[0];
      bias.quantization!.scale!.forEach((s, c) => expect(s / (inputScale * scales[c])).toBeCloseTo(1, 5));
      expect(versionOf(written, builtin)).toContain(version);

      // LiteRT against the float model holding exactly the decoded weights: only activation rounding differs.
      const fakeQuant = readModel(model);
      const dequantized = Float32Array.from(q, (v, i) => v * weights.quantization!.scale![channelOf(weights.shape, axis, i)]);
      fakeQuant.buffers[fakeQuant.subgraphs[0].tensors[1].buffer].data = new Uint8Array(dequantized.buffer);
      const seeds = [1, 2, 3];
      const got = await outputsOn(result.bytes, seeds);
      const sameWeights = sqnrDb(await outputsOn(writeModel(fakeQuant), seeds), got);
      const againstFloat = sqnrDb(await outputsOn(model, seeds), got);
      // Measured against the same-weights model: conv 39.6 / 56.7 dB (W4A8 / W4A16), depthwise 40.3, fc
      // 23.2 / 28.5 (activation-limited on random inputs); against the float model 20-23 dB.
      expect(sameWeights, `${kind} ${technique}`).toBeGreaterThan(kind === 'fc' ? 20 : 36);
      expect(sameWeights).toBeGreaterThan(againstFloat);
    });
  }

  it('depthwise W4A16 keeps int8 weights (LiteRT.js computes it wrong), said in the plan, the notes and the report', async () => {
    const model = oneOpModel('depthwise');
    const result = await optimizeModel({ model, recipe: w4('int16x8', { opWeightBits: { DEPTHWISE_CONV_2D: 4 } }), calibration: await calibrationFor(model), allowFloatFallback: true });
    const plan = weightOp(result);
    expect(plan).toMatchObject({ weightBits: 8, weights: { dtype: 'int8' } });
    expect(plan.weightBitsNote).toMatch(/int4 asked; int8 weights, as LiteRT.js runs no W4A16 DEPTHWISE_CONV_2D kernel/);
    expect(result.notes.join('\n')).toMatch(/1 op\(s\): int4 asked; int8 weights.*\(#0\)/);
    const written = readModel(result.bytes);
    expect(written.subgraphs[0].tensors.filter((t) => t.name === 'w').map((t) => TensorType[t.type])).toEqual(['INT8']);
    // Its 16x8 int8 output is close to float: it really is the int8 kernel.
    expect(sqnrDb(await outputsOn(model, [1, 2]), await outputsOn(result.bytes, [1, 2]))).toBeGreaterThan(40);
    const markdown = reportMarkdown(buildReport({ model: { name: 'dw.tflite', reference: 'float.tflite' }, plan: result.plan }));
    expect(markdown).toMatch(/## Weight bits[\s\S]*\| #0 DEPTHWISE_CONV_2D \| w \| 8 \| per-channel \| int4 asked/);
  });

  it('a scope by tensor name sets one op back to int8; the others stay int4', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const digits = await mnistSamples(20, 0);
    const result = await optimizeModel({ model, recipe: w4('int8', { weightBitsByScope: [{ tensorNamePattern: 'dense_1/', bits: 8 }], smallInt4Layers: 'int4' }), calibration: digits });
    const bits = result.plan!.subgraphs[0].ops.filter((op) => op.weights).map((op) => [op.op, op.weightBits]);
    expect(bits).toEqual([['CONV_2D', 4], ['FULLY_CONNECTED', 4], ['FULLY_CONNECTED', 8]]);
    const types = readModel(result.bytes).subgraphs[0].tensors.filter((t) => t.type === TensorType.INT4 || (t.type === TensorType.INT8 && t.shape.length >= 2 && t.shape[0] === 10));
    expect(types.map((t) => TensorType[t.type]).sort()).toEqual(['INT4', 'INT4', 'INT8']);
  });

  it('by default the smallest layers stay int8 (the 8x3x3 conv and the 10-way dense: 392 of 50,568 weights): said, stored INT8, closer to float in LiteRT', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const digits = await mnistSamples(20, 0);
    const heldOut = await mnistSamples(50, 7);
    const kept = await optimizeModel({ model, recipe: w4('int8'), calibration: digits });
    const all = await optimizeModel({ model, recipe: w4('int8', { smallInt4Layers: 'int4' }), calibration: digits });
    expect(kept.plan!.subgraphs[0].ops.filter((op) => op.weights).map((op) => [op.op, op.weightBits])).toEqual([['CONV_2D', 8], ['FULLY_CONNECTED', 4], ['FULLY_CONNECTED', 8]]);
    expect(kept.notes.join('\n')).toMatch(/2 small op\(s\) kept int8 weights \(392 weights, at most 2% of the int4 ops'; int4 would save 196 bytes/);
    expect(all.notes.join('\n')).not.toMatch(/small op/);
    const stored = (bytes: Uint8Array) => {
      const g = readModel(bytes);
      return g.subgraphs[0].tensors.filter((t) => (t.type === TensorType.INT4 || t.type === TensorType.INT8) && g.buffers[t.buffer]?.data.length).map((t) => `${t.shape.join('x')} ${TensorType[t.type]}`).sort();
    };
    expect(stored(kept.bytes)).toEqual(['10x32 INT8', '32x1568 INT4', '8x3x3x1 INT8']);
    expect(stored(all.bytes)).toEqual(['10x32 INT4', '32x1568 INT4', '8x3x3x1 INT4']);
    // The cost in bytes is about half the kept weights; the gain is measured in LiteRT against the float model.
    expect(kept.bytes.length - all.bytes.length).toBeGreaterThan(0);
    expect(kept.bytes.length - all.bytes.length).toBeLessThan(392);
    const sqnrOf = async (bytes: Uint8Array) => (await compareModels(model, bytes, heldOut)).outputs[0].sqnrDb;
    expect(await sqnrOf(kept.bytes)).toBeGreaterThan(await sqnrOf(all.bytes));
  });
});

async function mnistSamples(count: number, seed: number): Promise<Sample[]> {
  const dataset = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(readSharedModel('mnist_conv_fc_float.tflite'))));
  return Promise.all(randomIndices(dataset.size, count, seed).map((i) => dataset.sample(i)));
}

describe('W4A8 / W4A16 on shared models: SQNR against float on held-out inputs, below int8, smaller than int8', () => {
  async function measure(model: Uint8Array, calibration: Sample[], evaluation: Sample[]) {
    const out: Record<string, { sqnr: number; bytes: number }> = {};
    for (const [name, recipe] of [
      ['int8', defaultRecipe('int8')],
      ['W4A8', { ...defaultRecipe('int8'), weightBits: 4 }],
      ['int16x8', defaultRecipe('int16x8')],
      ['W4A16', { ...defaultRecipe('int16x8'), weightBits: 4 }],
    ] as [string, Recipe][]) {
      const result = await optimizeModel({ model, recipe, calibration });
      out[name] = { sqnr: (await compareModels(model, result.bytes, evaluation)).outputs[0].sqnrDb, bytes: result.bytes.length };
    }
    return out;
  }

  it('MobileNetV1 0.25 on ImageNet photos (calibrated on 32, measured on 48 others)', async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const root = join(dataDir, 'imagenet_val_subset');
    const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(model)), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
      labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
    });
    const samples = await Promise.all(Array.from({ length: 80 }, (_, i) => dataset.sample(i)));
    const m = await measure(model, samples.slice(0, 32), samples.slice(32));
    // Measured: int8 16.9 dB, W4A8 3.2 dB, int16x8 21.1 dB, W4A16 3.3 dB; W4A8 0.577x int8's bytes.
    // Round-to-nearest int4 of MobileNet's 1x1 convolutions loses most of the signal (MQBench: W4A8
    // min/max collapses too); the floors guard the form, better rounding must raise them.
    expect(m.W4A8.sqnr).toBeGreaterThan(2);
    expect(m.W4A16.sqnr).toBeGreaterThan(2);
    expect(m.int8.sqnr).toBeGreaterThan(m.W4A8.sqnr);
    expect(m.int16x8.sqnr).toBeGreaterThan(m.W4A16.sqnr);
    expect(m.W4A8.bytes / m.int8.bytes).toBeLessThan(0.6);
    expect(m.W4A16.bytes / m.int16x8.bytes).toBeLessThan(0.62);
  }, 600_000);

  it('MNIST CNN (CONV_2D + two FULLY_CONNECTED) on test digits (calibrated on 100, measured on 300 others)', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const digits = await mnistSamples(400, 1);
    const m = await measure(model, digits.slice(0, 100), digits.slice(100));
    // Measured: int8 42.4 dB, W4A8 26.5 dB, int16x8 45.7 dB, W4A16 26.5 dB; W4A8 0.545x int8's bytes.
    expect(m.W4A8.sqnr).toBeGreaterThan(24);
    expect(m.W4A16.sqnr).toBeGreaterThan(24);
    expect(m.int8.sqnr).toBeGreaterThan(m.W4A8.sqnr);
    expect(m.int16x8.sqnr).toBeGreaterThan(m.W4A16.sqnr);
    expect(m.W4A8.bytes / m.int8.bytes).toBeLessThan(0.6);
    expect(m.W4A16.bytes / m.int16x8.bytes).toBeLessThan(0.6);
  }, 600_000);
});
