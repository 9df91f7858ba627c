/**
 * LiteRT.js wrapper against the real runtime and the shared models (../shared beside the repo).
 * No mocks: every number here comes out of the LiteRT wasm.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import type { ModelGraph } from '../tflite/graph';
import { readModel } from '../tflite/read';
import {
  AddOptionsT,
  BuiltinOperator,
  BuiltinOptions,
  ReshapeOptionsT,
  TensorType,
} from '../tflite/schema/generated/tflite_generated';
import { linearQuantization, newGraph, newOperator, newTensor, opcodeIndex } from '../tflite/edit';
import { writeModel } from '../tflite/write';
import { prepareForRuntime, runtimeBlockers } from './prepare';
import { loadModel } from './load';
import { randomInputs } from './random-inputs';
import { initRuntime } from './start';
import type { RuntimeData } from './types';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const modelBytes = (name: string) => new Uint8Array(readFileSync(path.join(shared, 'models', name)));

function argmax(data: ArrayLike<number>, from = 0, to = data.length): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (data[i] > data[best]) best = i;
  return best - from;
}

async function expectWorkbenchError(promise: Promise<unknown>, code: string, message: RegExp): Promise<WorkbenchError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkbenchError);
  const we = error as WorkbenchError;
  expect(we.code).toBe(code);
  expect(we.message).toMatch(message);
  expect(we.message).not.toContain('\n');
  return we;
}

beforeAll(async () => {
  await initRuntime();
});

describe('initRuntime', () => {
  it('is idempotent', async () => {
    const started = performance.now();
    await Promise.all([initRuntime(), initRuntime()]);
    expect(performance.now() - started).toBeLessThan(50);
    // The Node shim removes its browser-style globals once LiteRT is up.
    expect('importScripts' in globalThis).toBe(false);
    expect('self' in globalThis).toBe(false);
  });
});

describe('float models', () => {
  it('mobilenet_v1_0.25 float: softmax output, deterministic for a seed', async () => {
    const model = await loadModel(modelBytes('mobilenet_v1_0.25_224_float.tflite'));
    expect(model.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: [1, 224, 224, 3], quantization: null }]);
    expect(model.outputs.map((o) => [o.dtype, o.shape])).toEqual([['float32', [1, 1001]]]);
    expect(model.changes).toEqual([]);

    const inputs = randomInputs(model, 7);
    const [first] = await model.run(inputs);
    const [again] = await model.run(randomInputs(model, 7));
    const [other] = await model.run(randomInputs(model, 8));
    expect(first.shape).toEqual([1, 1001]);
    expect(first.data).toBeInstanceOf(Float32Array);
    expect(Array.from(again.data)).toEqual(Array.from(first.data));
    expect(Array.from(other.data)).not.toEqual(Array.from(first.data));
    const sum = (first.data as Float32Array).reduce((s, p) => s + p, 0);
    expect(sum).toBeCloseTo(1, 4);
    expect(Math.min(...first.data)).toBeGreaterThanOrEqual(0);

    // The same network with TFLite metadata and an appended zip of labels computes the same thing.
    const withMetadata = await loadModel(modelBytes('mobilenet_v1_0.25_224_float_metadata.tflite'));
    const [same] = await withMetadata.run(inputs);
    expect(Array.from(same.data)).toEqual(Array.from(first.data));
    withMetadata.delete();
    model.delete();
  });

  it('mnist_conv_fc_float (dynamic batch) runs after prepare and classifies MNIST', async () => {
    const images = gunzipSync(new Uint8Array(readFileSync(path.join(shared, 'data/mnist_t10k/t10k-images-idx3-ubyte.gz'))));
    const labels = gunzipSync(new Uint8Array(readFileSync(path.join(shared, 'data/mnist_t10k/t10k-labels-idx1-ubyte.gz'))));
    const model = await loadModel(modelBytes('mnist_conv_fc_float.tflite'));
    expect(model.changes.join()).toMatch(/pinned dynamic dimensions .*\[-1, 28, 28, 1\] -> \[1, 28, 28, 1\]/);
    expect(model.inputs[0].shape).toEqual([1, 28, 28, 1]);

    const count = 300;
    let correct = 0;
    for (let i = 0; i < count; i++) {
      const pixels = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
      const input = Float32Array.from(pixels, (p) => p / 255);
      const [out] = await model.run([input]);
      if (argmax(out.data) === labels[8 + i]) correct++;
    }
    // Reference on all 10,000: 96.52%.
    expect(correct / count).toBeGreaterThan(0.93);
    model.delete();
  });

  it('the same model as given fails at run, and LiteRT printed cause is in the message', async () => {
    const model = await loadModel(modelBytes('mnist_conv_fc_float.tflite'), { asIs: true });
    expect(model.changes).toEqual([]);
    await expectWorkbenchError(
      model.run(randomInputs(model, 1)),
      'runtime',
      /^LiteRT could not run the model: .*Float32\[1, 28, 28, 1\] does not match expected .*Float32\[-1, 28, 28, 1\]/,
    );
    model.delete();
  });

  it('SSD detector: the post-process outputs get their run-time shapes', async () => {
    const model = await loadModel(modelBytes('ssd_mobilenet_v1_coco_quant_uint8.tflite'));
    expect(model.changes.join()).toMatch(/TFLite_Detection_PostProcess/);
    expect(model.outputs.map((o) => o.shape)).toEqual([[1, 10, 4], [1, 10], [1, 10], [1]]);
    const [boxes, classes, scores, count] = await model.run(randomInputs(model, 3));
    expect(boxes.shape).toEqual([1, 10, 4]);
    expect(count.data[0]).toBeGreaterThanOrEqual(0);
    expect(count.data[0]).toBeLessThanOrEqual(10);
    for (let i = 1; i < count.data[0]; i++) expect(scores.data[i]).toBeLessThanOrEqual(scores.data[i - 1]);
    for (let i = 0; i < count.data[0]; i++) {
      expect(Number.isInteger(classes.data[i])).toBe(true);
      expect(classes.data[i]).toBeLessThan(90);
    }
    model.delete();
  });

  it('runs a chosen signature of a multi-signature model', async () => {
    const bytes = modelBytes('ops/two_signatures.tflite');
    const add = await loadModel(bytes);
    const multiply = await loadModel(bytes, { signature: 'multiply' });
    expect(add.signatures).toEqual(['add', 'multiply']);
    expect(add.signature).toBe('add');
    expect((await add.run([new Float32Array([3])]))[0].data[0]).toBe(13);
    expect((await multiply.run([new Float32Array([3])]))[0].data[0]).toBe(30);
    add.delete();
    multiply.delete();
    await expectWorkbenchError(loadModel(bytes, { signature: 'divide' }), 'bad-input', /no signature 'divide'.*'add', 'multiply'/);
  });
});

describe('integer I/O', () => {
  it('kws_dscnn_int8 takes int8 features and reaches its reference accuracy', async () => {
    const model = await loadModel(modelBytes('kws_dscnn_int8.tflite'));
    expect(model.inputs[0].dtype).toBe('int8');
    expect(model.inputs[0].shape).toEqual([1, 49, 10, 1]);
    expect(model.inputs[0].quantization?.zeroPoint).toBe(83);
    expect(model.inputs[0].quantization?.scale).toBeCloseTo(0.584703, 5);
    expect(model.outputs[0].dtype).toBe('int8');

    const folder = path.join(shared, 'data/kws01_mfcc_int8');
    const rows = readFileSync(path.join(folder, 'y_labels.csv'), 'utf8').trim().split('\n').slice(0, 200);
    let correct = 0;
    for (const row of rows) {
      const [file, , label] = row.split(',');
      const bytes = readFileSync(path.join(folder, file));
      const input = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      const [out] = await model.run([input]);
      expect(out.data).toBeInstanceOf(Int8Array);
      if (argmax(out.data) === Number(label)) correct++;
    }
    // Reference on all 1,000: 90.2%.
    expect(correct / rows.length).toBeGreaterThan(0.8);
    model.delete();
  });

  it('mnist_conv_fc_int8: int8 in and out with the quantization from the file', async () => {
    const images = gunzipSync(new Uint8Array(readFileSync(path.join(shared, 'data/mnist_t10k/t10k-images-idx3-ubyte.gz'))));
    const labels = gunzipSync(new Uint8Array(readFileSync(path.join(shared, 'data/mnist_t10k/t10k-labels-idx1-ubyte.gz'))));
    const model = await loadModel(modelBytes('mnist_conv_fc_int8.tflite'));
    const { scale, zeroPoint } = model.inputs[0].quantization!;
    let correct = 0;
    const count = 200;
    for (let i = 0; i < count; i++) {
      const pixels = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
      const input = Int8Array.from(pixels, (p) => Math.max(-128, Math.min(127, Math.round(p / 255 / scale) + zeroPoint)));
      const [out] = await model.run([input]);
      if (argmax(out.data) === labels[8 + i]) correct++;
    }
    expect(correct / count).toBeGreaterThan(0.9);
    model.delete();
  });

  it('int16 inputs and outputs work end to end', async () => {
    const model = await loadModel(writeModel(int16Model()));
    expect(model.inputs.map((i) => [i.dtype, i.shape])).toEqual([['int16', [1, 4]]]);
    expect(model.outputs.map((o) => [o.dtype, o.shape])).toEqual([
      ['float32', [1, 4]],
      ['int16', [4]],
      ['int16', [1, 4]],
    ]);
    const [dequantized, reshaped, doubled] = await model.run([new Int16Array([-3, 7, 1000, -32768])]);
    expect(Array.from(dequantized.data)).toEqual([-1.5, 3.5, 500, -16384]);
    expect(reshaped.data).toBeInstanceOf(Int16Array);
    expect(Array.from(reshaped.data)).toEqual([-3, 7, 1000, -32768]);
    expect(Array.from(doubled.data)).toEqual([-6, 14, 2000, -32768]);
    model.delete();
  });
});

describe('failures are one clear line', () => {
  it('variable (state) tensors: unsupported, named before LiteRT is asked', async () => {
    const bytes = modelBytes('mnist_lstm_float.tflite');
    expect(runtimeBlockers(readModel(bytes)).join()).toMatch(/'model\/sequential\/lstm\/zeros'.*variable \(state\) tensors; LiteRT.js does not support variable tensors/);
    await expectWorkbenchError(loadModel(bytes), 'unsupported', /^LiteRT.js cannot run this model: tensors '.+' are variable \(state\) tensors/);
  });

  it('LiteRT printed cause replaces its vague thrown error', async () => {
    // Asked directly, LiteRT throws "Failed to load model from buffer" and prints the reason.
    const error = await expectWorkbenchError(
      loadModel(modelBytes('mnist_lstm_float.tflite'), { asIs: true }),
      'unsupported',
      /^LiteRT could not load the model: Variable tensors not yet supported$/,
    );
    expect(error.message).not.toMatch(/Failed to load/);
  });

  it('out-of-range quantized_dimension: fixed by prepare, condensed into one line when asked as is', async () => {
    const graph = readModel(modelBytes('kws_dscnn_int8.tflite'));
    for (const t of graph.subgraphs[0].tensors) {
      if (t.quantization?.scale?.length === 1) t.quantization.quantizedDimension = t.shape.length;
    }
    const bytes = writeModel(graph);
    const error = await expectWorkbenchError(
      loadModel(bytes, { asIs: true }),
      'runtime',
      /^LiteRT could not load the model: quantized_dimension must be in range \[0, \d\)\. Was \d \(\+\d+ similar\); Tensor \d+ has invalid quantization parameters \(\+\d+ similar\)/,
    );
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).not.toMatch(/└|\.cc:|\.h:/);

    const model = await loadModel(bytes);
    expect(model.changes.join()).toMatch(/set quantized_dimension to 0 on 16 per-tensor quantized tensors/);
    expect((await model.run(randomInputs(model, 1)))[0].shape).toEqual([1, 12]);
    model.delete();
  });

  it('garbage and empty bytes fail cleanly and leave the runtime usable', async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255);
    await expectWorkbenchError(loadModel(garbage), 'runtime', /^LiteRT could not load the model: Not a TFLite model.*\(LiteRT: Failed to load model from buffer\)$/);
    await expectWorkbenchError(loadModel(garbage, { asIs: true }), 'runtime', /^LiteRT could not load the model: /);
    const truncated = modelBytes('mobilenet_v1_0.25_224_float.tflite').slice(0, 100_000);
    await expectWorkbenchError(loadModel(truncated), 'runtime', /truncated or corrupt/);
    await expectWorkbenchError(loadModel(new Uint8Array(0)), 'runtime', /empty/);

    const model = await loadModel(modelBytes('hello_world_sine_float.tflite'));
    const [y] = await model.run([new Float32Array([Math.PI / 2])]);
    expect(y.data[0]).toBeCloseTo(1, 1);
    model.delete();
  });

  it('wrong inputs and a deleted model are reported, not crashed on', async () => {
    const model = await loadModel(modelBytes('hello_world_sine_float.tflite'));
    await expectWorkbenchError(model.run([]), 'bad-input', /takes 1 input, got 0/);
    await expectWorkbenchError(model.run([new Int32Array(1)]), 'bad-input', /float32 data \(Float32Array\), got Int32Array/);
    await expectWorkbenchError(model.run([new Float32Array(2)]), 'bad-input', /\(1 values\), got 2 values/);
    model.delete();
    model.delete();
    await expectWorkbenchError(model.run([new Float32Array(1)]), 'runtime', /deleted/);
  });
});

describe('prepareForRuntime', () => {
  it('returns a pinned copy and leaves the input graph alone', () => {
    const graph = readModel(modelBytes('mnist_conv_fc_float.tflite'));
    const input = graph.subgraphs[0].tensors[graph.subgraphs[0].inputs[0]];
    const before = JSON.stringify(input.shapeSignature);
    const { graph: prepared, changes } = prepareForRuntime(graph);
    expect(changes).toHaveLength(1);
    expect(JSON.stringify(input.shapeSignature)).toBe(before);
    expect(before).toContain('-1');
    for (const tensor of prepared.subgraphs[0].tensors) expect(tensor.shapeSignature ?? []).not.toContain(-1);
    expect(prepared.buffers).toBe(graph.buffers);
  });

  it('changes nothing on a model that needs nothing', () => {
    const graph = readModel(modelBytes('mobilenet_v1_0.25_224_float.tflite'));
    const prepared = prepareForRuntime(graph);
    expect(prepared.changes).toEqual([]);
    expect(prepared.graph).toBe(graph);
    expect(runtimeBlockers(graph)).toEqual([]);
  });
});

describe('randomInputs', () => {
  it('is seeded and keeps each dtype in its range', () => {
    const model = {
      inputs: (['float32', 'int32', 'uint8', 'int8', 'int16'] as const).map((dtype) => ({ name: dtype, dtype, shape: [10, 100], quantization: null })),
    };
    const a = randomInputs(model, 42);
    expect(randomInputs(model, 42)).toEqual(a);
    expect(randomInputs(model, 43)).not.toEqual(a);
    const range = (d: RuntimeData) => [Math.min(...d), Math.max(...d)];
    const [f, i32, u8, i8, i16] = a.map(range);
    expect(f[0]).toBeGreaterThanOrEqual(-1);
    expect(f[1]).toBeLessThan(1);
    expect(i32[0]).toBeGreaterThanOrEqual(0);
    expect(i32[1]).toBeLessThanOrEqual(99);
    expect(u8).toEqual([0, 255]);
    expect(i8).toEqual([-128, 127]);
    expect(i16[0]).toBeLessThan(-30000);
    expect(i16[1]).toBeGreaterThan(30000);
    expect(a.map((d) => d.constructor.name)).toEqual(['Float32Array', 'Int32Array', 'Uint8Array', 'Int8Array', 'Int16Array']);
  });
});

it('test data is where the tests expect it', () => {
  expect(readdirSync(path.join(shared, 'models'))).toContain('kws_dscnn_int8.tflite');
});

/** x: int16 [1,4] (scale 0.5) -> DEQUANTIZE -> float [1,4]; RESHAPE -> int16 [4]; ADD(x, x) -> int16 [1,4]. */
function int16Model(): ModelGraph {
  const graph = newGraph('int16 I/O test');
  const sg = graph.subgraphs[0];
  const quant = () => linearQuantization([0.5], [0]);
  sg.tensors.push(
    newTensor({ name: 'x', type: TensorType.INT16, shape: [1, 4], quantization: quant(), hasRank: false }),
    newTensor({ name: 'dequantized', type: TensorType.FLOAT32, shape: [1, 4], hasRank: false }),
    newTensor({ name: 'reshaped', type: TensorType.INT16, shape: [4], quantization: quant(), hasRank: false }),
    newTensor({ name: 'doubled', type: TensorType.INT16, shape: [1, 4], quantization: quant(), hasRank: false }),
  );
  sg.inputs = [0];
  sg.outputs = [1, 2, 3];
  sg.operators.push(
    newOperator(opcodeIndex(graph, BuiltinOperator.DEQUANTIZE, 1), [0], [1]),
    newOperator(opcodeIndex(graph, BuiltinOperator.RESHAPE, 1), [0], [2], BuiltinOptions.ReshapeOptions, new ReshapeOptionsT([4])),
    newOperator(opcodeIndex(graph, BuiltinOperator.ADD, 3), [0, 0], [3], BuiltinOptions.AddOptions, new AddOptionsT()),
  );
  return graph;
}
