/**
 * What 16x8 per op inside an int8 model needs from the runtime, checked in LiteRT.js itself: QUANTIZE
 * requantizing int8 -> int16 and int16 -> int8 at a region's boundaries, and a 16x8 kernel between
 * them. TFLite's quantize.cc of some versions accepts int8 input with int8 / uint8 output only; the
 * LiteRT.js 2.5.3 build runs int8 -> int16 (below), so the boundary needs no float round trip.
 * The model: x -> QUANTIZE int8 -> QUANTIZE int16 -> FULLY_CONNECTED 16x8 -> QUANTIZE int8 -> DEQUANTIZE.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../runtime/load';
import { initRuntime } from '../../runtime/start';
import { seededRandom } from '../../seeded-random';
import { addBuffer, addTensor, linearQuantization, newGraph, newOperator, newTensor, opcodeIndex, plainOperator } from '../../tflite/edit';
import { BuiltinOperator, BuiltinOptions, FullyConnectedOptionsT, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { writeModel } from '../../tflite/write';

const IN = 16;
const OUT = 8;
const S_IN8 = 4 / 127; // inputs in [-4, 4)
const S_IN16 = 4 / 32767;
const S_OUT16 = 8 / 32767;
const S_OUT8 = 8 / 127;

function mixedModel(w: Int8Array, sW: number, bias: BigInt64Array) {
  const graph = newGraph('int8 model with a 16x8 FULLY_CONNECTED island');
  const sg = graph.subgraphs[0];
  const t = (name: string, type: TensorType, shape: number[], q?: [number, number], data?: Uint8Array) =>
    addTensor(sg, newTensor({ name, type, shape, ...(q ? { quantization: linearQuantization([q[0]], [q[1]]) } : {}), ...(data ? { buffer: addBuffer(graph, data) } : {}) }));
  const x = t('x', TensorType.FLOAT32, [1, IN]);
  const x8 = t('x_int8', TensorType.INT8, [1, IN], [S_IN8, 0]);
  const x16 = t('x_int16', TensorType.INT16, [1, IN], [S_IN16, 0]);
  const weights = t('w', TensorType.INT8, [OUT, IN], [sW, 0], new Uint8Array(w.buffer.slice(0)));
  const b = t('b', TensorType.INT64, [OUT], [S_IN16 * sW, 0], new Uint8Array(bias.buffer.slice(0)));
  const y16 = t('y_int16', TensorType.INT16, [1, OUT], [S_OUT16, 0]);
  const y8 = t('y_int8', TensorType.INT8, [1, OUT], [S_OUT8, 0]);
  const y = t('y', TensorType.FLOAT32, [1, OUT]);
  sg.inputs = [x];
  sg.outputs = [y];
  sg.operators.push(plainOperator(graph, BuiltinOperator.QUANTIZE, [x], [x8]));
  sg.operators.push(plainOperator(graph, BuiltinOperator.QUANTIZE, [x8], [x16]));
  // Version 7: the int16 x int8 FULLY_CONNECTED the converter writes (rules.ts).
  sg.operators.push(newOperator(opcodeIndex(graph, BuiltinOperator.FULLY_CONNECTED, 7), [x16, weights, b], [y16], BuiltinOptions.FullyConnectedOptions, new FullyConnectedOptionsT()));
  sg.operators.push(plainOperator(graph, BuiltinOperator.QUANTIZE, [y16], [y8]));
  sg.operators.push(plainOperator(graph, BuiltinOperator.DEQUANTIZE, [y8], [y]));
  return writeModel(graph);
}

describe('16x8 inside an int8 model', () => {
  beforeAll(() => initRuntime());

  it('LiteRT runs int8 -> int16 -> 16x8 FULLY_CONNECTED -> int8 and matches float64 math within the int8 output step', async () => {
    const random = seededRandom(7);
    const wFloat = Float64Array.from({ length: OUT * IN }, () => (random() - 0.5) * 0.5);
    const sW = Math.max(...wFloat.map(Math.abs)) / 127;
    const w = Int8Array.from(wFloat, (v) => Math.round(v / sW));
    const biasFloat = Float64Array.from({ length: OUT }, () => random() - 0.5);
    const bias = BigInt64Array.from(biasFloat, (v) => BigInt(Math.round(v / (S_IN16 * sW))));
    const model = await loadModel(mixedModel(w, sW, bias));
    try {
      let worst = 0;
      let spread = 0;
      for (let trial = 0; trial < 20; trial++) {
        const x = Float32Array.from({ length: IN }, () => (random() - 0.5) * 7.9);
        const [out] = await model.run([x]);
        const got = out.data as Float32Array;
        // float64: the int8 input as the model sees it, the stored weights and bias, no rounding after.
        const xq = Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / S_IN8))) * S_IN8);
        for (let o = 0; o < OUT; o++) {
          let acc = Number(bias[o]) * S_IN16 * sW;
          for (let i = 0; i < IN; i++) acc += w[o * IN + i] * sW * xq[i];
          worst = Math.max(worst, Math.abs(got[o] - acc));
          spread = Math.max(spread, Math.abs(acc));
        }
      }
      expect(spread).toBeGreaterThan(1); // outputs span many int8 steps: not a model returning zeros
      // Half an int8 output step, plus the int16 steps the island rounds at (input, output): tiny.
      expect(worst).toBeLessThanOrEqual(S_OUT8 / 2 + 2 * S_OUT16 + 1e-6);
    } finally {
      model.delete();
    }
  }, 120_000);
});
