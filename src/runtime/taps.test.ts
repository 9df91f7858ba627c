/**
 * Taps against the real LiteRT runtime: tapping must not change what the model computes, the taps
 * must hold the tensors' values, and packed taps must equal separate ones bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { BuiltinOperator, TensorType } from '../tflite/schema/generated/tflite_generated';
import { writeModel } from '../tflite/write';
import { loadModel } from './load';
import { randomInputs } from './random-inputs';
import { initRuntime } from './start';
import type { RuntimeData } from './types';
import { activationSelector, inputTensorIndices, loadTapped, tapOutputIndices, withTaps } from './taps';

beforeAll(async () => {
  await initRuntime();
});

function bitsEqual(a: RuntimeData, b: RuntimeData): boolean {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('withTaps', () => {
  it('taps every activation of mnist_conv_fc_float and adds them to the signature outputs', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const { graph: tapped, taps, originalOutputs } = withTaps(graph);
    // Non-constant float tensors: conv, pool, reshape, fc, fc, softmax (the input is not tapped).
    expect(taps.map((t) => t.tensorIndex)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(originalOutputs).toBe(1);
    // The softmax output already is output 0; the others are appended in tensor order.
    expect(taps.map((t) => t.outputPosition)).toEqual([1, 2, 3, 4, 5, 0]);
    expect(taps.find((t) => t.tensorIndex === 12)!.outputName).toBe('dense_1');
    expect(tapped.subgraphs[0].outputs).toEqual([12, 7, 8, 9, 10, 11]);
    const def = tapped.signatureDefs[0];
    expect(def.outputs.map((m) => m.tensorIndex)).toEqual([12, 7, 8, 9, 10, 11]);
    expect(new Set(def.outputs.map((m) => m.name)).size).toBe(6);
    // The original graph is untouched.
    expect(graph.subgraphs[0].outputs).toEqual([12]);
    expect(graph.signatureDefs[0].outputs).toHaveLength(1);
  });

  it('skips weights behind DEQUANTIZE (weight-only int8 model)', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_weight_only_int8.tflite'));
    const sg = graph.subgraphs[0];
    const { taps } = withTaps(graph);
    const dequantized = sg.operators.filter((op) => graph.operatorCodes[op.opcodeIndex].builtinCode === BuiltinOperator.DEQUANTIZE).flatMap((op) => op.outputs);
    expect(dequantized.length).toBeGreaterThan(0);
    for (const t of dequantized) expect(taps.some((tap) => tap.tensorIndex === t)).toBe(false);
    expect(taps).toHaveLength(6);
  });

  it('taps quantized activations of an int8 model', () => {
    const graph = readModel(readSharedModel('vww_96_int8.tflite'));
    const { taps } = withTaps(graph);
    expect(taps).toHaveLength(31);
    for (const tap of taps) expect(graph.subgraphs[0].tensors[tap.tensorIndex].type).toBe(TensorType.INT8);
  });

  it('gives colliding signature names a unique suffix', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    // Rename the conv output to the name the signature already uses for the model output.
    graph.subgraphs[0].tensors[7].name = 'dense_1';
    const { taps, graph: tapped } = withTaps(graph);
    const conv = taps.find((t) => t.tensorIndex === 7)!;
    expect(conv.outputName).toBe('dense_1 (tensor 7)');
    expect(tapped.signatureDefs[0].outputs.map((m) => m.name)).toContain('dense_1 (tensor 7)');
  });
});

const MODELS = [
  ['mnist_conv_fc_float.tflite', 5],
  ['mnist_conv_fc_int8.tflite', 5],
  ['vww_96_float.tflite', 3],
  ['vww_96_int8.tflite', 3],
  ['mobilenet_v1_0.25_224_float.tflite', 2],
  ['mobilenet_v1_0.25_224_quant_uint8.tflite', 2],
] as const;

describe('tapped models in LiteRT', () => {
  for (const [name, runs] of MODELS) {
    it(`${name}: original outputs bit-identical, packed taps equal separate taps`, async () => {
      const bytes = readSharedModel(name);
      const graph = readModel(bytes);
      const plain = await loadModel(bytes);
      const separate = withTaps(graph);
      const packed = withTaps(graph, 0, undefined, { pack: true });
      expect(packed.taps.every((t) => t.packed || graph.subgraphs[0].outputs.includes(t.tensorIndex))).toBe(true);
      const separateModel = await loadModel(writeModel(separate.graph));
      const packedModel = await loadModel(writeModel(packed.graph));
      try {
        expect(separateModel.outputs).toHaveLength(separate.graph.subgraphs[0].outputs.length);
        expect(packedModel.outputs).toHaveLength(graph.subgraphs[0].outputs.length + 1);
        const separateIndex = tapOutputIndices(separateModel, separate);
        const packedIndex = tapOutputIndices(packedModel, packed);
        for (let seed = 0; seed < runs; seed++) {
          const inputs = randomInputs(plain, seed);
          const reference = await plain.run(inputs);
          const a = await separateModel.run(inputs);
          const b = await packedModel.run(inputs);
          // The model's own outputs come first, unchanged.
          reference.forEach((out, i) => {
            expect(a[i].name).toBe(out.name);
            expect(bitsEqual(a[i].data, out.data)).toBe(true);
            expect(bitsEqual(b[i].data, out.data)).toBe(true);
          });
          separate.taps.forEach((tap, k) => {
            const values = a[separateIndex[k]];
            expect(values.data.length).toBe(tap.length);
            const p = packed.taps[k];
            expect(p.tensorIndex).toBe(tap.tensorIndex);
            const slice = b[packedIndex[k]].data.subarray(p.offset, p.offset + p.length) as RuntimeData;
            expect(bitsEqual(slice, values.data)).toBe(true);
          });
        }
      } finally {
        plain.delete();
        separateModel.delete();
        packedModel.delete();
      }
    });
  }

  it('tapsOnly: the taps are the only output (the model outputs packed with them), the same values', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const usual = await loadTapped(graph, {});
    const only = await loadTapped(graph, { tapsOnly: true });
    try {
      const output = graph.subgraphs[0].outputs[0];
      expect(only.taps.map((t) => t.tensorIndex)).toEqual(usual.taps.map((t) => t.tensorIndex));
      expect(only.taps.every((t) => t.packed)).toBe(true);
      expect(only.taps.find((t) => t.tensorIndex === output)).toBeDefined();
      expect(only.outputs).toEqual([]);
      const inputs = randomInputs({ inputs: usual.inputs }, 3);
      const a = await usual.run(inputs);
      const b = await only.run(inputs);
      expect(b.outputs).toEqual([]);
      a.values.forEach((v, k) => expect(bitsEqual(b.values[k], v)).toBe(true));
      // The usual model's own output equals its tap in the taps-only model.
      const k = only.taps.findIndex((t) => t.tensorIndex === output);
      expect(bitsEqual(b.values[k], a.outputs[0].data)).toBe(true);
    } finally {
      usual.delete();
      only.delete();
    }
  });

  it('the taps hold the values: RELU outputs are >= 0, the tapped softmax input gives the softmax output', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const runner = await loadTapped(graph);
    try {
      expect(runner.packed).toBe(true);
      expect(runner.outputs.map((o) => o.name)).toEqual(['dense_1']);
      const inputs = randomInputs(runner, 3).map((d) => (d as Float32Array).map((v) => (v + 1) / 2));
      const { outputs, values } = await runner.run(inputs);
      const byTensor = new Map(runner.taps.map((tap, k) => [tap.tensorIndex, values[k] as Float32Array]));
      const conv = byTensor.get(7)!; // CONV_2D with fused RELU
      expect(Math.min(...conv)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...conv)).toBeGreaterThan(0);
      // AVERAGE_POOL 2x2 of the conv output, checked at one position (channel 0, row 0, col 0).
      const pool = byTensor.get(8)!;
      const at = (y: number, x: number, c: number) => conv[(y * 28 + x) * 8 + c];
      expect(pool[0]).toBeCloseTo((at(0, 0, 0) + at(0, 1, 0) + at(1, 0, 0) + at(1, 1, 0)) / 4, 5);
      // softmax(logits) equals the model output.
      const logits = byTensor.get(11)!;
      const max = Math.max(...logits);
      const exp = Array.from(logits, (v) => Math.exp(v - max));
      const sum = exp.reduce((s, v) => s + v, 0);
      const probabilities = outputs[0].data as Float32Array;
      exp.forEach((e, i) => expect(probabilities[i]).toBeCloseTo(e / sum, 5));
      expect(bitsEqual(byTensor.get(12)!, probabilities)).toBe(true);
    } finally {
      runner.delete();
    }
  });

  it('inputTensorIndices maps LiteRT inputs to subgraph tensors', async () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite'));
    const model = await loadModel(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite'));
    try {
      expect(inputTensorIndices(graph, model)).toEqual([88]);
    } finally {
      model.delete();
    }
  });

  it('activationSelector composes with other conditions', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const base = activationSelector(graph);
    const { taps } = withTaps(graph, 0, (t, tensor, sg, g) => base(t, tensor, sg, g) && tensor.shape.length === 2);
    expect(taps.map((t) => t.tensorIndex)).toEqual([9, 10, 11, 12]);
  });
});
