/**
 * 16x8 per op inside int8 models, through the whole pipeline (recipe activationBitsByScope -> plan ->
 * rewrite) on shared models, run in LiteRT: the ops asked for (and the ops that only move data in
 * their scale groups) read and write INT16 tensors (symmetric, zero point 0) with INT8 weights and
 * INT64 bias at input_scale * weight_scale, QUANTIZE int8 <-> int16 joins them to the int8 ops, and the
 * result sits between all-int8 and all-16x8 against the float model: at the model's output, and at the
 * 16x8 op's own output (made a model output of the float model before quantizing, so every variant
 * returns it dequantized).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runtimeReals } from '../../engine/engine-test-support';
import { sqnrDb } from '../../evaluate/metrics';
import { decodeImage } from '../../data/image-decode';
import { preprocessImage } from '../../data/preprocess';
import { loadModel } from '../../runtime/load';
import { initRuntime } from '../../runtime/start';
import { withTaps } from '../../runtime/taps';
import { dataDir, readSharedModel } from '../../test-support/shared';
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf, opName } from '../../tflite/ops';
import { readModel } from '../../tflite/read';
import { BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { writeModel } from '../../tflite/write';
import { optimizeModel } from '../pipeline';
import { defaultRecipe, type Recipe, type ScopedActivationBits } from '../recipe';
import type { QuantizationPlan } from './plan-types';

type Sample = Float32Array[];

beforeAll(() => initRuntime());

/** The float model with tensor `name` also a model output (LiteRT returns what a model outputs). */
function withOutput(bytes: Uint8Array, name: string): Uint8Array {
  const graph = readModel(bytes);
  const index = graph.subgraphs[0].tensors.findIndex((t) => t.name === name);
  if (index < 0) throw new Error(`no tensor ${name}`);
  return writeModel(withTaps(graph, 0, (t) => t === index).graph);
}

/** Every output on every sample, concatenated per output position. */
async function outputsOn(bytes: Uint8Array, samples: Sample[]): Promise<Float32Array[]> {
  const model = await loadModel(bytes);
  try {
    const rows: Float32Array[][] = [];
    for (const sample of samples) rows.push(runtimeReals(model, await model.run(sample)));
    return rows[0].map((_, o) => Float32Array.from(rows.flatMap((r) => Array.from(r[o]))));
  } finally {
    model.delete();
  }
}

interface Variant {
  bytes: Uint8Array;
  plan: QuantizationPlan;
  /** SQNR against the float model, dB: [model output, the tapped op output]. */
  sqnr: [number, number];
}

/** int8, int8 with `scopes` at 16x8, and all 16x8, each against the float model on `evaluation`. */
async function variants(floatBytes: Uint8Array, scopes: ScopedActivationBits[], calibration: Sample[], evaluation: Sample[]): Promise<Record<'int8' | 'mixed' | 'int16x8', Variant>> {
  // Nearest rounding and no equalization: the three differ only in their activation widths.
  const recipe = (technique: 'int8' | 'int16x8', extra: Partial<Recipe> = {}): Recipe => ({ ...defaultRecipe(technique), rounding: 'nearest', equalize: 'off', ...extra });
  const reference = await outputsOn(floatBytes, evaluation);
  const run = async (r: Recipe): Promise<Variant> => {
    const result = await optimizeModel({ model: floatBytes, recipe: r, calibration });
    const outputs = await outputsOn(result.bytes, evaluation);
    return { bytes: result.bytes, plan: result.plan!, sqnr: [sqnrDb(reference[0], outputs[0]), sqnrDb(reference[1], outputs[1])] };
  };
  return {
    int8: await run(recipe('int8')),
    mixed: await run(recipe('int8', { activationBitsByScope: scopes })),
    int16x8: await run(recipe('int16x8')),
  };
}

/** Ops of the written model by their output tensor's name, with their tensors' types and quantization. */
function opsOf(bytes: Uint8Array) {
  const graph: ModelGraph = readModel(bytes);
  const sg = graph.subgraphs[0];
  return sg.operators.map((op) => ({
    op: opName(graph, op),
    builtin: builtinCodeOf(graph.operatorCodes[op.opcodeIndex]),
    version: graph.operatorCodes[op.opcodeIndex].version,
    inputs: op.inputs.map((t) => (t < 0 ? null : sg.tensors[t])),
    outputs: op.outputs.map((t) => sg.tensors[t]),
  }));
}

const TYPE = (t: { type: TensorType } | null) => (t ? TensorType[t.type] : null);

describe('16x8 ops inside int8: MNIST conv + fc', () => {
  const floatModel = readSharedModel('mnist_conv_fc_float.tflite');
  const graph = readModel(floatModel);
  const main = graph.subgraphs[0];
  const convOut = main.tensors[main.operators[0].outputs[0]].name;
  let result: Awaited<ReturnType<typeof variants>>;

  beforeAll(async () => {
    const images = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
    const digit = (i: number): Sample => [Float32Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)];
    const calibration = Array.from({ length: 50 }, (_, i) => digit(i));
    const evaluation = Array.from({ length: 100 }, (_, i) => digit(1000 + i));
    // CONV_2D at 16x8; the average pool and reshape after it share its scale and follow it.
    result = await variants(withOutput(floatModel, convOut), [{ opTypes: ['CONV_2D'], bits: 16 }], calibration, evaluation);
    console.log('MNIST SQNR vs float (output, conv output) dB:', Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.sqnr.map((x) => x.toFixed(2))])));
  }, 600_000);

  it('plans the conv 16x8, its pool and reshape at 16 bits (they share its scale), the rest int8', () => {
    const ops = result.mixed.plan.subgraphs[0].ops;
    expect(ops.map((op) => [op.op, op.precision, op.activationBits])).toEqual([
      ['CONV_2D', 'int16x8', 16],
      ['AVERAGE_POOL_2D', 'int16x8', 16],
      ['RESHAPE', 'int16x8', 16],
      ['FULLY_CONNECTED', 'int8', 8],
      ['FULLY_CONNECTED', 'int8', 8],
      ['SOFTMAX', 'int8', 8],
    ]);
    expect(ops[1].precisionNote).toMatch(/shares one scale/);
    expect(ops[0].bias).toMatchObject({ dtype: 'int64', bits: 64 });
    expect(ops[3].bias).toMatchObject({ dtype: 'int32', bits: 32 });
  });

  it('writes INT16 activations (zero point 0), INT8 weights, INT64 bias at input_scale * weight_scale, and QUANTIZE int8 <-> int16 at the borders', () => {
    const ops = opsOf(result.mixed.bytes);
    const conv = ops.find((o) => o.builtin === BuiltinOperator.CONV_2D)!;
    expect([TYPE(conv.inputs[0]), TYPE(conv.inputs[1]), TYPE(conv.inputs[2]), TYPE(conv.outputs[0])]).toEqual(['INT16', 'INT8', 'INT64', 'INT16']);
    expect(conv.version).toBeGreaterThanOrEqual(4); // the converter's int16x8 CONV_2D
    expect(conv.inputs[0]!.quantization!.zeroPoint).toEqual([0]);
    expect(conv.outputs[0].quantization!.zeroPoint).toEqual([0]);
    const inputScale = conv.inputs[0]!.quantization!.scale![0];
    const weightScales = conv.inputs[1]!.quantization!.scale!;
    conv.inputs[2]!.quantization!.scale!.forEach((s, c) => expect(s).toBeCloseTo(inputScale * weightScales[c], 12));
    for (const name of ['AVERAGE_POOL_2D', 'RESHAPE']) {
      const op = ops.find((o) => o.op === name)!;
      expect([TYPE(op.inputs[0]), TYPE(op.outputs[0])], name).toEqual(['INT16', 'INT16']);
    }
    // The second FC has no bias.
    const fcs = ops.filter((o) => o.builtin === BuiltinOperator.FULLY_CONNECTED);
    expect(fcs.map((fc) => [TYPE(fc.inputs[0]), TYPE(fc.inputs[2] ?? null), TYPE(fc.outputs[0])])).toEqual([
      ['INT8', 'INT32', 'INT8'],
      ['INT8', null, 'INT8'],
    ]);
    // float -> int16 at the input, int16 -> int8 before the first FC; plus the conv output's
    // DEQUANTIZE (it is a model output here) and the softmax's.
    const quantizes = ops.filter((o) => o.builtin === BuiltinOperator.QUANTIZE).map((o) => `${TYPE(o.inputs[0])}->${TYPE(o.outputs[0])}`);
    expect(quantizes.sort()).toEqual(['FLOAT32->INT16', 'INT16->INT8']);
  });

  it('lies between all-int8 and all-16x8 against float, at the output and at the 16x8 conv output', () => {
    const { int8, mixed, int16x8 } = result;
    // At the conv output: its int8 input and output rounding gone, the weights' left (measured
    // 46.0 -> 52.2 dB); the same arithmetic as in the all-16x8 model, from the same float input.
    expect(mixed.sqnr[1]).toBeGreaterThan(int8.sqnr[1] + 4);
    expect(mixed.sqnr[1]).toBeCloseTo(int16x8.sqnr[1], 2);
    expect(mixed.sqnr[0]).toBeGreaterThanOrEqual(int8.sqnr[0]);
    expect(mixed.sqnr[0]).toBeLessThanOrEqual(int16x8.sqnr[0] + 0.5);
  });
});

describe('16x8 ops inside int8: MNIST fully connected + softmax', () => {
  it('requantizes int8 -> int16 into the FC, gives the 16x8 softmax the fixed 1/32768 output, and runs in LiteRT better than int8 at the output', async () => {
    const floatModel = readSharedModel('mnist_conv_fc_float.tflite');
    const images = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
    const digit = (i: number): Sample => [Float32Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)];
    const main = readModel(floatModel).subgraphs[0];
    const fcOut = main.tensors[main.operators[3].outputs[0]].name;
    const scopes: ScopedActivationBits[] = [{ tensorNamePattern: `^${fcOut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, bits: 16 }, { opTypes: ['SOFTMAX'], bits: 16 }];
    const result = await variants(withOutput(floatModel, fcOut), scopes, Array.from({ length: 50 }, (_, i) => digit(i)), Array.from({ length: 100 }, (_, i) => digit(2000 + i)));
    console.log('MNIST FC+softmax SQNR vs float (output, FC output) dB:', Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.sqnr.map((x) => x.toFixed(2))])));
    const sp = result.mixed.plan.subgraphs[0];
    expect(sp.ops.map((op) => op.precision)).toEqual(['int8', 'int8', 'int8', 'int16x8', 'int8', 'int16x8']);
    const softmaxOut = sp.tensors.filter((t) => t.tensorIndex === main.operators[5].outputs[0]);
    expect(softmaxOut[0]).toMatchObject({ dtype: 'int16', scales: [1 / 32768], zeroPoints: [0] });
    // The FC's input: int8 where the reshape writes it, int16 where the FC reads it, on one range.
    const fcIn = sp.tensors.filter((t) => t.tensorIndex === main.operators[3].inputs[0]);
    expect(fcIn.map((t) => t.dtype)).toEqual(['int8', 'int16']);
    expect(fcIn[1].zeroPoints).toEqual([0]);
    const ops = opsOf(result.mixed.bytes);
    const quantizes = ops.filter((o) => o.builtin === BuiltinOperator.QUANTIZE).map((o) => `${TYPE(o.inputs[0])}->${TYPE(o.outputs[0])}`);
    // Into the FC (from the int8 reshape), out of it (into the int8 FC), into the softmax.
    expect(quantizes.sort()).toEqual(['FLOAT32->INT8', 'INT16->INT8', 'INT8->INT16', 'INT8->INT16']);
    const softmax = ops.find((o) => o.builtin === BuiltinOperator.SOFTMAX)!;
    expect([TYPE(softmax.inputs[0]), TYPE(softmax.outputs[0])]).toEqual(['INT16', 'INT16']);
    const { int8, mixed, int16x8 } = result;
    expect(mixed.sqnr[1]).toBeGreaterThan(int8.sqnr[1]);
    expect(mixed.sqnr[0]).toBeGreaterThanOrEqual(int8.sqnr[0]);
    expect(mixed.sqnr[0]).toBeLessThanOrEqual(int16x8.sqnr[0] + 0.5);
  }, 600_000);
});

describe('16x8 ops inside int8: MobileNetV1 0.25', () => {
  it('runs its first three layers 16x8 in LiteRT, better than int8 at the depthwise output among them and at the output', async () => {
    const floatModel = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const root = join(dataDir, 'imagenet_val_subset', 'images');
    const files = readdirSync(root).sort();
    const preprocessing = { width: 224, height: 224, channels: 3 as const, channelOrder: 'RGB' as const, mean: [127.5], std: [127.5], resize: 'bilinear' as const };
    const photo = (f: string): Sample => [preprocessImage(decodeImage(new Uint8Array(readFileSync(join(root, f))), f), preprocessing)];
    const depthwise = 'MobilenetV1/MobilenetV1/Conv2d_1_depthwise/Relu6';
    // The first layers: a 16x8 layer reading an int8 tensor keeps that tensor's int8 rounding, so
    // isolated 16x8 ops gain little at the output; a run of them from the float input does
    // (softmax alone at 16x8 measured 19.3 dB against int8's 19.6, all depthwise layers 19.1).
    const scopes: ScopedActivationBits[] = [{ tensorNamePattern: 'Conv2d_0/|Conv2d_1_depthwise/|Conv2d_1_pointwise/', bits: 16 }];
    const result = await variants(withOutput(floatModel, depthwise), scopes, files.slice(0, 30).map(photo), files.slice(100, 130).map(photo));
    console.log('MobileNetV1 SQNR vs float (output, depthwise 1 output) dB:', Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.sqnr.map((x) => x.toFixed(2))])));
    const ops = result.mixed.plan.subgraphs[0].ops;
    expect(ops.filter((op) => op.precision === 'int16x8').map((op) => `${op.opIndex} ${op.op}`)).toEqual(['0 CONV_2D', '1 DEPTHWISE_CONV_2D', '2 CONV_2D']);
    const written = opsOf(result.mixed.bytes);
    const dw = written.filter((o) => o.builtin === BuiltinOperator.DEPTHWISE_CONV_2D);
    expect([TYPE(dw[0].inputs[0]), TYPE(dw[0].inputs[1]), TYPE(dw[0].inputs[2]), TYPE(dw[0].outputs[0])]).toEqual(['INT16', 'INT8', 'INT64', 'INT16']);
    expect(dw[0].version).toBeGreaterThanOrEqual(5); // the converter's int16x8 DEPTHWISE_CONV_2D
    expect([TYPE(dw[1].inputs[0]), TYPE(dw[1].inputs[2]), TYPE(dw[1].outputs[0])]).toEqual(['INT8', 'INT32', 'INT8']);
    // float -> int16 into the first conv, int16 -> int8 after the third layer.
    const quantizes = written.filter((o) => o.builtin === BuiltinOperator.QUANTIZE).map((o) => `${TYPE(o.inputs[0])}->${TYPE(o.outputs[0])}`);
    expect(quantizes.sort()).toEqual(['FLOAT32->INT16', 'INT16->INT8']);
    const { int8, mixed, int16x8 } = result;
    expect(mixed.sqnr[1]).toBeGreaterThan(int8.sqnr[1] + 2);
    expect(mixed.sqnr[0]).toBeGreaterThan(int8.sqnr[0]);
    expect(mixed.sqnr[0]).toBeLessThan(int16x8.sqnr[0]);
  }, 900_000);
});

describe('16x8 ops inside int8 with integer I/O', () => {
  it('keeps the interface at int8 / uint8: the 16x8 conv reads the int8 (or uint8) input through a requantizing QUANTIZE, and LiteRT runs it', async () => {
    const floatModel = readSharedModel('mnist_conv_fc_float.tflite');
    const images = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
    const digit = (i: number): Sample => [Float32Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)];
    const calibration = Array.from({ length: 30 }, (_, i) => digit(i));
    for (const io of ['int8', 'uint8'] as const) {
      const recipe: Recipe = { ...defaultRecipe('int8'), io, rounding: 'nearest', equalize: 'off', activationBitsByScope: [{ opTypes: ['CONV_2D'], bits: 16 }] };
      const result = await optimizeModel({ model: floatModel, recipe, calibration });
      const graph = readModel(result.bytes);
      const sg = graph.subgraphs[0];
      expect(TensorType[sg.tensors[sg.inputs[0]].type], io).toBe(io === 'int8' ? 'INT8' : 'UINT8');
      const ops = opsOf(result.bytes);
      const chain = ops.filter((o) => o.builtin === BuiltinOperator.QUANTIZE).map((o) => `${TYPE(o.inputs[0])}->${TYPE(o.outputs[0])}`);
      // uint8 -> int8 comes first: the int16 twin is made from its output; the softmax's int8 output becomes uint8 last.
      expect(chain, io).toEqual(io === 'int8' ? ['INT8->INT16', 'INT16->INT8'] : ['UINT8->INT8', 'INT8->INT16', 'INT16->INT8', 'INT8->UINT8']);
      const conv = ops.find((o) => o.builtin === BuiltinOperator.CONV_2D)!;
      expect(TYPE(conv.inputs[0])).toBe('INT16');
      // Runs in LiteRT and classifies like the float model (outputs dequantized here by their own params).
      const model = await loadModel(result.bytes);
      const floatRun = await loadModel(floatModel);
      try {
        const inputScale = model.inputs[0].quantization!.scale;
        const zero = model.inputs[0].quantization!.zeroPoint;
        let agree = 0;
        for (let i = 0; i < 50; i++) {
          const [x] = digit(3000 + i);
          const q = io === 'int8' ? Int8Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / inputScale) + zero))) : Uint8Array.from(x, (v) => Math.max(0, Math.min(255, Math.round(v / inputScale) + zero)));
          const out = runtimeReals(model, await model.run([q]))[0];
          const ref = runtimeReals(floatRun, await floatRun.run([x]))[0];
          const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
          if (argmax(out) === argmax(ref)) agree++;
        }
        expect(agree, io).toBeGreaterThanOrEqual(49);
      } finally {
        model.delete();
        floatRun.delete();
      }
    }
  }, 600_000);
});
