/**
 * planQuantization alone, against the TFLite quantization spec worked out here from the model's own
 * weights and the calibrated ranges: int8 weights symmetric per output channel (zero point 0, scale
 * max|w_c| / 127), int32 bias at input_scale * weight_scale[c], activations asymmetric over the range
 * with 0 in it, softmax output 1/256 at -128, one scale across ops that only move data; plus int16x8,
 * JSON round trips, and an op with no integer kernel planned float with the reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '../../runtime/start';
import { dataDir, readSharedModel } from '../../test-support/shared';
import type { ModelGraph } from '../../tflite/graph';
import { readModel } from '../../tflite/read';
import { calibrate, rangesFrom } from '../calibrate/calibrate';
import { floatOpsOf, planQuantization, type PlanOptions, type QuantizationPlan, type TensorPlan } from './plan';
import type { RangeMap } from './ranges';
import { addBuffer, addTensor, newGraph, newOperator, newTensor, opcodeIndex, plainOperator } from '../../tflite/edit';
import { BuiltinOperator, BuiltinOptions, FullyConnectedOptionsT, TensorType } from '../../tflite/schema/generated/tflite_generated';

const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite')); // CONV AVG_POOL RESHAPE FC FC SOFTMAX
const main = graph.subgraphs[0];
const options: PlanOptions = { activationBits: 8, perChannel: true, io: 'float', keepFloat: () => false };
let ranges: RangeMap;
let plan: QuantizationPlan;

beforeAll(async () => {
  await initRuntime();
  const images = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
  const digits = Array.from({ length: 20 }, (_, i) => [Float32Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)]);
  ranges = rangesFrom(await calibrate(graph, digits), 'minmax');
  plan = planQuantization(graph, ranges, options);
});

/** The float values of a constant tensor, straight from its buffer. */
function weightsOf(g: ModelGraph, t: number): Float32Array {
  const data = g.buffers[g.subgraphs[0].tensors[t].buffer].data.slice();
  return new Float32Array(data.buffer, 0, data.length / 4);
}

/** max |w| of each slice along axis 0 ([out, ...]: output channels first). */
function channelMaxima(values: Float32Array, channels: number): number[] {
  const per = values.length / channels;
  return Array.from({ length: channels }, (_, c) => values.subarray(c * per, (c + 1) * per).reduce((m, v) => Math.max(m, Math.abs(v)), 0));
}

/** int8 activation parameters of the spec: [min, max] widened to hold 0, 255 steps, integer zero point. */
function int8Activation(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.max(-128, Math.min(127, Math.round(-128 - lo / scale))) };
}

const tensorPlan = (p: QuantizationPlan, t: number): TensorPlan => p.subgraphs[0].tensors.find((e) => e.tensorIndex === t)!;

describe('planQuantization on mnist_conv_fc_float (int8, per channel)', () => {
  it('runs every op quantized at 8 bits', () => {
    expect(plan.subgraphs[0].ops.map((op) => [op.op, op.mode, op.activationBits, op.weightBits])).toEqual(
      ['CONV_2D', 'AVERAGE_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'SOFTMAX'].map((name) => [name, 'quantized', 8, 8]),
    );
    expect(floatOpsOf(plan)).toEqual([]);
  });

  it('plans conv weights symmetric per output channel: zero point 0, scale max|w_c| / 127', () => {
    const conv = plan.subgraphs[0].ops[0];
    const w = main.operators[0].inputs[1];
    const channels = main.tensors[w].shape[0];
    const maxima = channelMaxima(weightsOf(graph, w), channels);
    expect(conv.weights).toMatchObject({ tensorIndex: w, role: 'weight', dtype: 'int8', bits: 8, granularity: 'per-channel', axis: 0 });
    expect(conv.weights!.zeroPoints).toEqual(maxima.map(() => 0));
    // The spec leaves an all-zero channel open; params.ts gives it the largest scale so its bias fits int32.
    const largest = Math.max(...maxima);
    expect(conv.weights!.scales).toEqual(maxima.map((m) => (m > 0 ? m / 127 : largest / 127)));
  });

  it('plans each bias as int32 at input_scale * weight_scale[c], zero point 0', () => {
    expect(plan.subgraphs[0].ops[0].bias).toBeDefined();
    for (const o of [0, 3, 4]) {
      const op = plan.subgraphs[0].ops[o];
      if (main.operators[o].inputs[2] < 0) {
        expect(op.bias).toBeUndefined(); // an FC without bias gets none
        continue;
      }
      const input = main.operators[o].inputs[0];
      const range = ranges.get(`0:${input}`)!;
      const inputScale = tensorPlan(plan, input).scales[0];
      expect(op.bias).toMatchObject({ tensorIndex: main.operators[o].inputs[2], role: 'bias', dtype: 'int32', bits: 32, inputScale });
      expect(op.bias!.scales).toEqual(op.weights!.scales.map((s) => inputScale * s));
      expect(op.bias!.zeroPoints.every((z) => z === 0)).toBe(true);
      // The conv input is alone in its scale group: its scale is its own calibrated range's.
      if (o === 0) expect(inputScale).toBeCloseTo(int8Activation(range.min, range.max).scale, 12);
    }
  });

  it('plans a fully connected layer per tensor unless per channel pays, by the same max|w| / 127 rule', () => {
    for (const o of [3, 4]) {
      const weights = plan.subgraphs[0].ops[o].weights!;
      const values = weightsOf(graph, weights.tensorIndex);
      const maxima = weights.granularity === 'per-channel' ? channelMaxima(values, main.tensors[weights.tensorIndex].shape[0]) : [channelMaxima(values, 1)[0]];
      expect(weights.scales).toEqual(maxima.map((m) => m / 127));
      expect(weights.axis).toBe(weights.granularity === 'per-channel' ? 0 : undefined);
    }
  });

  it('gives the softmax output the fixed 1/256, -128', () => {
    const out = tensorPlan(plan, main.operators[5].outputs[0]);
    expect(out).toMatchObject({ role: 'io', dtype: 'int8', scales: [1 / 256], zeroPoints: [-128] });
  });

  it('keeps pooling and reshape on one scale: the union of their tensors calibrated ranges', () => {
    const group = [main.operators[1].inputs[0], main.operators[1].outputs[0], main.operators[2].outputs[0]];
    const union = group.map((t) => ranges.get(`0:${t}`)!).reduce((a, b) => ({ min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) }));
    const expected = int8Activation(union.min, union.max);
    for (const t of group) {
      expect(tensorPlan(plan, t).scales[0]).toBeCloseTo(expected.scale, 12);
      expect(tensorPlan(plan, t).zeroPoints).toEqual([expected.zeroPoint]);
    }
  });

  it('is plain data: JSON round trips it unchanged', () => {
    expect(JSON.parse(JSON.stringify(plan))).toStrictEqual(plan);
  });

  it('with int8 I/O retargets the input and output, with float I/O leaves them float', () => {
    const io = planQuantization(graph, ranges, { ...options, io: 'uint8' }).subgraphs[0].io;
    expect([io.type, io.inputs.map((i) => i.dtype), io.outputs.map((o) => o.dtype)]).toEqual(['uint8', ['uint8'], ['uint8']]);
    expect(plan.subgraphs[0].io.inputs.map((i) => i.dtype)).toEqual(['float32']);
  });
});

describe('planQuantization: other widths and float ops', () => {
  it('16x8: int16 activations symmetric (zero point 0), int8 weights, int64 bias', () => {
    const wide = planQuantization(graph, ranges, { ...options, activationBits: 16 });
    const input = main.operators[0].inputs[0];
    const range = ranges.get(`0:${input}`)!;
    expect(tensorPlan(wide, input)).toMatchObject({ dtype: 'int16', bits: 16, zeroPoints: [0] });
    expect(tensorPlan(wide, input).scales[0]).toBeCloseTo(Math.max(-range.min, range.max) / 32767, 12);
    expect(wide.subgraphs[0].ops[0]).toMatchObject({ activationBits: 16, weightBits: 8, weights: { dtype: 'int8' }, bias: { dtype: 'int64', bits: 64 } });
    expect(tensorPlan(wide, main.operators[5].outputs[0])).toMatchObject({ scales: [1 / 32768], zeroPoints: [0] });
  });

  it('plans an op with no int8 kernel (SQRT, LOG) float with the reason, and one the recipe keeps float likewise', () => {
    const audio = readModel(readSharedModel('audio_event_527_float.tflite'));
    const floatOps = floatOpsOf(planQuantization(audio, new Map(), options));
    expect(floatOps.filter((f) => f.op === 'SQRT' || f.op === 'LOG').map((f) => f.reason)).toEqual(['no int8 kernel', 'no int8 kernel']);
    const kept = planQuantization(graph, ranges, { ...options, keepFloat: (_s, o) => o === 5 }).subgraphs[0].ops[5];
    expect(kept).toMatchObject({ op: 'SOFTMAX', mode: 'float', reason: 'kept in float by the recipe', activationBits: 32 });
  });
});

describe('planQuantization: per-op widths (16x8 ops inside int8)', () => {
  it('plans the ops asked for at int16x8 with int16 symmetric tensors and an int64 bias, each tensor at each width it is read or written at', () => {
    const mixed = planQuantization(graph, ranges, { ...options, precision: (_s, o) => (o === 3 ? 'int16x8' : 'int8') });
    const sp = mixed.subgraphs[0];
    expect(sp.ops.map((op) => op.precision)).toEqual(['int8', 'int8', 'int8', 'int16x8', 'int8', 'int8']);
    const fc = sp.ops[3];
    const input = main.operators[3].inputs[0];
    const output = main.operators[3].outputs[0];
    // The reshape writes the FC's input at int8; the FC reads an int16 twin on the same range.
    const inputs = sp.tensors.filter((t) => t.tensorIndex === input);
    expect(inputs.map((t) => [t.dtype, t.bits])).toEqual([['int8', 8], ['int16', 16]]);
    const union = [main.operators[1].inputs[0], main.operators[1].outputs[0], input].map((t) => ranges.get(`0:${t}`)!).reduce((a, b) => ({ min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) }));
    expect(inputs[1].zeroPoints).toEqual([0]);
    expect(inputs[1].scales[0]).toBeCloseTo(Math.max(-union.min, union.max) / 32767, 12);
    expect(fc).toMatchObject({ mode: 'quantized', activationBits: 16, weightBits: 8, weights: { dtype: 'int8' }, bias: { dtype: 'int64', bits: 64, inputScale: inputs[1].scales[0] } });
    expect(fc.bias!.scales).toEqual(fc.weights!.scales.map((s) => inputs[1].scales[0] * s));
    // Its output is written at int16 and read by the int8 FC after it through an int8 twin.
    expect(sp.tensors.filter((t) => t.tensorIndex === output).map((t) => t.dtype)).toEqual(['int16', 'int8']);
    expect(JSON.parse(JSON.stringify(mixed))).toStrictEqual(mixed);
    // Asking every op its model's width changes nothing.
    expect(planQuantization(graph, ranges, { ...options, precision: () => 'int8' })).toStrictEqual(plan);
  });

  it('keeps an op the recipe asks float float, and keepFloat wins over a precision', () => {
    const p = planQuantization(graph, ranges, { ...options, keepFloat: (_s, o) => o === 4, precision: (_s, o) => (o === 3 ? 'float' : 'int16x8') });
    expect(p.subgraphs[0].ops.map((op) => [op.precision, op.activationBits])).toEqual([
      ['int16x8', 16],
      ['int16x8', 16],
      ['int16x8', 16],
      ['float', 32],
      ['float', 32],
      ['int16x8', 16],
    ]);
    expect(floatOpsOf(p).map((f) => f.reason)).toEqual(['kept in float by the recipe', 'kept in float by the recipe']);
  });
});

describe('planQuantization: an op that only moves data with no kernel at its group width', () => {
  it('stays float with the reason when the 16x8 op before it sets its scale group to 16 bits (TILE has no int16 kernel)', () => {
    const g = newGraph('FC 16x8 -> TILE');
    const sg = g.subgraphs[0];
    const t = (name: string, type: TensorType, shape: number[], data?: Uint8Array) => addTensor(sg, newTensor({ name, type, shape, ...(data ? { buffer: addBuffer(g, data) } : {}) }));
    const x = t('x', TensorType.FLOAT32, [1, 4]);
    const w = t('w', TensorType.FLOAT32, [2, 4], new Uint8Array(Float32Array.from([1, -2, 3, -4, 0.5, 0.25, -1, 2]).buffer));
    const y = t('y', TensorType.FLOAT32, [1, 2]);
    const multiples = t('multiples', TensorType.INT32, [2], new Uint8Array(Int32Array.from([1, 2]).buffer));
    const z = t('z', TensorType.FLOAT32, [1, 4]);
    sg.inputs = [x];
    sg.outputs = [z];
    sg.operators.push(newOperator(opcodeIndex(g, BuiltinOperator.FULLY_CONNECTED, 1), [x, w, -1], [y], BuiltinOptions.FullyConnectedOptions, new FullyConnectedOptionsT()));
    sg.operators.push(plainOperator(g, BuiltinOperator.TILE, [y, multiples], [z]));
    const given: RangeMap = new Map([x, y, z].map((i) => [`0:${i}`, { min: -10, max: 10 }]));
    const both = (p: QuantizationPlan) => p.subgraphs[0].ops.map((op) => [op.precision, op.mode === 'float' ? op.reason : op.precisionNote ?? null]);
    // All int8: the TILE follows the FC at int8.
    expect(both(planQuantization(g, given, options))).toEqual([['int8', null], ['int8', null]]);
    // FC at 16x8: the TILE would share its 16-bit scale, has no int16 kernel, and stays float.
    expect(both(planQuantization(g, given, { ...options, precision: (_s, o) => (o === 0 ? 'int16x8' : 'int8') }))).toEqual([
      ['int16x8', null],
      ['float', 'no int16x8 kernel (it shares one scale with ops at 16 bits)'],
    ]);
    // The other way round (an int8 FC inside a 16x8 model): the TILE is asked the model's 16 bits and has no
    // kernel there, so it stays float before its group's width is known (it could run int8 with its FC: not done).
    expect(both(planQuantization(g, given, { ...options, activationBits: 16, precision: (_s, o) => (o === 0 ? 'int8' : 'int16x8') }))).toEqual([
      ['int8', null],
      ['float', 'no int16x8 kernel'],
    ]);
  });
});
