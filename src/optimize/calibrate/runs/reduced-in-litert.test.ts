/**
 * Reductions inside LiteRT (runs/reduced-in-litert.ts): the same min/max statistics as the JS path
 * without histograms, channel means within float32 rounding, non-finite samples measured from
 * their values, and the cases that fall back to the JS path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../runtime/load';
import { randomInputs } from '../../../runtime/random-inputs';
import { initRuntime } from '../../../runtime/start';
import type { Sample } from '../../../runtime/samples';
import { dataDir, readSharedModel } from '../../../test-support/shared';
import { newGraph, newOperator, newTensor, opcodeIndex } from '../../../tflite/edit';
import type { ModelGraph } from '../../../tflite/graph';
import { readModel } from '../../../tflite/read';
import { BuiltinOperator, BuiltinOptions, FullyConnectedOptionsT, TensorType } from '../../../tflite/schema/generated/tflite_generated';
import { writeModel } from '../../../tflite/write';
import { calibrate, REDUCE_MIN_VALUES, type CalibrationStats } from '../calibrate';
import { accumulate, accumulateSummary, newTensorStats } from '../statistics/histogram';
import { withReductions } from './reduced-in-litert';
import type { StatsWorkerPort, WorkerReply, WorkerRequest } from '../worker/port';
import { setStatsWorkerFactory } from '../worker/stats-thread';

beforeAll(() => initRuntime());

function mnistDigits(count: number): Sample[] {
  const bytes = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
  return Array.from({ length: count }, (_, i) => [Float32Array.from(bytes.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)]);
}

async function randomSamples(graph: ModelGraph, count: number): Promise<Sample[]> {
  const model = await loadModel(writeModel(graph));
  try {
    return Array.from({ length: count }, (_, i) => randomInputs(model, i + 1) as Sample);
  } finally {
    model.delete();
  }
}

/** min/max, moving averages and counts bit for bit; channel means within `meanTolerance` of their scale. */
function expectSameRanges(reduced: CalibrationStats, js: CalibrationStats, meanTolerance: number): void {
  expect(reduced.reductions).toBe('litert');
  expect(js.reductions).toBe('js');
  expectSameMinMax(js, reduced);
  expect([...reduced.channelMeans.keys()]).toEqual([...js.channelMeans.keys()]);
  // Measured against the tensor's range, which sets the int8 step (range / 255) bias correction works at.
  let worst = 0;
  for (const [key, m] of js.channelMeans) {
    const r = reduced.channelMeans.get(key)!;
    const stats = js.tensors.get(key)!;
    const range = Math.max(1e-6, stats.max - stats.min);
    for (let c = 0; c < m.length; c++) worst = Math.max(worst, Math.abs(r[c] - m[c]) / range);
  }
  console.log(`channel means: worst difference ${worst.toExponential(2)} of the range`);
  expect(worst).toBeLessThan(meanTolerance);
}

describe('calibration with reductions inside LiteRT', () => {
  it('accumulateSummary adds a sample as accumulate without histograms does', () => {
    const viaValues = newTensorStats(0, 1, 'x');
    const viaSummary = newTensorStats(0, 1, 'x');
    for (let s = 0; s < 20; s++) {
      const data = Float32Array.from({ length: 5000 + s * 7 }, (_, i) => Math.sin(i * 0.37 + s) * (s + 1) - s * 0.1);
      accumulate(viaValues, data, 0.9, 1, false);
      let min = Infinity;
      let max = -Infinity;
      for (const v of data) [min, max] = [Math.min(min, v), Math.max(max, v)];
      accumulateSummary(viaSummary, min, max, data.length, 0.9);
    }
    accumulate(viaValues, new Float32Array(0), 0.9, 1, false);
    accumulateSummary(viaSummary, Infinity, -Infinity, 0, 0.9);
    expect(viaSummary).toEqual(viaValues);
  });

  it('mnist_conv_fc_float, 100 digits: the same ranges as every value scanned in JS', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const digits = mnistDigits(100);
    const reduced = await calibrate(graph, digits, { histograms: false, reductions: 'litert' });
    expect(reduced.statsReason).toMatch(/reduced inside LiteRT/);
    const js = await calibrate(graph, digits, { histograms: false, reductions: 'js' });
    expectSameRanges(reduced, js, 1e-6);
    expect(reduced.channelMeans.size).toBeGreaterThan(0);
    // With histograms, every value is needed: the JS path, and asking for LiteRT reductions is an error.
    expect((await calibrate(graph, digits.slice(0, 2), {})).reductions).toBe('js');
    await expect(calibrate(graph, digits, { reductions: 'litert' })).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/histograms: false/) });
    // A JS statistics place asked for keeps the JS path.
    expect((await calibrate(graph, digits.slice(0, 2), { histograms: false, statsThread: 'main' })).reductions).toBe('js');
  });

  it(`'auto' reduces inside LiteRT from ${REDUCE_MIN_VALUES} activation values per sample`, async () => {
    const mnist = readModel(readSharedModel('mnist_conv_fc_float.tflite')); // 10k values
    const small = await calibrate(mnist, mnistDigits(3), { histograms: false });
    expect(small.reductions).toBe('js');
    expect(small.statsReason).toMatch(/not reduced inside LiteRT: \d+ activation values per sample cost less to copy out than to reduce/);
    const audio = readModel(readSharedModel('audio_event_527_float.tflite')); // 272k values
    expect((await calibrate(audio, await randomSamples(audio, 2), { histograms: false })).reductions).toBe('litert');
  });

  it.each(['audio_event_527_float.tflite', 'vww_96_float.tflite', 'selfie_segmentation_fp16.tflite', 'deeplabv3_257_float.tflite', 'movie_review_text_classifier_float.tflite', 'knift_float_batch200.tflite', 'pose_landmark_lite_fp16.tflite', 'ad01_toycar_autoencoder_float.tflite'])('%s, random samples: the same ranges as the JS path', { timeout: 120_000 }, async (name) => {
    const graph = readModel(readSharedModel(name));
    const samples = await randomSamples(graph, 6);
    const reduced = await calibrate(graph, samples, { histograms: false, reductions: 'litert' });
    const js = await calibrate(graph, samples, { histograms: false, reductions: 'js' });
    expectSameRanges(reduced, js, 1e-6);
  });

  it('the summary layout: minima, maxima, then channel sums per tensor; the original graph is untouched', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const sg = graph.subgraphs[0];
    const before = { operators: sg.operators.length, tensors: sg.tensors.length, buffers: graph.buffers.length };
    const conv = sg.operators[0].outputs[0];
    const shape = sg.tensors[conv].shape;
    const channels = shape.at(-1)!;
    const reduced = withReductions(graph, [conv], [conv]);
    expect(reduced.length).toBe(2 + channels);
    expect(reduced.taps).toEqual([{ tensorIndex: conv, count: shape.reduce((n, d) => n * d, 1) }]);
    expect(reduced.sums).toEqual([{ tensor: conv, offset: 2, channels, positions: shape.slice(0, -1).reduce((n, d) => n * d, 1) }]);
    expect(reduced.graph.subgraphs[0].tensors[reduced.summary].shape).toEqual([2 + channels]);
    // REDUCE_MIN, REDUCE_MAX, PACK, two SUMs (partial rows, then their sum), CONCATENATION.
    expect(reduced.graph.subgraphs[0].operators.length).toBe(before.operators + 6);
    expect({ operators: sg.operators.length, tensors: sg.tensors.length, buffers: graph.buffers.length }).toEqual(before);
  });

  it('a sample with infinite or NaN activations is measured from its values, as the JS path does', async () => {
    const graph = logThenDense();
    // log(0) = -Infinity, log(-1) = NaN: both left out of the ranges; the other samples are finite.
    const samples: Sample[] = [[Float32Array.of(1, 2, 3, 4)], [Float32Array.of(1, 2, 0, -1)], [Float32Array.of(0.5, 8, 2, 3)]];
    const reduced = await calibrate(graph, samples, { histograms: false, reductions: 'litert' });
    const js = await calibrate(graph, samples, { histograms: false, reductions: 'js' });
    const log = reduced.tensors.get('0:1')!;
    expect(log.nonFinite).toBe(2);
    expect([log.min, log.max]).toEqual([Math.fround(Math.log(0.5)), Math.fround(Math.log(8))]);
    expect(js.tensors.get('0:1')!.nonFinite).toBe(2);
    for (const [key, x] of js.tensors) {
      const y = reduced.tensors.get(key)!;
      for (const field of ['min', 'max', 'movingMin', 'movingMax', 'count', 'nonFinite'] as const) expect(y[field], `${key} ${field}`).toBe(x[field]);
    }
  });

  it('several LiteRT instances (calibration workers): bit-identical statistics, the workers run samples', { timeout: 120_000 }, async () => {
    const graph = readModel(readSharedModel('audio_event_527_float.tflite'));
    const samples = await randomSamples(graph, 40);
    const one = await calibrate(graph, samples, { histograms: false, litertInstances: 1 });
    expect(one.statsReason).not.toMatch(/instances/);
    const three = await calibrate(graph, samples, { histograms: false, litertInstances: 3, waitForInstances: true });
    expect(three.statsReason).toMatch(/3 LiteRT instances \(this thread and 2 calibration workers; \d+ samples ran in a worker\)/);
    expect(Number(/(\d+) samples ran in a worker/.exec(three.statsReason)![1])).toBeGreaterThan(0);
    expectIdentical(one, three);
    // The workers went back to the pool: a second calibration reuses them, with the same result.
    expectIdentical(one, await calibrate(graph, samples, { histograms: false, litertInstances: 2 }));
  });

  it('the JS path keeps one LiteRT instance (its models have few activation values: short or memory-bound runs)', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const stats = await calibrate(graph, mnistDigits(60), { histograms: false, litertInstances: 2, waitForInstances: true });
    expect(stats.reductions).toBe('js');
    expect(stats.statsReason).not.toMatch(/instances/);
  });

  it('cancels with runs in flight on a calibration worker; the next calibration still gets the same statistics', { timeout: 120_000 }, async () => {
    const graph = readModel(readSharedModel('audio_event_527_float.tflite'));
    const samples = await randomSamples(graph, 40);
    const controller = new AbortController();
    const error = await calibrate(graph, samples, {
      histograms: false,
      litertInstances: 2,
      waitForInstances: true,
      signal: controller.signal,
      onProgress: (done) => done === 10 && controller.abort(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cancelled', message: 'Calibration was cancelled after 10 of 40 samples.' });
    const one = await calibrate(graph, samples, { histograms: false, litertInstances: 1 });
    const two = await calibrate(graph, samples, { histograms: false, litertInstances: 2, waitForInstances: true });
    expect(Number(/(\d+) samples ran in a worker/.exec(two.statsReason)![1])).toBeGreaterThan(0);
    expectIdentical(one, two);
  });

  it('starts calibration workers only when the runs left pay for them', async () => {
    const graph = readModel(readSharedModel('audio_event_527_float.tflite'));
    const samples = await randomSamples(graph, 4);
    const stats = await calibrate(graph, samples, { histograms: false });
    expect(stats.reductions).toBe('litert');
    expect(stats.statsReason).toMatch(/; 1 LiteRT instance: 1 run\(s\) left, about \d+ ms, would not pay for starting calibration workers$/);
  });

  it('a worker that fails mid-calibration hands its samples back to this thread: the same statistics', async () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const digits = mnistDigits(30);
    const one = await calibrate(graph, digits, { histograms: false, reductions: 'litert', litertInstances: 1 });
    setStatsWorkerFactory(crashingWorker);
    try {
      const two = await calibrate(graph, digits, { histograms: false, reductions: 'litert', litertInstances: 2, waitForInstances: true });
      expect(two.statsReason).toMatch(/0 samples ran in a worker; 1 failed, its samples ran here: the worker crashed\)/);
      expectIdentical(one, two);
    } finally {
      setStatsWorkerFactory(undefined);
    }
  });

  it('a tensor without a static shape keeps the JS path (and asking for LiteRT reductions says why)', async () => {
    const graph = logThenDense();
    graph.subgraphs[0].tensors[1].shapeSignature = [1, -1];
    const samples: Sample[] = [[Float32Array.of(1, 2, 3, 4)]];
    const stats = await calibrate(graph, samples, { histograms: false });
    expect(stats.reductions).toBe('js');
    expect(stats.statsReason).toMatch(/not reduced inside LiteRT: tensor 'log' has no static shape/);
    await expect(calibrate(graph, samples, { histograms: false, reductions: 'litert' })).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/no static shape/) });
  });
});

/** The same tensors, with min/max, moving averages and counts bit for bit. */
function expectSameMinMax(a: CalibrationStats, b: CalibrationStats): void {
  expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
  for (const [key, x] of a.tensors) {
    const y = b.tensors.get(key)!;
    for (const field of ['samples', 'count', 'nonFinite', 'min', 'max', 'movingMin', 'movingMax'] as const) {
      expect(Object.is(y[field], x[field]), `${key} ${field}: ${y[field]} vs ${x[field]}`).toBe(true);
    }
  }
}

/** Every min/max statistic and channel mean, bit for bit. */
function expectIdentical(a: CalibrationStats, b: CalibrationStats): void {
  expectSameMinMax(a, b);
  expect([...b.channelMeans.keys()]).toEqual([...a.channelMeans.keys()]);
  for (const [key, m] of a.channelMeans) expect(Buffer.from(b.channelMeans.get(key)!.buffer).equals(Buffer.from(m.buffer)), `${key} means`).toBe(true);
}

/** A calibration worker that loads models but crashes on the first run. */
function crashingWorker(): StatsWorkerPort {
  let onMessage: (m: WorkerReply) => void = () => {};
  let onError: (e: Error) => void = () => {};
  return {
    post(message: WorkerRequest) {
      if (message.type === 'load-model') setTimeout(() => onMessage({ type: 'model-loaded', id: message.id }), 0);
      if (message.type === 'run') setTimeout(() => onError(new Error('the worker crashed')), 0);
    },
    listen(m, e) {
      onMessage = m;
      onError = e;
    },
    hold() {},
    terminate() {},
  };
}

/** input [1,4] -> LOG -> 'log' [1,4] -> FULLY_CONNECTED (2 units) -> output [1,2]. */
function logThenDense(): ModelGraph {
  const graph = newGraph('log then dense');
  const sg = graph.subgraphs[0];
  graph.buffers.push({ data: new Uint8Array(Float32Array.of(1, -1, 0.5, 2, 0.25, 1, -2, 1).buffer) });
  sg.tensors.push(
    newTensor({ name: 'input', type: TensorType.FLOAT32, shape: [1, 4] }),
    newTensor({ name: 'log', type: TensorType.FLOAT32, shape: [1, 4] }),
    newTensor({ name: 'weights', type: TensorType.FLOAT32, shape: [2, 4], buffer: 1 }),
    newTensor({ name: 'output', type: TensorType.FLOAT32, shape: [1, 2] }),
  );
  sg.inputs = [0];
  sg.outputs = [3];
  sg.operators.push(newOperator(opcodeIndex(graph, BuiltinOperator.LOG, 1), [0], [1]));
  sg.operators.push(
    newOperator(opcodeIndex(graph, BuiltinOperator.FULLY_CONNECTED, 1), [1, 2, -1], [3], BuiltinOptions.FullyConnectedOptions, new FullyConnectedOptionsT()),
  );
  return graph;
}
