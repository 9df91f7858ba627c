/**
 * High-bias absorption (absorb.ts): on a hand-built model whose biases fix which channels may move
 * (inputs in [-1, 1], every weight row's |w| summing to at most 1 / the largest input, so each
 * pre-activation stays within 1 of its bias), the skipped causes are counted as designed and a
 * channel whose RELU6 clip fires is never shifted; on MobileNetV1 0.25 with ImageNet images, the
 * absorbed float model computes the original's outputs in LiteRT on the calibration images and on
 * images it never saw.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { sqnrDb } from '../evaluate/metrics';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import { toModelInputs, type Sample } from '../runtime/samples';
import { seededRandom } from '../seeded-random';
import { dataDir, readSharedModel } from '../test-support/shared';
import { addBuffer, addTensor, newGraph, newOperator, newTensor, opcodeIndex } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { readModel } from '../tflite/read';
import {
  ActivationFunctionType,
  BuiltinOperator,
  BuiltinOptions,
  Conv2DOptionsT,
  DepthwiseConv2DOptionsT,
  Padding,
  TensorType,
} from '../tflite/schema/generated/tflite_generated';
import { writeModel } from '../tflite/write';
import { ABSORB_MARGIN, absorbHighBias, absorptionTensors, channelShiftsOf, SKIP } from './absorb';
import { measureChannelRanges } from './channel-maxima';
import { equalizeForQuantization } from './equalize-for-quantization';
import { asFloat32 } from './quantize/params';
import { dropUnused, foldConstantDequantize } from './quantize/fold-dequantize';
import { cloneGraph } from '../tflite/edit';
import { compareModels } from '../evaluate/compare';
import { dequantizeBytes, optimizeModel } from './pipeline';
import { defaultRecipe, type Recipe } from './recipe';

const bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** Weights with each output row's |w| summing to `total` (signs and shares seeded). */
function rows(outputs: number, inner: number, total: number, random: () => number): number[] {
  const w: number[] = [];
  for (let o = 0; o < outputs; o++) {
    const row = Array.from({ length: inner }, () => random() - 0.5);
    const sum = row.reduce((a, v) => a + Math.abs(v), 0);
    w.push(...row.map((v) => (v / sum) * total));
  }
  return w;
}

/**
 * input [1,6,6,3] in [-1, 1]
 *  A conv 1x1 3->4 RELU, biases 5, -0.5, -3, 2         -> a [1,6,6,4]   read by B (1x1): may shift
 *  B conv 1x1 4->4 RELU6, |Wx| <= 0.5, biases 1, 10, 2.4, -10 -> b      read by F (3x3 VALID): may shift
 *  F depthwise 3x3 VALID RELU6                          -> f [1,4,4,4]   read by C (3x3 SAME, pads)
 *  C depthwise 3x3 SAME RELU                            -> c [1,4,4,4]   read by D and E
 *  D conv 1x1 4->2 RELU                                 -> d, a model output
 *  E conv 1x1 4->3                                      -> e, a model output
 */
function handBuilt(): ModelGraph {
  const random = seededRandom(3);
  const graph = newGraph('absorption test model');
  const subgraph = graph.subgraphs[0];
  const tensor = (name: string, shape: number[], values?: number[]) =>
    addTensor(subgraph, newTensor({ name, type: TensorType.FLOAT32, shape, ...(values ? { buffer: addBuffer(graph, bytes(values)) } : {}) }));
  const conv = (x: number, name: string, w: number[], wShape: number[], bias: number[], out: number[], act: ActivationFunctionType) => {
    const options = new Conv2DOptionsT();
    options.padding = Padding.SAME;
    options.strideW = options.strideH = options.dilationWFactor = options.dilationHFactor = 1;
    options.fusedActivationFunction = act;
    const y = tensor(name, out);
    subgraph.operators.push(newOperator(opcodeIndex(graph, BuiltinOperator.CONV_2D), [x, tensor(`${name}/w`, wShape, w), tensor(`${name}/b`, [bias.length], bias)], [y], BuiltinOptions.Conv2DOptions, options));
    return y;
  };
  const depthwise = (x: number, name: string, padding: Padding, bias: number[], out: number[], act: ActivationFunctionType) => {
    const options = new DepthwiseConv2DOptionsT(padding, 1, 1, 1, act, 1, 1);
    const w = Array.from({ length: 9 * 4 }, () => (random() - 0.3) * 0.2);
    const y = tensor(name, out);
    subgraph.operators.push(newOperator(opcodeIndex(graph, BuiltinOperator.DEPTHWISE_CONV_2D), [x, tensor(`${name}/w`, [1, 3, 3, 4], w), tensor(`${name}/b`, [4], bias)], [y], BuiltinOptions.DepthwiseConv2DOptions, options));
    return y;
  };
  const input = tensor('input', [1, 6, 6, 3]);
  subgraph.inputs.push(input);
  const a = conv(input, 'a', rows(4, 3, 1, random), [4, 1, 1, 3], [5, -0.5, -3, 2], [1, 6, 6, 4], ActivationFunctionType.RELU);
  // a's values stay within [0, 6]: |Wx| <= 6 / 12 = 0.5.
  const b = conv(a, 'b', rows(4, 4, 1 / 12, random), [4, 1, 1, 4], [1, 10, 2.4, -10], [1, 6, 6, 4], ActivationFunctionType.RELU6);
  const f = depthwise(b, 'f', Padding.VALID, [1, 1, 1, 1], [1, 4, 4, 4], ActivationFunctionType.RELU6);
  const c = depthwise(f, 'c', Padding.SAME, [1, 1, 1, 1], [1, 4, 4, 4], ActivationFunctionType.RELU);
  const d = conv(c, 'd', rows(2, 4, 1, random), [2, 1, 1, 4], [0.5, 0.5], [1, 4, 4, 2], ActivationFunctionType.RELU);
  const e = conv(c, 'e', rows(3, 4, 1, random), [3, 1, 1, 4], [0, 0, 0], [1, 4, 4, 3], ActivationFunctionType.NONE);
  subgraph.outputs.push(d, e);
  return graph;
}

const randomSamples = (count: number, seed: number): Sample[] => {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => [Float32Array.from({ length: 6 * 6 * 3 }, () => 2 * random() - 1)]);
};

/** All outputs of the model on the samples, concatenated per output. */
async function outputsOn(graph: ModelGraph, samples: Sample[]): Promise<Float32Array[]> {
  const model = await loadModel(writeModel(graph));
  try {
    const outputs: number[][] = [];
    for (const [i, sample] of samples.entries()) {
      (await model.run(toModelInputs(sample, model.inputs, i))).forEach((t, o) => (outputs[o] ??= []).push(...(t.data as Float32Array)));
    }
    return outputs.map((o) => Float32Array.from(o));
  } finally {
    model.delete();
  }
}

/** The absorbed float model computes what the original does: output SQNR above 60 dB on each part of the samples. */
async function expectOutputsKept(original: ModelGraph, absorbed: ModelGraph, parts: Sample[][]): Promise<void> {
  for (const part of parts) {
    const want = await outputsOn(original, part);
    const got = await outputsOn(absorbed, part);
    const sqnr = sqnrDb(want[0], got[0]);
    console.log(`  float output SQNR against the original: ${sqnr.toFixed(1)} dB on ${part.length} images`);
    expect(sqnr).toBeGreaterThan(60);
  }
}

const biasOf = (graph: ModelGraph, name: string) => {
  const t = graph.subgraphs[0].tensors.find((x) => x.name === `${name}/b`)!;
  return asFloat32(graph.buffers[t.buffer].data);
};

describe('high-bias absorption on a hand-built model', () => {
  beforeAll(() => initRuntime());

  it('shifts the channels the biases keep above 0 and under the clip, counts every other cause, and keeps the outputs in LiteRT', async () => {
    const graph = handBuilt();
    const calibration = randomSamples(32, 1);
    const tensors = absorptionTensors(graph);
    const names = tensors.map((t) => graph.subgraphs[0].tensors[t].name);
    expect(names).toEqual(['a', 'b']);
    const ranges = await measureChannelRanges(graph, tensors, calibration);
    const result = absorbHighBias(graph, { channelRanges: ranges });
    const skipped = Object.fromEntries(result.skipped);
    expect(skipped).toEqual({
      [SKIP.lowerClip]: { pairs: 0, channels: 3 }, // a: biases -0.5 and -3; b: -10
      [SKIP.upperClip]: { pairs: 0, channels: 1 }, // b: bias 10, clipped at 6 everywhere (its minimum is 6 > 0)
      [SKIP.padding]: { pairs: 1, channels: 4 }, // f -> C, 3x3 SAME
      [SKIP.readers]: { pairs: 1, channels: 4 }, // c -> D and E
      [SKIP.output]: { pairs: 1, channels: 2 }, // d
    });
    expect(result.absorbed).toBe(4);
    expect(result.channels).toBe(18);
    // The shifts: minimum / margin where absorbed, 0 elsewhere; the clipped channel of b never moves.
    const [pa, pb] = result.pairs;
    const ra = ranges.get(pa.tensor)!;
    const rb = ranges.get(pb.tensor)!;
    expect(rb.max[1]).toBe(6);
    expect(rb.min[1]).toBe(6);
    expect([...pa.shifts]).toEqual([ra.min[0] / ABSORB_MARGIN, 0, 0, ra.min[3] / ABSORB_MARGIN]);
    expect([...pb.shifts]).toEqual([rb.min[0] / ABSORB_MARGIN, 0, rb.min[2] / ABSORB_MARGIN, 0]);
    expect(ra.min[0]).toBeGreaterThan(3.9);
    expect(biasOf(result.graph, 'a')[0]).toBeCloseTo(5 - ra.min[0] / ABSORB_MARGIN, 5);
    // b's bias, brute force: the original + W_b * (a's shifts) - its own shifts (the clipped channel 1: none of its own).
    const wb = (() => {
      const t = graph.subgraphs[0].tensors.find((x) => x.name === 'b/w')!;
      return asFloat32(graph.buffers[t.buffer].data);
    })();
    const original = [1, 10, 2.4, -10];
    for (let o = 0; o < 4; o++) {
      let want = original[o] - pb.shifts[o];
      for (let i = 0; i < 4; i++) want += wb[o * 4 + i] * pa.shifts[i];
      expect(biasOf(result.graph, 'b')[o]).toBeCloseTo(want, 5);
    }
    expect(result.notes.join('\n')).toMatch(/4 of 18 channel\(s\) shifted down .* in 2 layer pair\(s\)/);

    // Per layer, the shifted tensors read as error unless the comparison adds the shifts back.
    const layers = async (shifts?: Record<string, number[]>) =>
      (await compareModels(writeModel(graph), writeModel(result.graph), calibration.slice(0, 8), { perLayer: true, channelShifts: shifts })).perLayer!;
    const shifts = channelShiftsOf(result.graph, result.pairs);
    expect(Object.keys(shifts).sort()).toEqual(['a', 'b']);
    const undone = await layers(shifts);
    expect(undone.length).toBeGreaterThanOrEqual(6);
    for (const layer of undone) expect(layer.sqnrDb, layer.tensor).toBeGreaterThan(60);
    const raw = await layers();
    expect(raw.find((l) => l.tensor === 'a')!.sqnrDb).toBeLessThan(40);

    // Same function on the calibration inputs and on inputs it never saw.
    for (const samples of [calibration, randomSamples(16, 99)]) {
      const want = await outputsOn(graph, samples);
      const got = await outputsOn(result.graph, samples);
      want.forEach((w, o) => expect(sqnrDb(w, got[o]), `output ${o}`).toBeGreaterThan(60));
    }
  }, 60_000);

  it('a RELU6 channel moves only while its maximum times the clip margin stays <= 6: bias 2.4 (maximum in [2.4, 2.9]) moves at margin 2, not at 3', async () => {
    const graph = handBuilt();
    const ranges = await measureChannelRanges(graph, absorptionTensors(graph), randomSamples(32, 1));
    const held = absorbHighBias(graph, { channelRanges: ranges, clipMargin: 3 });
    expect(held.pairs[1].shifts[2]).toBe(0);
    expect(held.pairs[1].shifts[0]).toBeGreaterThan(0); // bias 1: maximum <= 1.5, 3 x 1.5 <= 6
    expect(held.skipped.get(SKIP.upperClip)!.channels).toBe(2); // b: biases 10 and 2.4
  }, 60_000);
});

describe('high-bias absorption in the pipeline', () => {
  beforeAll(() => initRuntime());

  it("runs for biasAbsorption 'on' (per-channel: CLE exact, then one measuring pass), not for 'auto' or with equalization off; the int8 model stays as close to the float one", async () => {
    const model = writeModel(handBuilt());
    const calibration = randomSamples(32, 1);
    const evaluation = randomSamples(16, 99);
    const run = async (patch: Partial<Recipe>) => {
      const result = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), rounding: 'nearest', ...patch }, calibration, skipCheck: true, allowFloatFallback: true });
      const compared = await compareModels(model, result.bytes, evaluation, { perLayer: true, channelScales: result.channelScales, channelShifts: result.channelShifts });
      const layerA = compared.perLayer!.find((l) => l.tensor === 'a')!.sqnrDb;
      return { notes: result.notes.filter((n) => n.startsWith('high-bias')).join('\n'), sqnr: Math.min(...compared.outputs.map((o) => o.sqnrDb)), shifts: result.channelShifts, layerA };
    };
    const on = await run({ biasAbsorption: 'on' });
    expect(on.notes).toMatch(/^high-bias absorption: 4 of 18 channel\(s\) shifted down .* minima from 32 calibration sample\(s\)/);
    // The result names what it shifted, so the per-layer comparison undoes it: tensor a (equalized and
    // shifted) compares as well as without absorption.
    expect(Object.keys(on.shifts ?? {}).sort()).toEqual(['a', 'b']);
    expect((await run({})).notes).toBe('');
    expect((await run({ biasAbsorption: 'on', equalize: 'off' })).notes).toBe('');
    const off = await run({ biasAbsorption: 'off' });
    console.log(`hand-built model, int8: output SQNR ${off.sqnr.toFixed(1)} dB without absorption, ${on.sqnr.toFixed(1)} dB with`);
    expect(on.sqnr).toBeGreaterThan(off.sqnr - 3);
    expect(on.layerA).toBeGreaterThan(off.layerA - 3);
    expect(off.shifts).toBeUndefined();
  }, 120_000);
});

describe('high-bias absorption on MobileNetV1 0.25', () => {
  let graph: ModelGraph;
  let calibration: Sample[];
  let unseen: Sample[];

  beforeAll(async () => {
    await initRuntime();
    graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'imagenet_val_subset')), graphInputs(graph), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
    });
    const samples = await Promise.all(Array.from({ length: 44 }, (_, i) => dataset.sample(i)));
    calibration = samples.slice(0, 32);
    unseen = samples.slice(32);
  }, 120_000);

  it.each(['measured', 'exact'] as const)('after CLE %s, the absorbed float model keeps the outputs above 60 dB on the calibration images and on 12 others', async (strategy) => {
    const step = await equalizeForQuantization(graph, calibration, { strategy, absorb: true });
    const absorption = step.absorption!;
    console.log(`MobileNetV1 0.25, CLE ${strategy} + absorption: ${step.notes.filter((n) => n.startsWith('high-bias')).join('; ')}`);
    expect(absorption.absorbed).toBeGreaterThan(0);
    // Every pointwise conv reads a 3x3 depthwise output; every depthwise (3x3 SAME, pads) reads a pointwise one.
    expect(absorption.skipped.get(SKIP.padding)!.pairs).toBe(13);
    await expectOutputsKept(graph, step.graph, [calibration, unseen]);
  }, 300_000);
});

describe('high-bias absorption on MobileNetV2 1.0 (dequantized ptq_int8)', () => {
  it('moves channels only where RELU6 never clipped them, and the float outputs stay above 60 dB on the calibration images and on 12 others', async () => {
    await initRuntime();
    const graph = readModel(dequantizeBytes(readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite')).bytes);
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'imagenet_val_subset')), graphInputs(graph), {
      preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
    });
    const samples = await Promise.all(Array.from({ length: 44 }, (_, i) => dataset.sample(i)));
    const calibration = samples.slice(0, 32);
    // Exact CLE changes nothing the float model computes: what moves is absorption alone.
    const step = await equalizeForQuantization(graph, calibration, { strategy: 'exact', absorb: true });
    const absorption = step.absorption!;
    console.log(`MobileNetV2, absorption: ${step.notes.filter((n) => n.startsWith('high-bias')).join('; ')}`);
    expect(absorption.absorbed).toBeGreaterThan(10);
    // Brute force over the measured ranges of the model the shifts were applied to: every shifted
    // channel's minimum was > 0 and its maximum under 3 (RELU6, clip margin 2).
    // (on the graph as equalizeForQuantization prepares it, so the tensor indices are the same).
    const folded = cloneGraph(graph);
    foldConstantDequantize(folded);
    dropUnused(folded);
    const ranges = await measureChannelRanges(folded, absorption.pairs.map((p) => p.tensor), calibration);
    for (const pair of absorption.pairs) {
      const r = ranges.get(pair.tensor)!;
      pair.shifts.forEach((c, i) => {
        if (c === 0) return;
        expect(r.min[i]).toBeGreaterThan(0);
        expect(2 * r.max[i]).toBeLessThanOrEqual(6);
        expect(c).toBeCloseTo(r.min[i] / ABSORB_MARGIN, 4);
      });
    }
    await expectOutputsKept(graph, step.graph, [calibration, samples.slice(32)]);
  }, 600_000);
});
