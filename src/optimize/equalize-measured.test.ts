/**
 * Cross-layer equalization through RELU6 where the clip never fires ('measured', equalize.ts) and
 * dead channels, on MobileNetV1 0.25 (RELU6 between all 26 pairs) with real ImageNet images: the
 * equalized float model must compute the original's outputs in LiteRT on the images measured.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { maxRelativeError } from '../engine/engine-test-support';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import { toModelInputs, type Sample } from '../runtime/samples';
import { dataDir, readSharedModel } from '../test-support/shared';
import type { ModelGraph } from '../tflite/graph';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';
import { measureChannelMaxima } from './channel-maxima';
import { equalizeCrossLayer, inputChannelRanges, outputChannelRanges, pairTensors } from './equalize';
import { asFloat32 } from './quantize/params';
import { builtinCodeOf } from '../tflite/ops';
import { sqnrDb } from '../evaluate/metrics';
import { compareModels } from '../evaluate/compare';
import { optimizeModel } from './pipeline';
import { defaultRecipe, type Recipe } from './recipe';

async function outputsOn(graph: ModelGraph, samples: Sample[]): Promise<Float32Array[]> {
  const model = await loadModel(writeModel(graph));
  try {
    const rows: Float32Array[] = [];
    for (const [i, sample] of samples.entries()) rows.push(Float32Array.from((await model.run(toModelInputs(sample, model.inputs, i)))[0].data as Float32Array));
    return rows;
  } finally {
    model.delete();
  }
}

const weightsOf = (graph: ModelGraph, op: number) => {
  const o = graph.subgraphs[0].operators[op];
  const tensor = graph.subgraphs[0].tensors[o.inputs[1]];
  return { layer: { builtin: builtinCodeOf(graph.operatorCodes[o.opcodeIndex]), shape: tensor.shape }, values: asFloat32(graph.buffers[tensor.buffer].data) };
};

describe('cross-layer equalization through RELU6 where the clip never fires', () => {
  let graph: ModelGraph;
  let measured: Sample[];
  let unseen: Sample[];
  let maxima: Map<number, Float64Array>;

  beforeAll(async () => {
    await initRuntime();
    const bytes = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    graph = readModel(bytes);
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'imagenet_val_subset')), graphInputs(graph), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
    });
    const samples = await Promise.all(Array.from({ length: 24 }, (_, i) => dataset.sample(i)));
    measured = samples.slice(0, 16);
    unseen = samples.slice(16);
    maxima = await measureChannelMaxima(graph, pairTensors(graph), measured);
  }, 120_000);

  it('measures every RELU6 tensor between pairs: per-channel maxima in [0, 6], as a brute-force pass over the tapped values finds', () => {
    expect(maxima.size).toBe(26);
    for (const m of maxima.values()) for (const v of m) expect(v >= 0 && v <= 6).toBe(true);
    // Both kinds exist: channels whose clip fired and channels that stay under it.
    const all = [...maxima.values()].flatMap((m) => [...m]);
    expect(all.filter((v) => v >= 6).length).toBeGreaterThan(100);
    expect(all.filter((v) => v > 0 && v < 3).length).toBeGreaterThan(50);
  });

  it('stops measuring when cancelled, with a cancelled error', async () => {
    const controller = new AbortController();
    let seen = 0;
    const measuring = measureChannelMaxima(graph, pairTensors(graph), measured, {
      signal: controller.signal,
      onProgress: (done) => {
        seen = done;
        if (done === 2) controller.abort();
      },
    });
    await expect(measuring).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toBe(2);
  }, 60_000);

  it('keeps the float outputs in LiteRT on the images measured (clip margin 1: the clip sits exactly at the maximum); RELU in place of RELU6 does not', async () => {
    const result = equalizeCrossLayer(graph, { relu6: 'measured', channelMaxima: maxima, clipMargin: 1 });
    expect(result.pairs).toHaveLength(26);
    expect(result.relu6Replaced).toBe(0);
    const want = await outputsOn(graph, measured);
    const got = await outputsOn(result.graph, measured);
    const error = Math.max(...want.map((w, i) => maxRelativeError(w, got[i])));
    expect(error).toBeLessThan(1e-4);
    // What the clip is worth: RELU in place of RELU6, same images, is far off.
    const asRelu = await outputsOn(equalizeCrossLayer(graph, { relu6: 'as-relu' }).graph, measured);
    expect(Math.max(...want.map((w, i) => maxRelativeError(w, asRelu[i])))).toBeGreaterThan(100 * Math.max(error, 1e-6));
  }, 120_000);

  it('holds channels that came within margin of their clip at scale 1, keeps each other clip at >= margin x its maximum, and moves those', () => {
    const result = equalizeCrossLayer(graph, { relu6: 'measured', channelMaxima: maxima });
    let moved = 0;
    for (const pair of result.pairs) {
      const m = maxima.get(pair.tensor)!;
      for (let i = 0; i < pair.channels; i++) {
        // Free only under 6 / margin = 3; the clip 6 s_i then stays at >= 2x the maximum.
        if (m[i] >= 3 || m[i] <= 0) expect(pair.scales[i], `pair ${pair.producer} channel ${i}`).toBe(1);
        else expect(6 * pair.scales[i]).toBeGreaterThanOrEqual(2 * m[i] * (1 - 1e-9));
        if (Math.abs(pair.scales[i] - 1) > 0.01) moved++;
      }
    }
    console.log(`MobileNetV1 0.25: ${moved} of ${result.pairs.reduce((n, p) => n + p.channels, 0)} channels scaled through RELU6 (maxima from 16 images)`);
    expect(moved).toBeGreaterThan(150);
  });

  it('zeroes dead channels on both sides, and the float outputs still match on the measured images', async () => {
    const result = equalizeCrossLayer(graph, { relu6: 'measured', channelMaxima: maxima, maxIterations: 0 });
    expect(result.deadChannels).toBeGreaterThan(0);
    let seen = 0;
    for (const pair of result.pairs) {
      const m = maxima.get(pair.tensor)!;
      const p = weightsOf(result.graph, pair.producer);
      const c = weightsOf(result.graph, pair.consumer);
      const r1 = outputChannelRanges(p.layer, p.values);
      const r2 = inputChannelRanges(c.layer, c.values, pair.channels);
      const bias = asFloat32(result.graph.buffers[result.graph.subgraphs[0].tensors[result.graph.subgraphs[0].operators[pair.producer].inputs[2]].buffer].data);
      for (let i = 0; i < pair.channels; i++) {
        if (m[i] > 0) continue;
        seen++;
        expect(r1[i]).toBe(0);
        expect(r2[i]).toBe(0);
        expect(bias[i]).toBeLessThanOrEqual(0);
      }
    }
    expect(seen).toBe(result.deadChannels);
    const want = await outputsOn(graph, measured);
    const got = await outputsOn(result.graph, measured);
    expect(Math.max(...want.map((w, i) => maxRelativeError(w, got[i])))).toBeLessThan(1e-4);
  }, 120_000);

  it('on images the maxima were not measured on, the default margin keeps the float outputs above 50 dB SQNR (62.0 dB measured)', async () => {
    const result = equalizeCrossLayer(graph, { relu6: 'measured', channelMaxima: maxima });
    const want = await outputsOn(graph, unseen);
    const got = await outputsOn(result.graph, unseen);
    const sqnr = sqnrDb(Float32Array.from(want.flatMap((w) => [...w])), Float32Array.from(got.flatMap((g) => [...g])));
    console.log(`MobileNetV1 0.25, CLE through RELU6 (margin 2, maxima from 16 images): float output SQNR ${sqnr.toFixed(1)} dB on 8 other images`);
    expect(sqnr).toBeGreaterThan(50);
  }, 120_000);
});

describe('per-tensor int8 with CLE through RELU6 in the pipeline', () => {
  beforeAll(() => initRuntime());

  it("'auto' uses it per-tensor (not per-channel), 'on' falls back to what 'auto' does when RELU is refused, and it lifts MobileNetV1 per-tensor SQNR", async () => {
    const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'imagenet_val_subset')), graphInputs(readModel(model)), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
    });
    const samples = await Promise.all(Array.from({ length: 48 }, (_, i) => dataset.sample(i)));
    const calibration = samples.slice(0, 32);
    const evaluation = samples.slice(32);
    // Nearest rounding keeps the test short; the bench measures the default (gptq).
    const run = async (tweak: Partial<Recipe>) => {
      const result = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), rounding: 'nearest', ...tweak }, calibration, skipCheck: true });
      const compared = await compareModels(model, result.bytes, evaluation);
      return { notes: result.notes.join('\n'), sqnr: compared.outputs[0].sqnrDb };
    };
    const auto = await run({ granularity: 'per-tensor' });
    expect(auto.notes).toMatch(/26 layer pair\(s\) equalized/);
    expect(auto.notes).toMatch(/stayed under 6 \/ 2 on 32 calibration sample/);
    const off = await run({ granularity: 'per-tensor', equalize: 'off' });
    console.log(`MobileNetV1 0.25 per-tensor int8 (nearest rounding, 32 calibration images): output SQNR ${off.sqnr.toFixed(1)} dB without CLE, ${auto.sqnr.toFixed(1)} dB with CLE through RELU6, on 16 other images`);
    expect(auto.sqnr).toBeGreaterThan(off.sqnr + 6);
    const on = await run({ granularity: 'per-tensor', equalize: 'on' });
    expect(on.notes).toMatch(/RELU6 kept/);
    expect(on.notes).toMatch(/stayed under 6 \/ 2/);
    const perChannel = await run({});
    expect(perChannel.notes).toMatch(/26 pair\(s\) skipped: RELU6/);
    const perChannelOn = await run({ equalize: 'on' });
    expect(perChannelOn.notes).toMatch(/RELU6 kept/);
    expect(perChannelOn.notes).toMatch(/26 pair\(s\) skipped: RELU6/);
    // Too few samples to trust which channels stay under the clip: exact pairs only, said (8 images
    // left the equalized float model at 29.2 dB against the original on unseen ones).
    const few = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), granularity: 'per-tensor', rounding: 'nearest' }, calibration: calibration.slice(0, 8), skipCheck: true });
    expect(few.notes.join('\n')).toMatch(/exact pairs only; through RELU6 it needs at least 32 calibration samples .* and 8 were given/);
    expect(few.notes.join('\n')).toMatch(/26 pair\(s\) skipped: RELU6/);
  }, 300_000);
});
