/**
 * QAT of int4 weights with learned steps (LSQ) from a PTQ W4A8 model, written back as W4A8 and run
 * in LiteRT (MNIST conv/FC model): the steps train, the written int4 tensors hold exactly the
 * integers and scales the training forward pass used (s * clamp(round(w / s), -8, 7) with the
 * learned s) and the learned activation steps, the written model computes in LiteRT what the float graph with those fake-quantized
 * weights computes (up to int8 activations), and steps that do not fit a weight are refused.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, subset, type Dataset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { initNodeEngine } from '../engine/backend-node';
import { compareModels } from '../evaluate/compare';
import { WorkbenchError } from '../errors';
import { dataDir, readSharedModel } from '../test-support/shared';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { writeModel } from '../tflite/write';
import { finetune, planTraining, type FinetuneResult } from './finetune';
import { optimizeModel } from './pipeline';
import { constantAsFloat32 } from './quantize/fold-dequantize';
import { dequantizeModel } from './quantize/dequantize-model';
import { unpackInt4 } from './quantize/int4';
import { defaultRecipe, type Recipe } from './recipe';

const model = readSharedModel('mnist_conv_fc_float.tflite');
/** Ops whose output takes its input's scale and zero point (TFLite's int8 spec). */
const SAME_SCALE = new Set(['AVERAGE_POOL_2D', 'MAX_POOL_2D', 'RESHAPE']);
const W4A8: Recipe = { ...defaultRecipe('int8'), weightBits: 4 };
let digits: Dataset;
let calibration: Float32Array[][];
let heldOut: Float32Array[][];
let start: ModelGraph;
let ptqSteps: Map<string, { bits: 4 | 8; scales: number[] }>;
let trained: FinetuneResult;
let written: Uint8Array;

beforeAll(async () => {
  await initNodeEngine();
  digits = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(model)));
  calibration = await Promise.all(Array.from({ length: 50 }, (_, i) => digits.sample(i)));
  heldOut = await Promise.all(Array.from({ length: 200 }, (_, i) => digits.sample(5000 + i)));
  const ptq = await optimizeModel({ model, recipe: W4A8, calibration });
  const ptqGraph = readModel(ptq.bytes);
  ptqSteps = new Map();
  for (const t of ptqGraph.subgraphs[0].tensors) if (t.type === TensorType.INT4 && t.quantization?.scale?.length) ptqSteps.set(t.name, { bits: 4, scales: t.quantization.scale.slice() });
  start = dequantizeModel(ptqGraph).graph;
  // 19 samples: none held out (splitSamples), so the last epoch's weights and steps come back.
  const train = subset(digits, Array.from({ length: 19 }, (_, i) => i));
  const unlabeled = { size: train.size, labels: new Array<null>(train.size).fill(null), sample: (i: number) => train.sample(i) };
  trained = await finetune(start, unlabeled, { mode: 'qat', teacher: readModel(model), learnedSteps: ptqSteps, epochs: 3, learningRate: 1e-3, batchSize: 8 });
  const int4Scales = new Map([...trained.learnedSteps!].map(([name, s]) => [name, s.scales]));
  written = (
    await optimizeModel({
      model: writeModel(trained.graph),
      recipe: { ...W4A8, equalize: 'off', rounding: 'nearest' },
      calibration,
      biasCorrection: false,
      int4Scales,
      activationRanges: trained.learnedActivationRanges,
    })
  ).bytes;
}, 600_000);

describe('QAT of int4 weights with learned steps', () => {
  it('starts from the PTQ model (its int4 weights dequantized) and trains the steps', () => {
    expect(trained.bestEpoch).toBe(3);
    expect(ptqSteps.size).toBeGreaterThan(0);
    expect(trained.plan.weights.filter((w) => w.fakeQuant?.learned && w.fakeQuant.bits === 4).length).toBe(ptqSteps.size);
    let moved = 0;
    for (const [name, { scales }] of trained.learnedSteps!) {
      const before = ptqSteps.get(name)!.scales;
      expect(scales.length).toBe(before.length);
      moved += scales.filter((s, c) => Math.abs(s - before[c]) > 1e-6 * before[c]).length;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('writes the integers and scales the training forward pass used', () => {
    const out = readModel(written);
    const latent = new Map(trained.graph.subgraphs[0].tensors.map((t, i) => [t.name, i]));
    let checked = 0;
    let ties = 0;
    for (const t of out.subgraphs[0].tensors) {
      if (t.type !== TensorType.INT4) continue;
      const learned = trained.learnedSteps!.get(t.name)!;
      expect(t.quantization!.scale).toEqual(learned.scales.map((s) => Math.fround(s)));
      const w = constantAsFloat32(trained.graph, 0, latent.get(t.name)!);
      const q = unpackInt4(out.buffers[t.buffer].data, w.length);
      const inner = w.length / learned.scales.length;
      for (let i = 0; i < w.length; i++) {
        const v = w[i] / learned.scales[Math.floor(i / inner)];
        const expected = Math.min(7, Math.max(-8, Math.round(v)));
        if (q[i] !== expected) {
          // Only a value on a rounding tie may go either way (tf.round is half-even).
          expect(Math.abs(Math.abs(v % 1) - 0.5)).toBeLessThan(1e-4);
          ties++;
        }
      }
      checked++;
    }
    expect(checked).toBe(ptqSteps.size);
    expect(ties).toBeLessThan(5);
  });

  it('computes in LiteRT what the float graph with the fake-quantized weights computes, up to int8 activations', async () => {
    // The QAT forward pass's weights, s * clamp(round(w / s)), in a float copy of the trained graph.
    const fq = cloneGraph(trained.graph);
    const subgraph = fq.subgraphs[0];
    for (const [name, { scales }] of trained.learnedSteps!) {
      const t = subgraph.tensors.findIndex((x) => x.name === name);
      const w = constantAsFloat32(fq, 0, t);
      const inner = w.length / scales.length;
      const out = w.map((x, i) => {
        const s = scales[Math.floor(i / inner)];
        return s * Math.min(7, Math.max(-8, Math.round(x / s)));
      });
      fq.buffers[subgraph.tensors[t].buffer] = { data: new Uint8Array(out.buffer) };
    }
    const withFakeQuant = await compareModels(writeModel(fq), written, heldOut);
    // Against the latent (unrounded) weights the int4 model is much further off.
    const withLatent = await compareModels(writeModel(trained.graph), written, heldOut);
    console.log(`written W4A8 vs float graph with fake-quantized weights: ${withFakeQuant.outputs[0].sqnrDb.toFixed(1)} dB; vs latent weights: ${withLatent.outputs[0].sqnrDb.toFixed(1)} dB`);
    expect(withFakeQuant.outputs[0].sqnrDb).toBeGreaterThan(Math.max(30, withLatent.outputs[0].sqnrDb + 10));
    expect(withFakeQuant.classification.agreement).toBeGreaterThan(0.97);
  });

  it('learns the activation steps too and writes them as the int8 activations\' scales and zero points', () => {
    expect(trained.learnedActivationRanges!.size).toBeGreaterThan(3);
    const out = readModel(written);
    const main = out.subgraphs[0];
    // Outputs of the weighted ops: their ranges are free (a RESHAPE or pooling output takes its input's).
    const weighted = new Set(
      main.operators.filter((op) => ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'].includes(opName(out, op))).map((op) => main.tensors[op.outputs[0]].name),
    );
    let checked = 0;
    let shared = 0;
    for (const t of main.tensors) {
      const learned = trained.learnedActivationRanges!.get(t.name);
      if (!learned || t.type !== TensorType.INT8 || !weighted.has(t.name)) continue;
      // A pooling or RESHAPE output shares its input's scale (TFLite), so QAT learns one step for both:
      // their learned ranges are the same numbers, and the written range is exactly that one.
      const index = main.tensors.indexOf(t);
      const r = learned;
      for (const op of main.operators) {
        if (op.inputs[0] !== index || !SAME_SCALE.has(opName(out, op))) continue;
        const next = trained.learnedActivationRanges!.get(main.tensors[op.outputs[0]].name);
        if (next) {
          expect(next).toEqual(learned);
          shared++;
        }
      }
      const step = (r.max - r.min) / 255;
      const zeroPoint = Math.round(-128 - r.min / step);
      expect(t.quantization!.scale![0]).toBeCloseTo(step, 7);
      expect(t.quantization!.zeroPoint![0]).toBe(zeroPoint);
      checked++;
    }
    expect(checked).toBe(weighted.size);
    expect(shared).toBeGreaterThan(0);
  });

  it('refuses steps that fit no channel axis of the weight', () => {
    const [name, steps] = [...ptqSteps][0];
    const wrong = new Map([[name, { bits: 4 as const, scales: [...steps.scales, 0.1] }]]);
    const data = { size: 4, labels: [null, null, null, null], sample: (i: number) => digits.sample(i) };
    expect(() => planTraining(start, data, { mode: 'qat', learnedSteps: wrong })).toThrow(WorkbenchError);
  });
});
