/**
 * Shared by bench/quantize.ts and bench/calibration-paths.ts: calibration throughput per way of
 * running the statistics next to plain LiteRT inference on the same samples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import type { Sample } from '../src/runtime/samples';
import { calibrate, type Reductions } from '../src/optimize/calibrate/calibrate';
import type { StatsThread } from '../src/optimize/calibrate/worker/stats-thread';
import type { ModelGraph } from '../src/tflite/graph';

/**
 * The engine on tfjs' WASM backend. Uses initNodeEngine when it loads under tsx; otherwise starts
 * the WASM backend the same way itself (the engine's backend module may pull in ESM-only files
 * that plain Node cannot load).
 */
export async function initBenchEngine(): Promise<string> {
  try {
    const { initNodeEngine } = await import('../src/engine/backend-node');
    return (await initNodeEngine()).backend;
  } catch {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs WASM backend failed to start');
    await tf.ready();
    return 'wasm';
  }
}

export interface CalibrationRow {
  model: string;
  /** Plain LiteRT inference, samples/s: warm (model loaded and run once before) and cold (load included). */
  inference: { warm: number; cold: number };
  /** Where the statistics were asked to run ('auto' = calibrate()'s default). */
  statsThread: StatsThread | 'auto';
  /** Where they ran. */
  ranStats: StatsThread;
  /** Whether min/max and channel sums were reduced inside LiteRT (src/optimize/calibrate/runs/reduced-in-litert.ts). */
  reductions: Reductions;
  histograms: boolean;
  /**
   * Calibration samples/s: loop = calibrate()'s own elapsedMs (its sample loop, from the first run
   * to the last sample's statistics, model load and worker start excluded); call = the whole
   * calibrate() call.
   */
  rate: { loop: number; call: number };
  /** Why the statistics ran where they did ('auto' rows). */
  note: string;
}

/**
 * Best-of-`rounds` rates of plain inference and each calibration path, interleaved per round (the
 * dev machine is shared; the best round is the least disturbed one). Wall-clock throughout.
 */
export async function calibrationPathRows(name: string, bytes: Uint8Array, graph: ModelGraph, options: { samples: number; rounds: number }): Promise<CalibrationRow[]> {
  const probe = await loadModel(bytes);
  const samples = Array.from({ length: options.samples }, (_, i) => randomInputs(probe, i) as Sample);
  probe.delete();
  const variants = (['main', 'worker', 'auto'] as const).flatMap((statsThread) => [true, false].map((histograms) => ({ statsThread, histograms })));
  const keyOf = (v: (typeof variants)[number]) => `${v.statsThread}/${v.histograms}`;
  const best = new Map<string, { loop: number; call: number; reason: string; ranStats: StatsThread; reductions: Reductions }>();
  const inference = { warm: 0, cold: 0 };
  for (let round = 0; round < options.rounds; round++) {
    let started = performance.now();
    const model = await loadModel(bytes);
    try {
      for (const sample of samples) await model.run(sample as never);
      inference.cold = Math.max(inference.cold, samples.length / ((performance.now() - started) / 1000));
      started = performance.now();
      for (const sample of samples) await model.run(sample as never);
      inference.warm = Math.max(inference.warm, samples.length / ((performance.now() - started) / 1000));
    } finally {
      model.delete();
    }
    for (const v of variants) {
      const called = performance.now();
      const stats = await calibrate(graph, samples, v);
      const loop = stats.samples / (stats.elapsedMs / 1000);
      const call = stats.samples / ((performance.now() - called) / 1000);
      const key = keyOf(v);
      const previous = best.get(key);
      const reason = `statistics ${stats.statsReason}`;
      if (!previous || loop > previous.loop) best.set(key, { loop, call: Math.max(call, previous?.call ?? 0), reason, ranStats: stats.statsThread, reductions: stats.reductions });
      else previous.call = Math.max(previous.call, call);
    }
  }
  return variants.map((v) => {
    const b = best.get(keyOf(v))!;
    return {
      model: name,
      inference,
      statsThread: v.statsThread,
      ranStats: b.ranStats,
      reductions: b.reductions,
      histograms: v.histograms,
      rate: { loop: b.loop, call: b.call },
      note: v.statsThread === 'auto' ? b.reason : '',
    };
  });
}

export function printCalibrationTable(rows: CalibrationRow[]): void {
  console.log('| model | statistics | statistics thread | plain inference samples/s (warm / cold) | calibration samples/s (loop / call) | ratio (loop/warm, call/cold) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const what = r.histograms ? 'all (percentile, mse)' : 'no histograms (minmax, moving-average)';
    const ran = r.reductions === 'litert' ? 'LiteRT reductions' : r.ranStats;
    const thread = r.statsThread === ran ? ran : `${r.statsThread} -> ${ran}`;
    const inference = `${r.inference.warm.toFixed(0)} / ${r.inference.cold.toFixed(0)}`;
    const rate = `${r.rate.loop.toFixed(0)} / ${r.rate.call.toFixed(0)}`;
    const ratio = `**${(r.rate.loop / r.inference.warm).toFixed(2)}x** / ${(r.rate.call / r.inference.cold).toFixed(2)}x`;
    console.log(`| ${r.model} | ${what} | ${thread} | ${inference} | ${rate} | ${ratio} |`);
  }
  console.log('\nBest of the rounds, wall clock. warm: plain runs of a loaded model that ran once; cold: load + runs.');
  console.log("loop: calibrate()'s elapsedMs (first run to the last sample's statistics, model load and statistics-worker start excluded);");
  console.log('call: the whole calibrate() call (model load included). statistics thread: main = in-thread (the single-thread');
  console.log("path of before), worker = overlapping the LiteRT runs, LiteRT reductions = min/max and channel sums computed inside");
  console.log("the LiteRT run (src/optimize/calibrate/runs/reduced-in-litert.ts); auto = calibrate()'s defaults. Choices:");
  for (const r of rows) if (r.statsThread === 'auto') console.log(`- ${r.model}, ${r.histograms ? 'histograms' : 'no histograms'}: ${r.note}`);
}
