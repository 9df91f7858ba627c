/**
 * int4 weight-only and dynamic on hand-built models (one per form) and on shared models: each result
 * runs in LiteRT (the pipeline checks it; this test runs it again), its outputs are measured against
 * the float model (SQNR bounds a little under what bench/int4.ts measured), its size is bounded, and
 * every int4 weight read back from the written file equals round(w / scale) clamped to -8..7, with
 * the scale itself checked against max|w| / 7 of the float weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runtimeReals } from '../../engine/engine-test-support';
import { sqnrDb } from '../../evaluate/metrics';
import { loadModel } from '../../runtime/load';
import { randomInputs } from '../../runtime/random-inputs';
import { initRuntime } from '../../runtime/start';
import { seededRandom } from '../../seeded-random';
import { readSharedModel } from '../../test-support/shared';
import { addBuffer, newGraph, newOperator, opcodeIndex } from '../../tflite/edit';
import { newTensor } from '../../tflite/edit';
import type { ModelGraph, Tensor } from '../../tflite/graph';
import { readModel } from '../../tflite/read';
import { BuiltinOperator as Op, BuiltinOptions, FullyConnectedOptionsT, QuantizationDetails, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { BlockwiseQuantizationT } from '../../tflite/schema/generated/tflite/blockwise-quantization';
import { Conv2DOptionsT } from '../../tflite/schema/generated/tflite/conv2doptions';
import { writeModel } from '../../tflite/write';
import { optimizeModel } from '../pipeline';
import { defaultRecipe, type Recipe } from '../recipe';
import { constantAsFloat32 } from './fold-dequantize';
import { unpackInt4 } from './int4';
import { fromFloat16 } from '../../tflite/dtypes';
import { weightBitsFor } from './weight-only';

beforeAll(async () => {
  await initRuntime();
});

const SEEDS = [1, 2, 3];

async function outputsOn(bytes: Uint8Array): Promise<Float32Array[]> {
  const model = await loadModel(bytes);
  try {
    const rows: Float32Array[][] = [];
    for (const seed of SEEDS) rows.push(runtimeReals(model, await model.run(randomInputs(model, seed))));
    return rows[0].map((_, o) => Float32Array.from(rows.flatMap((r) => Array.from(r[o]))));
  } finally {
    model.delete();
  }
}

/** Checks every INT4 constant of `result` against the float weight of the same name in `float`. */
function checkInt4Storage(float: ModelGraph, result: ModelGraph): { tensors: number; blockwise: number } {
  let tensors = 0;
  let blockwise = 0;
  result.subgraphs.forEach((subgraph) => {
    for (const tensor of subgraph.tensors) {
      if (tensor.type !== TensorType.INT4 || !result.buffers[tensor.buffer].data.length) continue;
      const floatIndex = float.subgraphs[0].tensors.findIndex((t) => t.name === tensor.name);
      expect(floatIndex, tensor.name).toBeGreaterThanOrEqual(0);
      const w = constantAsFloat32(float, 0, floatIndex);
      const q = unpackInt4(result.buffers[tensor.buffer].data, w.length);
      const scaleOf = scalesOf(result, subgraph.tensors, tensor, w);
      if (tensor.quantization?.detailsType === QuantizationDetails.BlockwiseQuantization) blockwise++;
      for (let i = 0; i < w.length; i++) {
        const s = scaleOf(i);
        const expected = Math.max(-8, Math.min(7, Math.round(w[i] / s)));
        if (q[i] !== expected) expect(`${tensor.name}[${i}] = ${q[i]}`).toBe(`${tensor.name}[${i}] = ${expected}`);
      }
      tensors++;
    }
  });
  return { tensors, blockwise };
}

/** The scale of element i as the file says, after checking each scale is max|w| / 7 of its group. */
function scalesOf(graph: ModelGraph, tensors: Tensor[], tensor: Tensor, w: Float32Array): (i: number) => number {
  const q = tensor.quantization!;
  const shape = tensor.shape;
  let groupOf: (i: number) => number;
  let scales: Float32Array;
  if (q.detailsType === QuantizationDetails.BlockwiseQuantization) {
    const details = q.details as BlockwiseQuantizationT;
    expect(details.zeroPoints).toBe(-1);
    const scaleTensor = tensors[details.scales];
    expect(scaleTensor.type).toBe(TensorType.FLOAT16);
    scales = fromFloat16(new Uint16Array(graph.buffers[scaleTensor.buffer].data.slice().buffer));
    const columns = shape[1];
    const blocks = columns / details.blockSize;
    expect(scaleTensor.shape).toEqual([shape[0], blocks]);
    groupOf = (i) => Math.floor(i / columns) * blocks + Math.floor((i % columns) / details.blockSize);
  } else {
    scales = Float32Array.from(q.scale!);
    expect(q.zeroPoint!.every((z) => z === 0)).toBe(true);
    const axis = q.quantizedDimension;
    const inner = shape.slice(axis + 1).reduce((n, d) => n * d, 1);
    groupOf = scales.length > 1 ? (i) => Math.floor(i / inner) % shape[axis] : () => 0;
  }
  const maxima = new Float32Array(scales.length);
  for (let i = 0; i < w.length; i++) maxima[groupOf(i)] = Math.max(maxima[groupOf(i)], Math.abs(w[i]));
  maxima.forEach((m, g) => {
    if (m > 0) expect(Math.abs(scales[g] - m / 7) / (m / 7)).toBeLessThan(1e-3); // float16 rounding at most
  });
  return (i) => scales[groupOf(i)];
}

async function quantize(model: Uint8Array, recipe: Recipe) {
  const result = await optimizeModel({ model, recipe });
  return { result, sqnr: await sqnrAgainst(model, result.bytes) };
}

async function sqnrAgainst(reference: Uint8Array, bytes: Uint8Array): Promise<number> {
  const [want, got] = [await outputsOn(reference), await outputsOn(bytes)];
  return Math.min(...want.map((w, o) => sqnrDb(w, got[o])));
}

const recipe = (technique: 'weight-int8' | 'dynamic', blockSize = 0): Recipe => ({ ...defaultRecipe(technique), weightBits: 4, blockSize, minWeightElements: 0 });

/** x[1,64] -> FULLY_CONNECTED W[16,64] + bias -> y[1,16]. */
function fcModel(): Uint8Array {
  const random = seededRandom(11);
  const g = newGraph('fc');
  const sg = g.subgraphs[0];
  const w = Float32Array.from({ length: 16 * 64 }, (_, i) => (random() * 2 - 1) * (1 + (i % 3)));
  const b = Float32Array.from({ length: 16 }, () => random() * 0.1);
  sg.tensors.push(
    newTensor({ name: 'x', type: TensorType.FLOAT32, shape: [1, 64] }),
    newTensor({ name: 'w', type: TensorType.FLOAT32, shape: [16, 64], buffer: addBuffer(g, new Uint8Array(w.buffer)) }),
    newTensor({ name: 'b', type: TensorType.FLOAT32, shape: [16], buffer: addBuffer(g, new Uint8Array(b.buffer)) }),
    newTensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 16] }),
  );
  sg.inputs = [0];
  sg.outputs = [3];
  sg.operators.push(newOperator(opcodeIndex(g, Op.FULLY_CONNECTED, 1), [0, 1, 2], [3], BuiltinOptions.FullyConnectedOptions, new FullyConnectedOptionsT()));
  return writeModel(g);
}

/** x[1,8,8,8] -> CONV_2D 3x3 W[16,3,3,8] + bias, SAME -> y[1,8,8,16]. */
function convModel(): Uint8Array {
  const random = seededRandom(12);
  const g = newGraph('conv');
  const sg = g.subgraphs[0];
  const w = Float32Array.from({ length: 16 * 9 * 8 }, (_, i) => (random() * 2 - 1) * (1 + Math.floor(i / 72)));
  sg.tensors.push(
    newTensor({ name: 'x', type: TensorType.FLOAT32, shape: [1, 8, 8, 8] }),
    newTensor({ name: 'w', type: TensorType.FLOAT32, shape: [16, 3, 3, 8], buffer: addBuffer(g, new Uint8Array(w.buffer)) }),
    newTensor({ name: 'b', type: TensorType.FLOAT32, shape: [16], buffer: addBuffer(g, new Uint8Array(new Float32Array(16).fill(0.05).buffer)) }),
    newTensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 8, 8, 16] }),
  );
  sg.inputs = [0];
  sg.outputs = [3];
  const options = new Conv2DOptionsT();
  options.strideW = 1;
  options.strideH = 1;
  sg.operators.push(newOperator(opcodeIndex(g, Op.CONV_2D, 1), [0, 1, 2], [3], BuiltinOptions.Conv2DOptions, options));
  return writeModel(g);
}

const opVersions = (bytes: Uint8Array) => {
  const g = readModel(bytes);
  return Object.fromEntries(g.operatorCodes.map((c) => [Op[c.builtinCode], c.version]));
};

describe('int4 weights on hand-built models, in LiteRT', () => {
  // Measured SQNR: FC 19.7 dB per-channel (weight-only and hybrid), 20.5 dB blockwise 32; CONV_2D 23.4 dB.
  it('FULLY_CONNECTED: weight-only (DEQUANTIZE v6), dynamic per-channel and blockwise hybrid (v13)', async () => {
    const model = fcModel();
    const float = readModel(model);
    for (const [r, form] of [[recipe('weight-int8'), 'deq'], [recipe('dynamic'), 'hybrid'], [recipe('dynamic', 32), 'blockwise']] as const) {
      const { result, sqnr } = await quantize(model, r);
      const written = readModel(result.bytes);
      const storage = checkInt4Storage(float, written);
      expect(storage.tensors).toBe(1);
      expect(storage.blockwise).toBe(form === 'blockwise' ? 1 : 0);
      expect(opVersions(result.bytes)).toMatchObject(form === 'deq' ? { DEQUANTIZE: 6 } : { FULLY_CONNECTED: 13 });
      expect(sqnr, `${form}`).toBeGreaterThan(form === 'blockwise' ? 20 : 19);
      // Weights 4 KB float -> 512 bytes packed (+ scales); the rest is the flatbuffer.
      expect(result.bytes.length).toBeLessThan(model.length * 0.45);
    }
  });

  it('CONV_2D: weight-only and dynamic per-channel int4 (hybrid v5)', async () => {
    const model = convModel();
    const float = readModel(model);
    for (const technique of ['weight-int8', 'dynamic'] as const) {
      const { result, sqnr } = await quantize(model, recipe(technique));
      expect(checkInt4Storage(float, readModel(result.bytes)).tensors).toBe(1);
      expect(opVersions(result.bytes)).toMatchObject(technique === 'dynamic' ? { CONV_2D: 5 } : { DEQUANTIZE: 6 });
      expect(sqnr, technique).toBeGreaterThan(22);
    }
  });

  it('a per-op bit width overrides weightBits; depthwise stays int8 unless the recipe names it', async () => {
    const { result } = await quantize(convModel(), { ...recipe('weight-int8'), opWeightBits: { CONV_2D: 8 } });
    const types = readModel(result.bytes).subgraphs[0].tensors.filter((t) => t.name === 'w').map((t) => TensorType[t.type]);
    expect(types).toEqual(['INT8']);
    expect(weightBitsFor({ builtin: Op.DEPTHWISE_CONV_2D }, { weightBits: 4 })).toBe(8);
    expect(weightBitsFor({ builtin: Op.DEPTHWISE_CONV_2D }, { weightBits: 4, opWeightBits: { [Op.DEPTHWISE_CONV_2D]: 4 } })).toBe(4);
    expect(weightBitsFor({ builtin: Op.CONV_2D }, { weightBits: 4 })).toBe(4);
  });
});

describe('int4 weights on shared models, in LiteRT', () => {
  it('transformer_ff_block_float: its output is 0 on any input (the FC weight is all zeros), so the BATCH_MATMUL weights are measured in the file', async () => {
    const model = readSharedModel('transformer_ff_block_float.tflite');
    const float = readModel(model);
    for (const r of [recipe('weight-int8'), recipe('dynamic'), recipe('dynamic', 32)]) {
      const result = await optimizeModel({ model, recipe: r });
      const written = readModel(result.bytes);
      // Two BATCH_MATMUL constants [1,128,512] and the FC [128,512]: all int4 (BATCH_MATMUL behind DEQUANTIZE).
      expect(checkInt4Storage(float, written).tensors).toBe(3);
      expect(result.bytes.length / model.length).toBeLessThan(0.15); // measured 0.141-0.145x
      const out = await outputsOn(result.bytes);
      expect(out[0].every((v) => v === 0)).toBe(true);
      if (r.technique === 'dynamic') expect(result.notes.join('\n')).toMatch(/2 BATCH_MATMUL: int4 weights stored behind DEQUANTIZE/);
    }
  });

  it('text_avgwordvec_embedder_float: the 10k x 16 embedding as int4 per column; blockwise cannot split 16 columns', async () => {
    const model = readSharedModel('text_avgwordvec_embedder_float.tflite');
    const float = readModel(model);
    const zip = float.appendedZip?.bytes.length ?? 0;
    for (const r of [recipe('weight-int8'), recipe('dynamic'), recipe('dynamic', 32)]) {
      const { result, sqnr } = await quantize(model, r);
      expect(checkInt4Storage(float, readModel(result.bytes)).tensors).toBe(2);
      // Measured 21.5 dB (weight-only) and 22.8 dB (dynamic).
      expect(sqnr, r.technique).toBeGreaterThan(20);
      // The appended vocab.txt (131 KB) is 17% of the file and stays; the model part shrinks to 0.13x.
      expect((result.bytes.length - zip) / (model.length - zip)).toBeLessThan(0.14);
      if (r.blockSize) expect(result.notes.join('\n')).toMatch(/not a multiple of 32|does not apply blockwise/);
    }
  });

  it('mnist_conv_fc_float: conv and both FCs int4; blockwise 32 on the 1568-wide FC', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const float = readModel(model);
    for (const [r, minSqnr, blockwise] of [[recipe('weight-int8'), 21, 0], [recipe('dynamic'), 20.5, 0], [recipe('dynamic', 32), 24, 2]] as const) {
      const { result, sqnr } = await quantize(model, r);
      const storage = checkInt4Storage(float, readModel(result.bytes));
      expect(storage.tensors).toBe(3);
      expect(storage.blockwise).toBe(blockwise);
      // Measured (every weight int4, minWeightElements 0): 22.7 dB weight-only, 22.0 dB dynamic, 26.2 dB blockwise 32.
      expect(sqnr, result.label).toBeGreaterThan(minSqnr);
      expect(result.bytes.length / model.length).toBeLessThan(0.16); // measured 0.141-0.155x
    }
  });
});
