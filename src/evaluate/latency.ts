/**
 * Latency of one inference in LiteRT (WASM, XNNPACK): wall time of `run()` with performance.now(),
 * over N runs after a warm-up, as median, 90th percentile, mean, min and max.
 *
 * What is timed is what an app calling LiteRT.js pays per inference: creating the input tensors,
 * the invoke, and copying the outputs out of the wasm heap (runtime/load.ts). Runs are sequential on one
 * thread; other work on the machine shows up in the tail (p90, max) more than in the median.
 */
import { WorkbenchError } from '../errors';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import type { LoadedModel, RuntimeData } from '../runtime/types';
import { cancelled, toModelInputs, type RunProgress, type Sample } from '../runtime/samples';

export interface LatencyOptions extends RunProgress {
  /** Timed runs (default 50). */
  runs?: number;
  /** Untimed runs first (default 5): XNNPACK packs weights and the JIT warms up on the first ones. */
  warmup?: number;
  /** The input to time with; default: seeded random inputs (`seed`, default 0). */
  input?: Sample;
  seed?: number;
}

export interface LatencyResult {
  runs: number;
  warmup: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** Every timed run, in order, ms. */
  timesMs: number[];
}

/** Times `model` (.tflite bytes, loaded and freed here, or an already loaded model). */
export async function measureLatency(model: Uint8Array | LoadedModel, options: LatencyOptions = {}): Promise<LatencyResult> {
  const runs = options.runs ?? 50;
  const warmup = options.warmup ?? 5;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new WorkbenchError('bad-input', `Latency needs at least one timed run; got ${runs}.`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new WorkbenchError('bad-input', `The warm-up run count must be 0 or more; got ${warmup}.`);
  const owned = model instanceof Uint8Array;
  if (owned) await initRuntime();
  const loaded = owned ? await loadModel(model) : model;
  try {
    const inputs: RuntimeData[] = options.input ? toModelInputs(options.input, loaded.inputs) : randomInputs(loaded, options.seed ?? 0);
    const total = warmup + runs;
    const timesMs: number[] = [];
    for (let i = 0; i < total; i++) {
      if (options.signal?.aborted) throw cancelled('The latency measurement', i, total);
      const started = performance.now();
      await loaded.run(inputs);
      const elapsed = performance.now() - started;
      if (i >= warmup) timesMs.push(elapsed);
      options.onProgress?.(i + 1, total);
    }
    return { runs, warmup, ...summarizeTimes(timesMs), timesMs };
  } finally {
    if (owned) loaded.delete();
  }
}

/** Median (mean of the middle two for an even count), nearest-rank p90, mean, min, max. */
export function summarizeTimes(times: number[]): Pick<LatencyResult, 'medianMs' | 'p90Ms' | 'meanMs' | 'minMs' | 'maxMs'> {
  if (!times.length) return { medianMs: NaN, p90Ms: NaN, meanMs: NaN, minMs: NaN, maxMs: NaN };
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const medianMs = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const p90Ms = sorted[Math.max(0, Math.ceil(0.9 * n) - 1)];
  return { medianMs, p90Ms, meanMs: sorted.reduce((s, t) => s + t, 0) / n, minMs: sorted[0], maxMs: sorted[n - 1] };
}
