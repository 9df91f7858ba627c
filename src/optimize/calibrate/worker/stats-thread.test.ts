/**
 * Statistics in a worker (worker/stats-thread.ts): bit-identical to in-thread statistics, a
 * bounded queue, cancel, fallback when no worker starts, errors from the worker.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../runtime/load';
import { randomInputs } from '../../../runtime/random-inputs';
import { initRuntime } from '../../../runtime/start';
import type { Sample } from '../../../runtime/samples';
import { dataDir, readSharedModel, repoRoot } from '../../../test-support/shared';
import { readModel } from '../../../tflite/read';
import { calibrate, type CalibrationStats } from '../calibrate';
import type { StatsReply, StatsRequest, StatsWorkerPort } from './port';
import { statsServer } from './stats-server';
import { MAX_IN_FLIGHT, setStatsWorkerFactory } from './stats-thread';

function mnistDigits(count: number): Sample[] {
  const bytes = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
  return Array.from({ length: count }, (_, i) => [Float32Array.from(bytes.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)]);
}

/** Every statistic, bit for bit (Object.is: -0 and NaN too). */
function expectIdentical(a: CalibrationStats, b: CalibrationStats): void {
  expect(b.samples).toBe(a.samples);
  expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
  for (const [key, x] of a.tensors) {
    const y = b.tensors.get(key)!;
    for (const field of ['samples', 'count', 'nonFinite', 'zeros', 'min', 'max', 'movingMin', 'movingMax'] as const) {
      expect(Object.is(y[field], x[field]), `${key} ${field}: ${y[field]} vs ${x[field]}`).toBe(true);
    }
    expect([y.histogram.exponent, y.histogram.origin], key).toEqual([x.histogram.exponent, x.histogram.origin]);
    expect(Buffer.from(y.histogram.counts.buffer).equals(Buffer.from(x.histogram.counts.buffer)), `${key} histogram`).toBe(true);
  }
  expect([...b.channelMeans.keys()]).toEqual([...a.channelMeans.keys()]);
  for (const [key, m] of a.channelMeans) expect(Buffer.from(b.channelMeans.get(key)!.buffer).equals(Buffer.from(m.buffer)), `${key} means`).toBe(true);
}

/**
 * An in-process stand-in for a worker: the real statsServer, messages structured-cloned (buffers
 * transferred) and answered a little later, so the queue fills; records the samples in flight.
 */
function fakeWorkers(options: { delayMs?: number; failAt?: number } = {}) {
  const record = { maxInFlight: 0, started: 0, terminated: 0 };
  const factory = (): StatsWorkerPort => {
    record.started++;
    let onMessage: (m: StatsReply) => void = () => {};
    let inFlight = 0;
    let seen = 0;
    let alive = true;
    const serve = statsServer((reply, transfer) => {
      const copy = structuredClone(reply, { transfer });
      setTimeout(() => alive && onMessage(copy), options.delayMs ?? 0);
    });
    return {
      post(message: StatsRequest, transfer) {
        const copy = structuredClone(message, { transfer });
        if (copy.type === 'sample') {
          record.maxInFlight = Math.max(record.maxInFlight, ++inFlight);
          if (++seen === options.failAt) copy.arrays[0] = null;
        }
        setTimeout(() => {
          if (!alive) return;
          if (copy.type === 'sample') inFlight--;
          serve(copy);
        }, options.delayMs ?? 0);
      },
      listen(message) {
        onMessage = message;
      },
      hold() {},
      terminate() {
        alive = false;
        record.terminated++;
      },
    };
  };
  return { factory, record };
}

const mnist = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
let digits: Sample[];

beforeAll(async () => {
  await initRuntime();
  digits = mnistDigits(60);
});

afterEach(() => setStatsWorkerFactory(undefined));

describe('calibration statistics in a worker thread', () => {
  it('mnist_conv_fc_float: a worker_threads worker gives bit-identical statistics, with and without histograms', async () => {
    for (const histograms of [true, false]) {
      const main = await calibrate(mnist, digits, { statsThread: 'main', histograms });
      const worker = await calibrate(mnist, digits, { statsThread: 'worker', histograms });
      expect(main.statsThread).toBe('main');
      expect(worker.statsThread, worker.statsReason).toBe('worker');
      expectIdentical(main, worker);
    }
  });

  it('audio_event_527_float (272k activation values per sample): bit-identical, and the default runs the worker', async () => {
    const bytes = readSharedModel('audio_event_527_float.tflite');
    const graph = readModel(bytes);
    const model = await loadModel(bytes);
    const samples = Array.from({ length: 12 }, (_, i) => randomInputs(model, i) as Sample);
    model.delete();
    const main = await calibrate(graph, samples, { statsThread: 'main' });
    const auto = await calibrate(graph, samples);
    expect(auto.statsThread, auto.statsReason).toBe('worker');
    expectIdentical(main, auto);
    // The caller's samples are copied, not transferred away.
    expect(samples[0][0].length).toBe(5360);
  });

  it("'auto' keeps little work in-thread (mnist: 10k values per sample)", async () => {
    for (const histograms of [true, false]) {
      const stats = await calibrate(mnist, digits.slice(0, 5), { histograms, reductions: 'js' });
      expect(stats.statsThread).toBe('main');
      expect(stats.statsReason).toMatch(/too few/);
    }
  });

  it(`keeps at most ${MAX_IN_FLIGHT} samples in flight and finishes every one before returning`, async () => {
    const { factory, record } = fakeWorkers({ delayMs: 3 });
    setStatsWorkerFactory(factory);
    const main = await calibrate(mnist, digits, { statsThread: 'main' });
    const worker = await calibrate(mnist, digits, { statsThread: 'worker' });
    expect(worker.statsThread).toBe('worker');
    expect(record.maxInFlight).toBe(MAX_IN_FLIGHT);
    expectIdentical(main, worker);
    // The idle worker is reused.
    await calibrate(mnist, digits.slice(0, 3), { statsThread: 'worker' });
    expect(record.started).toBe(1);
  });

  it('cancels: the busy worker is stopped, the next calibration starts another', async () => {
    const { factory, record } = fakeWorkers({ delayMs: 2 });
    setStatsWorkerFactory(factory);
    const controller = new AbortController();
    const error = await calibrate(mnist, digits, { statsThread: 'worker', signal: controller.signal, onProgress: (done) => done === 7 && controller.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cancelled', message: 'Calibration was cancelled after 7 of 60 samples.' });
    expect(record.terminated).toBe(1);
    const again = await calibrate(mnist, digits.slice(0, 4), { statsThread: 'worker' });
    expect(again.statsThread).toBe('worker');
    expect(record.started).toBe(2);
  });

  it('falls back to in-thread statistics when no worker starts, and says why', async () => {
    setStatsWorkerFactory(() => {
      throw new Error('no threads here');
    });
    const stats = await calibrate(mnist, digits.slice(0, 5), { statsThread: 'worker' });
    expect(stats.statsThread).toBe('main');
    expect(stats.statsReason).toMatch(/no threads here/);

    setStatsWorkerFactory(() => {
      let onError: (e: Error) => void = () => {};
      setTimeout(() => onError(new Error('script failed to load')), 1);
      return { post() {}, listen: (_m, e) => void (onError = e), hold() {}, terminate() {} };
    });
    const late = await calibrate(mnist, digits.slice(0, 5), { statsThread: 'worker' });
    expect(late.statsThread).toBe('main');
    expect(late.statsReason).toMatch(/did not start.*script failed to load/);
    expect(late.samples).toBe(5);
  });

  it('an error in the worker fails the calibration with a runtime error', async () => {
    const { factory } = fakeWorkers({ failAt: 3 });
    setStatsWorkerFactory(factory);
    await expect(calibrate(mnist, digits, { statsThread: 'worker' })).rejects.toMatchObject({ code: 'runtime', message: expect.stringMatching(/statistics worker failed/) });
  });

  it('an idle or unused statistics worker does not keep a Node process alive', () => {
    const code = [
      "const { startStatsSink } = await import('./src/optimize/calibrate/worker/stats-thread.ts');",
      "startStatsSink('worker');", // started, never opened nor released
      "const sink = await startStatsSink('worker').open({ momentum: 0.99, bins: 64, histograms: true, inputs: [], taps: [{ tensorIndex: 0, name: 't', stride: 1 }], means: [] }, 1e6);",
      'await sink.add([Float32Array.of(1, 2, 0)], new Set());',
      'const result = await sink.finish();',
      "console.log(sink.thread, result.tensors[0].count);",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('worker 3');
  });
});
