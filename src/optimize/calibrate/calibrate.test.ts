/**
 * Calibration in the real LiteRT runtime on real data: 300 MNIST test digits through
 * mnist_conv_fc_float (preprocessing per SOURCES.md: grayscale 28x28, pixel / 255).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../errors';
import { loadModel } from '../../runtime/load';
import { randomInputs } from '../../runtime/random-inputs';
import { initRuntime } from '../../runtime/start';
import { loadTapped } from '../../runtime/taps';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import { compareModels } from '../../evaluate/compare';
import { writeModel } from '../../tflite/write';
import { calibrate, rangesFrom, type CalibrationStats } from './calibrate';
import { occupiedBins } from './statistics/histogram';
import { quantizeInteger, rangeKey } from '../quantize/integer';
import { activationParams } from '../quantize/params';

/** The first `count` MNIST test images as [1, 28, 28, 1] floats in [0, 1]. */
function mnistDigits(count: number): Float32Array[][] {
  const bytes = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0)).toBe(0x803);
  expect([view.getUint32(8), view.getUint32(12)]).toEqual([28, 28]);
  return Array.from({ length: count }, (_, i) => [Float32Array.from(bytes.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)]);
}

const DIGITS = 300;
const modelBytes = readSharedModel('mnist_conv_fc_float.tflite');
const graph = readModel(modelBytes);
let digits: Float32Array[][];
let stats: CalibrationStats;
const progress: [number, number | undefined][] = [];

beforeAll(async () => {
  await initRuntime();
  digits = mnistDigits(DIGITS);
  stats = await calibrate(graph, digits, { onProgress: (done, total) => progress.push([done, total]) });
});

function int8Error(values: Float32Array, lo: number, hi: number): number {
  const { scale, zeroPoint } = activationParams(lo, hi, 8);
  let sum = 0;
  for (const v of values) {
    const q = Math.min(127, Math.max(-128, Math.round(v / scale[0]) + zeroPoint[0]));
    const d = v - scale[0] * (q - zeroPoint[0]);
    sum += d * d;
  }
  return sum / values.length;
}

describe('calibrate on mnist_conv_fc_float with 300 MNIST digits', () => {
  it('records every float activation, the model input and output included, keyed by rangeKey', () => {
    const floatActivations = graph.subgraphs[0].tensors.flatMap((t, i) => (t.type === TensorType.FLOAT32 && !graph.buffers[t.buffer].data.length ? [rangeKey(0, i)] : []));
    expect([...stats.tensors.keys()]).toEqual(floatActivations);
    expect(floatActivations).toEqual(['0:0', '0:7', '0:8', '0:9', '0:10', '0:11', '0:12']);
    expect(stats.samples).toBe(DIGITS);
    for (const [key, s] of stats.tensors) {
      const t = graph.subgraphs[0].tensors[s.tensorIndex];
      expect(s.key).toBe(key);
      expect(s.name).toBe(t.name);
      expect(s.samples).toBe(DIGITS);
      expect(s.count).toBe(DIGITS * t.shape.reduce((n, d) => n * d, 1));
      expect(s.nonFinite).toBe(0);
      expect(occupiedBins(s).total).toBe(s.count);
      expect(s.min).toBeLessThanOrEqual(s.movingMin);
      expect(s.movingMax).toBeLessThanOrEqual(s.max);
    }
  });

  it('reports progress after every sample', () => {
    expect(progress).toHaveLength(DIGITS);
    expect(progress[0]).toEqual([1, DIGITS]);
    expect(progress[DIGITS - 1]).toEqual([DIGITS, DIGITS]);
  });

  it('input range is [0, 1], softmax output within [0, 1], ReLU outputs >= 0', () => {
    const input = stats.tensors.get('0:0')!;
    expect([input.min, input.max]).toEqual([0, 1]);
    expect(input.zeros / input.count).toBeGreaterThan(0.7); // MNIST is mostly background
    const softmax = stats.tensors.get('0:12')!;
    expect(softmax.min).toBeGreaterThanOrEqual(0);
    expect(softmax.max).toBeLessThanOrEqual(1);
    expect(softmax.max).toBeGreaterThan(0.99); // a confident digit somewhere in 300
    for (const key of ['0:7', '0:8', '0:10']) expect(stats.tensors.get(key)!.min).toBe(0);
    expect(stats.tensors.get('0:11')!.min).toBeLessThan(0); // logits
    // RESHAPE keeps the values: the flatten output has the pool output's statistics.
    const pool = stats.tensors.get('0:8')!;
    const flat = stats.tensors.get('0:9')!;
    expect([flat.min, flat.max, flat.count, flat.zeros]).toEqual([pool.min, pool.max, pool.count, pool.zeros]);
    expect(Array.from(flat.histogram.counts)).toEqual(Array.from(pool.histogram.counts));
  });

  it('percentile and mse ranges lie within min/max; mse is sensible and beats min/max on the real values', async () => {
    const minmax = rangesFrom(stats, 'minmax');
    const moving = rangesFrom(stats, 'moving-average');
    const percentile = rangesFrom(stats, 'percentile');
    const percentile99 = rangesFrom(stats, 'percentile', { percentile: 99 });
    const mse = rangesFrom(stats, 'mse');
    const mse16 = rangesFrom(stats, 'mse', { bits: 16 });
    for (const [key, full] of minmax) {
      for (const ranges of [moving, percentile, percentile99, mse, mse16]) {
        const r = ranges.get(key)!;
        expect(r.min).toBeGreaterThanOrEqual(full.min);
        expect(r.max).toBeLessThanOrEqual(full.max);
        expect(r.min).toBeLessThanOrEqual(r.max);
      }
      expect(percentile99.get(key)!.max).toBeLessThanOrEqual(percentile.get(key)!.max);
      // A non-negative tensor keeps 0 as its low end; mse never throws away most of the range.
      if (full.min >= 0) expect(mse.get(key)!.min).toBe(full.min);
      expect(mse.get(key)!.max).toBeGreaterThan(full.max * 0.5);
    }
    expect(percentile99.get('0:7')!.max).toBeLessThan(minmax.get('0:7')!.max);
    // The input stays [0, 1] under every algorithm but the moving average (a digit without a 255 pixel moves it).
    for (const ranges of [minmax, percentile, mse]) expect(ranges.get('0:0')).toEqual({ min: 0, max: 1 });

    // Quantize the real conv and dense activations of the first 100 digits with each range.
    const runner = await loadTapped(graph);
    const sub = await calibrate(graph, digits.slice(0, 100));
    const subMinmax = rangesFrom(sub, 'minmax');
    const subMse = rangesFrom(sub, 'mse');
    const values = new Map<number, number[]>();
    try {
      for (const digit of digits.slice(0, 100)) {
        const run = await runner.run(digit);
        runner.taps.forEach((tap, k) => {
          const list = values.get(tap.tensorIndex) ?? [];
          list.push(...(run.values[k] as Float32Array));
          values.set(tap.tensorIndex, list);
        });
      }
    } finally {
      runner.delete();
    }
    const errors = (t: number) => {
      const all = Float32Array.from(values.get(t)!);
      const a = subMinmax.get(rangeKey(0, t))!;
      const b = subMse.get(rangeKey(0, t))!;
      return { mse: int8Error(all, b.min, b.max), minmax: int8Error(all, a.min, a.max) };
    };
    // Conv output, 627,200 values: the clipped range quantizes them clearly better.
    const conv = errors(7);
    expect(conv.mse).toBeLessThan(conv.minmax * 0.8);
    // Dense output, 3,200 values: too few for the expected error to decide; no worse than 5%.
    const dense = errors(10);
    expect(dense.mse).toBeLessThan(dense.minmax * 1.05);

    // Channel means of the inputs of the ops with weights (for bias correction), against the values.
    expect([...sub.channelMeans.keys()]).toEqual(['0:0', '0:9', '0:10']);
    const channelMeans = (flat: ArrayLike<number>, channels: number) => {
      const sums = new Float64Array(channels);
      for (let i = 0; i < flat.length; i++) sums[i % channels] += flat[i];
      return Array.from(sums, (sum) => sum / (flat.length / channels));
    };
    const pixels = digits.slice(0, 100).flatMap((d) => Array.from(d[0]));
    expect(sub.channelMeans.get('0:0')![0]).toBeCloseTo(channelMeans(pixels, 1)[0], 10);
    for (const [t, channels] of [[9, 1568], [10, 32]]) {
      const expected = channelMeans(values.get(t)!, channels);
      const actual = sub.channelMeans.get(rangeKey(0, t))!;
      expect(actual).toHaveLength(channels);
      expected.forEach((m, c) => expect(actual[c]).toBeCloseTo(m, 6));
    }
  });

  it('gives the same statistics twice, and from an async iterable', async () => {
    const again = await calibrate(graph, digits);
    async function* stream() {
      for (const digit of digits) yield digit;
    }
    const streamed = await calibrate(graph, stream());
    for (const other of [again, streamed]) {
      expect(other.channelMeans).toEqual(stats.channelMeans);
      expect(other.tensors.size).toBe(stats.tensors.size);
      for (const [key, s] of stats.tensors) {
        const o = other.tensors.get(key)!;
        expect({ ...o, histogram: null }).toEqual({ ...s, histogram: null });
        expect(o.histogram.exponent).toBe(s.histogram.exponent);
        expect(o.histogram.origin).toBe(s.histogram.origin);
        expect(Array.from(o.histogram.counts)).toEqual(Array.from(s.histogram.counts));
      }
    }
  });

  it('measures only the tensors asked for (a RESHAPE output through the tensor it copies), with the same statistics', async () => {
    const few = digits.slice(0, 40);
    const full = await calibrate(graph, few);
    // 12: the softmax output; 9: the flatten (RESHAPE) of the pool output 8.
    const only = await calibrate(graph, few, { tensors: [12, 9] });
    const keys = [...only.tensors.keys()];
    expect(keys.filter((k) => k !== '0:0')).toEqual(['0:8', '0:9', '0:12']); // the model input comes with the samples
    expect(only.channelMeans.size).toBe(0);
    for (const key of keys) {
      const s = full.tensors.get(key)!;
      const o = only.tensors.get(key)!;
      expect([o.min, o.max, o.count, o.zeros, o.samples]).toEqual([s.min, s.max, s.count, s.zeros, s.samples]);
      expect(Array.from(o.histogram.counts)).toEqual(Array.from(s.histogram.counts));
    }
  });

  it('throughput: calibration next to plain inference of the same samples', async () => {
    const model = await loadModel(modelBytes);
    const rounds: { inference: number; calibration: number; loop: number }[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        let started = performance.now();
        for (const digit of digits) await model.run(digit);
        const inference = DIGITS / ((performance.now() - started) / 1000);
        started = performance.now();
        const result = await calibrate(graph, digits);
        const calibration = DIGITS / ((performance.now() - started) / 1000);
        rounds.push({ inference, calibration, loop: DIGITS / (result.elapsedMs / 1000) });
      }
    } finally {
      model.delete();
    }
    const best = (key: 'inference' | 'calibration' | 'loop') => Math.max(...rounds.map((r) => r[key]));
    const ratio = best('calibration') / best('inference');
    console.log(
      `mnist_conv_fc_float, ${DIGITS} MNIST digits (best of 3): plain LiteRT inference ${best('inference').toFixed(0)} samples/s; ` +
        `calibration ${best('calibration').toFixed(0)} samples/s with the model load (${ratio.toFixed(2)}x), ` +
        `${best('loop').toFixed(0)} samples/s without (${(best('loop') / best('inference')).toFixed(2)}x)`,
    );
    expect(ratio).toBeGreaterThan(0.1);
  });

  it('cancels with a clear error, before the next sample', async () => {
    const controller = new AbortController();
    let seen = 0;
    const error = await calibrate(graph, digits, {
      signal: controller.signal,
      onProgress: (done) => {
        seen = done;
        if (done === 5) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).code).toBe('cancelled');
    expect((error as WorkbenchError).message).toBe('Calibration was cancelled after 5 of 300 samples.');
    expect(seen).toBe(5);

    const aborted = new AbortController();
    aborted.abort();
    await expect(calibrate(graph, digits, { signal: aborted.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('rejects samples that do not fit the model, and an empty sample set', async () => {
    await expect(calibrate(graph, [[new Float32Array(10)]])).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/784 values/) });
    await expect(calibrate(graph, [])).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/at least one sample/) });
  });
});

describe('calibrate other models', () => {
  it('vww_96_float (no signature defs): every float activation gets finite ranges', async () => {
    const bytes = readSharedModel('vww_96_float.tflite');
    const vww = readModel(bytes);
    const model = await loadModel(bytes);
    // Seeded random images in [0, 1] (the model's input range).
    const samples = Array.from({ length: 8 }, (_, i) => randomInputs(model, i).map((d) => (d as Float32Array).map((v) => (v + 1) / 2)));
    model.delete();
    const result = await calibrate(vww, samples);
    const floats = vww.subgraphs[0].tensors.filter((t) => t.type === TensorType.FLOAT32 && !vww.buffers[t.buffer].data.length);
    expect(result.tensors.size).toBe(floats.length);
    for (const algorithm of ['minmax', 'moving-average', 'percentile', 'mse'] as const) {
      const ranges = rangesFrom(result, algorithm);
      expect(ranges.size).toBe(floats.length);
      for (const r of ranges.values()) {
        expect(Number.isFinite(r.min) && Number.isFinite(r.max)).toBe(true);
        expect(r.min).toBeLessThanOrEqual(r.max);
      }
    }
    // Softmax output of 2 classes: in [0, 1].
    const output = result.tensors.get(rangeKey(0, vww.subgraphs[0].outputs[0]))!;
    expect(output.min).toBeGreaterThanOrEqual(0);
    expect(output.max).toBeLessThanOrEqual(1);
  });

  it('movie_review_text_classifier_float (int32 token input): Int32Array samples, or floats converted', async () => {
    const movie = readModel(readSharedModel('movie_review_text_classifier_float.tflite'));
    const tokens = Array.from({ length: 5 }, (_, i) => [Int32Array.from({ length: 256 }, (_, k) => (k < 20 ? (i * 37 + k * 11) % 1000 : 0))]);
    const result = await calibrate(movie, tokens);
    // GATHER (embedding), MEAN, two FULLY_CONNECTED, SOFTMAX: the int32 input has no statistics.
    expect([...result.tensors.keys()]).toEqual(['0:7', '0:8', '0:9', '0:10', '0:11']);
    expect([...result.channelMeans.keys()]).toEqual(['0:8', '0:9']);
    const softmax = result.tensors.get('0:11')!;
    expect(softmax.min).toBeGreaterThan(0);
    expect(softmax.max).toBeLessThan(1);
    const asFloats = await calibrate(movie, tokens.map(([t]) => [Float32Array.from(t)]));
    expect(rangesFrom(asFloats, 'mse')).toEqual(rangesFrom(result, 'mse'));
  });

  it('end to end: ranges from 200 calibration digits quantize mnist_conv_fc to int8 without losing accuracy', async () => {
    const images = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
    const labelBytes = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-labels-idx1-ubyte.gz')));
    const digit = (i: number) => [Float32Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)];
    // Calibrate on digits 9000-9199, evaluate on digits 0-499.
    const calibration = await calibrate(graph, Array.from({ length: 200 }, (_, i) => digit(9000 + i)));
    const test = Array.from({ length: 500 }, (_, i) => digit(i));
    const labels = labelBytes.subarray(8, 8 + 500);
    for (const algorithm of ['minmax', 'mse'] as const) {
      const quantized = quantizeInteger(graph, rangesFrom(calibration, algorithm), {
        activationBits: 8,
        perChannel: true,
        io: 'int8',
        integerOnly: true,
        channelMeans: calibration.channelMeans,
        keepFloat: () => false,
      });
      const result = await compareModels(modelBytes, writeModel(quantized.graph), test, { labels });
      const { accuracy, agreement } = result.classification;
      console.log(
        `mnist int8 (${algorithm} ranges): top-1 ${accuracy!.candidate.top1} vs float ${accuracy!.reference.top1}, agreement ${agreement}, ` +
          `output SQNR ${result.outputs[0].sqnrDb.toFixed(1)} dB`,
      );
      expect(accuracy!.candidate.top1).toBeGreaterThanOrEqual(accuracy!.reference.top1 - 0.01);
      expect(agreement).toBeGreaterThanOrEqual(0.98);
      expect(result.outputs[0].sqnrDb).toBeGreaterThan(25);
    }
  });
});
