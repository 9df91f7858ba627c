/**
 * The chain qat+int8 with int4 weights (W4A8) on the MNIST conv/FC model, run in LiteRT: it starts
 * from the W4A8 PTQ model (the same model plain W4A8 writes), learns the int4 steps, writes the conv /
 * FC weights as INT4 with the learned scales, and agrees with the float model on digits it never saw
 * at least as well as the PTQ model (less a small tolerance). A training that diverges keeps the PTQ
 * model, byte for byte.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainingBadge } from '../app/training-progress';
import { openDataset, type Dataset } from '../data/dataset';
import { graphInputs } from '../data/default-preprocessing';
import { filesFromPath } from '../data/files-node';
import { initNodeEngine } from '../engine/backend-node';
import { compareModels, type ComparisonResult } from '../evaluate/compare';
import { WorkbenchError } from '../errors';
import { dataDir, readSharedModel } from '../test-support/shared';
import { opName } from '../tflite/ops';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { parseChain, runChain, type ChainResult } from './chain';
import { int4ScalesOf } from './chain-qat-int4';
import type { TrainingData } from './finetune';
import { optimizeModel, type OptimizeResult } from './pipeline';
import { defaultRecipe, type Recipe } from './recipe';

const model = readSharedModel('mnist_conv_fc_float.tflite');
// Every conv / FC int4: by default this model's conv and 10-way dense (392 of 50,568 weights) stay int8, which leaves one int4 tensor to train.
const W4A8: Recipe = { ...defaultRecipe('int8'), weightBits: 4, smallInt4Layers: 'int4' };
const CALIBRATION = 50;
let digits: Dataset;
let calibration: Float32Array[][];
let heldOut: Float32Array[][];
let heldOutLabels: number[];
let train: TrainingData;
let ptq: OptimizeResult;
let ptqVsFloat: ComparisonResult;

/** The calibration digits as a one-shot stream, as the CLI and the page pass them. */
async function* stream(): AsyncGenerator<Float32Array[]> {
  for (const sample of calibration) yield sample;
}

const chain = () => parseChain('qat+int8', { recipeFor: () => W4A8 });

beforeAll(async () => {
  await initNodeEngine();
  digits = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(model)));
  calibration = await Promise.all(Array.from({ length: CALIBRATION }, (_, i) => digits.sample(i)));
  heldOut = await Promise.all(Array.from({ length: 1000 }, (_, i) => digits.sample(5000 + i)));
  heldOutLabels = Array.from({ length: 1000 }, (_, i) => digits.labels[5000 + i] as number);
  // 300 digits without labels (distillation from the float model, as bench:qat-int4): 255 train, 45 pick the epoch.
  train = { size: 300, labels: new Array<null>(300).fill(null), sample: (i) => digits.sample(i) };
  ptq = await optimizeModel({ model, recipe: W4A8, calibration });
  ptqVsFloat = await compareModels(model, ptq.bytes, heldOut, { labels: heldOutLabels });
}, 600_000);

describe('qat+int8 with int4 weights: LSQ from the W4A8 PTQ model', () => {
  let result: ChainResult;
  let vsFloat: ComparisonResult;
  beforeAll(async () => {
    result = await runChain({ model, chain: chain(), calibration: stream(), calibrationCount: CALIBRATION, training: { data: train, options: { epochs: 3, learningRate: 1e-4, batchSize: 16 } } });
    vsFloat = await compareModels(model, result.bytes, heldOut, { labels: heldOutLabels });
  }, 900_000);

  it('writes the conv and FC weights as INT4 with the learned steps, and the model runs in LiteRT', () => {
    const out = readModel(result.bytes);
    const main = out.subgraphs[0];
    const weighted = main.operators.filter((op) => ['CONV_2D', 'FULLY_CONNECTED'].includes(opName(out, op)));
    expect(weighted.length).toBeGreaterThan(1);
    for (const op of weighted) expect(main.tensors[op.inputs[1]].type).toBe(TensorType.INT4);
    expect(result.lsq).toEqual({ int4Tensors: weighted.length, kept: 'qat' });
    // The steps moved from the PTQ model's scales (the start) and the file holds the learned ones.
    const start = int4ScalesOf(readModel(ptq.bytes));
    const written = int4ScalesOf(out);
    expect([...written.keys()].sort()).toEqual([...start.keys()].sort());
    let moved = 0;
    for (const [name, { scales }] of written) {
      expect(scales).toEqual(result.trained!.learnedSteps!.get(name)!.scales.map((s) => Math.fround(s)));
      moved += scales.filter((s, c) => Math.abs(s - start.get(name)!.scales[c]) > 1e-4 * s).length;
    }
    expect(moved).toBeGreaterThan(0);
    // compareModels ran it in LiteRT on 1000 digits.
    expect(vsFloat.samples).toBe(1000);
  });

  it('agrees with the float model at least as well as the W4A8 PTQ model it started from', () => {
    const a = vsFloat.classification;
    const b = ptqVsFloat.classification;
    console.log(
      `MNIST W4A8 on 1000 unseen digits: agreement with float PTQ ${(100 * b.agreement).toFixed(1)}% -> QAT ${(100 * a.agreement).toFixed(1)}%; ` +
        `top-1 float ${(100 * a.accuracy!.reference.top1).toFixed(1)}%, PTQ ${(100 * b.accuracy!.candidate.top1).toFixed(1)}%, QAT ${(100 * a.accuracy!.candidate.top1).toFixed(1)}%; ` +
        `SQNR PTQ ${ptqVsFloat.outputs[0].sqnrDb.toFixed(1)} dB, QAT ${vsFloat.outputs[0].sqnrDb.toFixed(1)} dB; kept epoch ${result.trained!.bestEpoch}`,
    );
    // W4A8 PTQ already agrees with float on ~99.8% of the digits: little to recover, so a tolerance
    // of five digits in 1000 (45 held-out digits pick the epoch) and 1 dB on the output SQNR.
    expect(a.agreement).toBeGreaterThanOrEqual(b.agreement - 0.005);
    expect(a.accuracy!.candidate.top1).toBeGreaterThanOrEqual(b.accuracy!.candidate.top1 - 0.005);
    expect(vsFloat.outputs[0].sqnrDb).toBeGreaterThan(ptqVsFloat.outputs[0].sqnrDb - 1);
  });

  it('says what it did: PTQ start, learned steps, the validation loss and the kept epoch', () => {
    expect(result.trained!.bestEpoch).toBeGreaterThan(0);
    expect(result.notes.some((n) => /^PTQ start: weights rounded by gptq/.test(n))).toBe(true);
    expect(result.notes.some((n) => /QAT \(LSQ int4\) from the W4A8 PTQ model: \d+ int4 weight tensor\(s\) with learned steps; validation loss [\d.]+ before training -> [\d.]+ at the kept epoch \d/.test(n))).toBe(true);
    expect(result.quantized!.plan!.weightRounding).toBe('nearest');
  });
});

describe('qat+int8 with int4 weights that does not beat PTQ', () => {
  it('keeps the PTQ model (the bytes plain W4A8 writes) and says so', async () => {
    // A learning rate far too high: the loss diverges (or turns NaN) from the first steps, so epoch 0 is kept.
    const result = await runChain({ model, chain: chain(), calibration: stream(), calibrationCount: CALIBRATION, training: { data: train, options: { epochs: 1, learningRate: 0.9, batchSize: 16 } } });
    expect(result.trained!.bestEpoch).toBe(0);
    expect(result.lsq!.kept).toBe('ptq');
    expect(result.bytes).toEqual(ptq.bytes);
    expect(result.notes.some((n) => /did not beat the W4A8 PTQ model on the held-out split .*: the PTQ model is kept/.test(n))).toBe(true);
    expect(trainingBadge({ mode: 'qat', loss: result.trained!.loss, epochsPlanned: 1, epochsDone: 1, bestEpoch: 0, batchSize: 16, learningRate: 0.9, trainSamples: 300, elapsedMs: 1, backend: 'wasm', peakHeapBytes: null, lsq: result.lsq })).toBe(
      'QAT LSQ int4: 1/1 epoch, best epoch 0, distillation · no gain over PTQ on validation: PTQ model kept',
    );
  }, 900_000);

  it('refuses int4 QAT after prune or cluster, whose zeros and centroids the PTQ start would move', () => {
    expect(() => parseChain('prune:0.5+qat+int8', { recipeFor: () => W4A8 })).toThrow(WorkbenchError);
    expect(() => parseChain('prune:0.5+qat+int8', { recipeFor: () => W4A8 })).toThrow(/starts from the W4A8 post-training model/);
    expect(() => parseChain('prune:0.5+qat+int8', { recipeFor: () => defaultRecipe('int8') })).not.toThrow();
  });
});
