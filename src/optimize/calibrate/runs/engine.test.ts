/**
 * Calibration through the engine (batched, tfjs WASM) against calibration through LiteRT, on real
 * data: MNIST digits through mnist_conv_fc_float, ImageNet images through MobileNetV1 0.25.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../data/dataset';
import { graphInputs } from '../../../data/default-preprocessing';
import { filesFromPath } from '../../../data/files-node';
import { initNodeEngine } from '../../../engine/backend-node';
import { initRuntime } from '../../../runtime/start';
import type { Sample } from '../../../runtime/samples';
import { dataDir, readSharedModel } from '../../../test-support/shared';
import type { ModelGraph } from '../../../tflite/graph';
import { readModel } from '../../../tflite/read';
import { calibrate, rangesFrom, RANGE_ALGORITHMS, type CalibrationStats } from '../calibrate';
import { occupiedBins } from '../statistics/histogram';
import { quantizeInteger } from '../../quantize/integer';

function mnistDigits(count: number): Sample[] {
  const bytes = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
  return Array.from({ length: count }, (_, i) => [Float32Array.from(bytes.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)]);
}

async function imagenetImages(graph: ModelGraph, count: number): Promise<Sample[]> {
  const root = join(dataDir, 'imagenet_val_subset');
  const preprocessing = { width: 224, height: 224, channels: 3 as const, channelOrder: 'RGB' as const, mean: [127.5], std: [127.5], resize: 'bilinear' as const };
  const dataset = await openDataset(await filesFromPath(root), graphInputs(graph), {
    preprocessing,
    labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), name: 'labels.csv', labelColumn: 'label_1001' },
  });
  return Promise.all(Array.from({ length: count }, (_, i) => dataset.sample(i)));
}

/** Engine statistics agree with LiteRT's: same keys, ranges within `tolerance` of each range's width. */
function expectSameStatistics(litert: CalibrationStats, engine: CalibrationStats, tolerance: number): void {
  expect(litert.path).toBe('litert');
  expect(engine.path).toBe('engine');
  expect(engine.samples).toBe(litert.samples);
  expect([...engine.tensors.keys()]).toEqual([...litert.tensors.keys()]);
  expect([...engine.channelMeans.keys()]).toEqual([...litert.channelMeans.keys()]);
  for (const [key, a] of litert.tensors) {
    const b = engine.tensors.get(key)!;
    const width = Math.max(a.max - a.min, 1e-6);
    expect([b.samples, b.count, b.nonFinite], key).toEqual([a.samples, a.count, a.nonFinite]);
    for (const field of ['min', 'max', 'movingMin', 'movingMax'] as const) {
      expect(Math.abs(b[field] - a[field]) / width, `${key} ${field}`).toBeLessThan(1e-4);
    }
    // Values at the ReLU boundary may land on either side of 0 in another runtime.
    expect(Math.abs(b.zeros - a.zeros) / a.count, `${key} zeros`).toBeLessThan(1e-3);
    expect(occupiedBins(b).total).toBe(occupiedBins(a).total);
    expect(Math.abs(b.histogram.exponent - a.histogram.exponent), `${key} bin width`).toBeLessThanOrEqual(1);
  }
  for (const algorithm of RANGE_ALGORITHMS) {
    const ra = rangesFrom(litert, algorithm);
    const rb = rangesFrom(engine, algorithm);
    for (const [key, a] of ra) {
      const b = rb.get(key)!;
      const width = Math.max(a.max - a.min, 1e-6);
      // Histogram-based ranges move by a bin or so when a few values change bins.
      const limit = algorithm === 'minmax' || algorithm === 'moving-average' ? 1e-4 : 0.01;
      expect(Math.abs(b.min - a.min) / width, `${algorithm} ${key} min`).toBeLessThan(limit);
      expect(Math.abs(b.max - a.max) / width, `${algorithm} ${key} max`).toBeLessThan(limit);
    }
  }
  for (const [key, a] of litert.channelMeans) {
    const b = engine.channelMeans.get(key)!;
    const scale = Math.max(...a.map(Math.abs), 1e-3);
    a.forEach((m, c) => expect(Math.abs(b[c] - m) / scale, `${key} channel ${c}`).toBeLessThan(1e-4));
  }
}

/** int8 quantization from either statistics: every activation scale within 1e-3 relative. */
function expectSameScales(graph: ModelGraph, litert: CalibrationStats, engine: CalibrationStats, algorithm: 'minmax' | 'mse'): void {
  const quantize = (stats: CalibrationStats) =>
    quantizeInteger(graph, rangesFrom(stats, algorithm), { activationBits: 8, perChannel: true, io: 'int8', integerOnly: true, channelMeans: stats.channelMeans, keepFloat: () => false }).graph;
  const a = quantize(litert).subgraphs[0].tensors;
  const b = quantize(engine).subgraphs[0].tensors;
  expect(b.length).toBe(a.length);
  let compared = 0;
  a.forEach((t, i) => {
    const sa = t.quantization?.scale ?? [];
    const sb = b[i].quantization?.scale ?? [];
    expect(sb.length).toBe(sa.length);
    sa.forEach((s, c) => expect(Math.abs(sb[c] - s) / s, `${algorithm} tensor ${i} (${t.name})`).toBeLessThan(algorithm === 'minmax' ? 1e-3 : 0.02));
    compared += sa.length;
  });
  expect(compared).toBeGreaterThan(0);
}

beforeAll(async () => {
  await initRuntime();
  await initNodeEngine();
});

describe('calibration through the engine', () => {
  const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
  const digits = mnistDigits(200);

  it('mnist_conv_fc_float, 200 MNIST digits: the statistics and int8 scales of the LiteRT path', async () => {
    const litert = await calibrate(graph, digits, { path: 'litert' });
    const engine = await calibrate(graph, digits, { path: 'engine' });
    expect(engine.batch).toBe(32);
    expect(litert.batch).toBe(1);
    expectSameStatistics(litert, engine, 1e-4);
    expectSameScales(graph, litert, engine, 'minmax');
    expectSameScales(graph, litert, engine, 'mse');
  });

  it('the batch size does not change the statistics; progress after every sample; an async iterable works', async () => {
    const progress: number[] = [];
    const a = await calibrate(graph, digits.slice(0, 50), { path: 'engine', batch: 7, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    async function* stream() {
      for (const d of digits.slice(0, 50)) yield d;
    }
    const b = await calibrate(graph, stream(), { path: 'engine', batch: 1 });
    expect(a.batch).toBe(7);
    for (const [key, s] of a.tensors) {
      const o = b.tensors.get(key)!;
      for (const field of ['min', 'max', 'movingMin', 'movingMax'] as const) expect(o[field]).toBeCloseTo(s[field], 5);
      expect(o.count).toBe(s.count);
    }
  });

  it('histograms: false skips the histograms on both paths and keeps min/max and moving averages', async () => {
    const full = await calibrate(graph, digits.slice(0, 40), { path: 'litert' });
    for (const path of ['litert', 'engine'] as const) {
      const lean = await calibrate(graph, digits.slice(0, 40), { path, histograms: false });
      expect(lean.histograms).toBe(false);
      for (const [key, s] of full.tensors) {
        const o = lean.tensors.get(key)!;
        expect(occupiedBins(o).total).toBe(0);
        expect(o.zeros).toBe(0);
        const width = Math.max(s.max - s.min, 1e-6);
        for (const field of ['min', 'max', 'movingMin', 'movingMax'] as const) expect(Math.abs(o[field] - s[field]) / width).toBeLessThan(1e-4);
      }
    }
  });

  it("'auto' takes LiteRT, deterministically; the engine only on request", async () => {
    const stats = await calibrate(graph, digits, {});
    expect(stats.path).toBe('litert');
    expect(stats.pathReason).toMatch(/default/);
    expect(stats.samples).toBe(200);
    const movie = readModel(readSharedModel('movie_review_text_classifier_float.tflite'));
    const tokens = Array.from({ length: 20 }, (_, i) => [Int32Array.from({ length: 256 }, (_, k) => (k < 20 ? (i * 37 + k * 11) % 1000 : 0))]);
    const text = await calibrate(movie, tokens, {});
    expect(text.path).toBe('litert');
    await expect(calibrate(movie, tokens, { path: 'engine' })).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/input is not float32|no kernel/) });
  });

  it('cancels between batches with the usual error', async () => {
    const controller = new AbortController();
    const error = await calibrate(graph, digits, {
      path: 'engine',
      signal: controller.signal,
      onProgress: (done) => done === 5 && controller.abort(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cancelled', message: 'Calibration was cancelled after 5 of 200 samples.' });
  });

  it('mobilenet_v1_0.25_224_float, 24 ImageNet images: the statistics and int8 scales of the LiteRT path', { timeout: 120_000 }, async () => {
    const mobilenet = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const images = await imagenetImages(mobilenet, 24);
    const litert = await calibrate(mobilenet, images, { path: 'litert' });
    const engine = await calibrate(mobilenet, images, { path: 'engine' });
    expect(engine.batch).toBeGreaterThan(1);
    expectSameStatistics(litert, engine, 1e-4);
    expectSameScales(mobilenet, litert, engine, 'minmax');
    expectSameScales(mobilenet, litert, engine, 'mse');
  });
});
