/**
 * The run-a-variant use case in Node, as the optimizer worker runs it for the page: a plain int8
 * variant and prune:0.5+int8 chains (one-shot, and fine-tuned) of the MNIST model, calibrated,
 * trained and evaluated on MNIST digits split by the split rule. Each result is checked in LiteRT against the float model on the held-out
 * digits, independently of the comparison inside the run.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelSample, type Dataset } from '../data/dataset';
import { filesFromPath } from '../data/files-node';
import { argmax } from '../evaluate/metrics';
import { parseReport } from '../evaluate/report';
import { defaultRecipe, recipeLabel } from '../optimize/recipe';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { initNodeEngine } from '../engine/backend-node';
import { dataDir, readSharedModel } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { summarizeModel } from '../tflite/summary';
import { reevaluateVariant } from './reevaluate-variant';
import { runVariant, type VariantSpec } from './run-variant';
import { Session } from './session';
import { datasetFingerprint, datasetName, evaluationKey } from './evaluation-set';
import { splitIndices } from './split';
import { trainingBadge } from './training-progress';
import { chainOf, defaultTraining } from './variant-chain';
import type { Split } from './worker-protocol';

const MODEL = 'mnist_conv_fc_float.tflite';
// Training (finetune variants) takes the calibration digits and 500 more; evaluation never sees them.
const SPLIT: Split = { calibration: 100, training: 500, evaluation: 400 };
const session = new Session();
let floatTop1: number;

/** Top-1 accuracy of a model (bytes) in LiteRT on these samples of the dataset. */
async function top1(bytes: Uint8Array, d: Dataset, indices: number[]): Promise<number> {
  const model = await loadModel(bytes);
  try {
    let right = 0;
    for (const i of indices) {
      const [output] = await model.run(await modelSample({ ...d, inputs: model.inputs } as Dataset, i));
      if (argmax(output.data) === d.labels[i]) right++;
    }
    return right / indices.length;
  } finally {
    model.delete();
  }
}

beforeAll(async () => {
  await initRuntime();
  session.openModel(readSharedModel(MODEL), MODEL);
  const d = await session.openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), null);
  expect(d.kind).toBe('idx');
  floatTop1 = await top1(readSharedModel(MODEL), d, splitIndices(d, SPLIT).evaluation);
  expect(floatTop1).toBeGreaterThan(0.9);
});

describe('runVariant', () => {
  it('splits MNIST into disjoint calibration and evaluation digits', () => {
    const { calibration, evaluation } = splitIndices(session.dataset!, SPLIT);
    expect(calibration).toHaveLength(100);
    expect(evaluation).toHaveLength(400);
    const calibrated = new Set(calibration);
    expect(evaluation.some((i) => calibrated.has(i))).toBe(false);
  });

  const int8 = defaultRecipe('int8');
  const prune = { sparsity: 0.5, structure: 'unstructured' as const };
  const cases: [string, VariantSpec, { lossy: boolean }][] = [
    ['int8', { recipe: int8 }, { lossy: false }],
    // One-shot pruning of half the weights costs this model ~16 points: the run must measure it and say so.
    ['prune:0.5+int8', { recipe: int8, chain: chainOf(int8, { prune }) }, { lossy: true }],
    ['prune:0.5+finetune+int8', { recipe: int8, chain: chainOf(int8, { prune, train: defaultTraining('finetune') }), training: { epochs: 3, batchSize: 16, learningRate: 1e-3 } }, { lossy: false }],
  ];
  it.each(cases)('%s: a model LiteRT runs, measured against the float model on held-out digits, with its report', async (name, spec, { lossy }) => {
    const stages = new Set<string>();
    const trainingPoints: number[] = [];
    const { result, report } = await runVariant({
      session,
      spec,
      split: SPLIT,
      target: 'integer',
      onProgress: (stage) => stages.add(stage),
      onTraining: (update) => trainingPoints.push(...update.points.map((p) => p.x)),
      initEngine: initNodeEngine,
      environment: { runtime: 'test' },
    });

    // It runs in LiteRT (seeded random inputs) and is an int8 model.
    const loaded = await loadModel(result.bytes);
    try {
      const [output] = await loaded.run(randomInputs(loaded, 1));
      expect(output.data.length).toBe(10);
    } finally {
      loaded.delete();
    }
    expect(summarizeModel(result.bytes).quantization).toBe('int8');
    const d = session.dataset!;
    const evaluation = splitIndices(d, SPLIT).evaluation;
    const variantTop1 = await top1(result.bytes, d, evaluation);
    // It says what it was measured on: this dataset (as read from these files), this split, these many digits.
    expect(result.evaluatedOn).toMatchObject({ dataset: datasetName(session.files!), samples: evaluation.length, random: false, split: { ...SPLIT } });
    expect(result.evaluatedOn!.fingerprint).toBe(datasetFingerprint(d, session.files!));
    expect(result.evaluatedOn!.key).toBe(evaluationKey(result.evaluatedOn!.fingerprint, SPLIT));
    expect(result.comparison.classification.count).toBe(evaluation.length);
    console.log(`${name}: top-1 ${(variantTop1 * 100).toFixed(1)}% vs float ${(floatTop1 * 100).toFixed(1)}% on ${evaluation.length} held-out digits`);
    if (lossy) {
      expect(floatTop1 - variantTop1).toBeGreaterThan(0.02);
      expect(result.notes.join('\n')).toMatch(/one-shot result loses much accuracy.*Fine-tuning recovers it/);
    } else {
      expect(Math.abs(variantTop1 - floatTop1)).toBeLessThanOrEqual(0.02);
    }
    expect(result.comparison.classification.accuracy?.candidate.top1).toBeCloseTo(variantTop1, 5);
    expect(result.comparison.classification.accuracy?.reference.top1).toBeCloseTo(floatTop1, 5);
    expect(result.randomInputs).toBe(false);
    expect([...stages]).toEqual(expect.arrayContaining(['calibrate', 'quantize', 'evaluate', 'latency']));

    // The report: one shape, the parts this run has.
    expect(report).toMatchObject({
      format: 'tflite-workbench/report',
      version: 2,
      model: { name: `mnist_conv_fc_float-${result.label}.tflite`, reference: MODEL },
      label: result.label,
      recipe: { technique: 'int8' },
      floatOps: [],
      metrics: { samples: 400, classification: { accuracy: { labeled: 400 } } },
      // Float I/O (the recipe's default) leaves QUANTIZE / DEQUANTIZE at the edges, which an integer-only target flags.
      target: { name: 'integer', issues: expect.arrayContaining([expect.objectContaining({ kind: 'float-op', opIndex: 0 })]) },
      environment: { runtime: 'test' },
    });
    expect(report.perLayer!.length).toBeGreaterThanOrEqual(5);
    expect(report.latency!.reference!.runs).toBe(20);
    expect(report.latency!.candidate!.medianMs).toBeGreaterThan(0);
    expect(report.sizes!.rawRatio).toBeLessThan(0.3);
    expect(Object.keys(report.timingsMs!).length).toBeGreaterThan(0);
    expect(parseReport(result.reportJson).label).toBe(result.label);
    expect(result.reportMarkdown).toMatch(/^# mnist_conv_fc_float-/);
    if (spec.chain) {
      expect(result.label).toBe(spec.chain.train ? 'prune0.5-finetune-int8' : 'prune0.5-int8');
      expect(report.chain).toMatchObject({ text: spec.chain.text, checks: { zerosLost: 0 } });
      expect(report.chain!.weights!.sparsity).toBeGreaterThan(0.45);
      expect(result.chain).toMatchObject({ text: spec.chain.text, checks: { zerosLost: 0 } });
    } else {
      expect(result.label).toBe('int8');
      expect(report.chain).toBeUndefined();
    }
    if (spec.chain?.train) {
      expect(result.training).toMatchObject({ mode: 'finetune', epochsPlanned: 3, epochsDone: 3, trainSamples: 600 });
      expect(trainingPoints.length).toBeGreaterThan(0);
      expect(report.chain!.trained!.history.length).toBeGreaterThan(0);
    } else {
      expect(result.training).toBeUndefined();
    }
  });

  it("QAT with int4 weights (the page's W4A8 variant with QAT): trains the PTQ model's int4 steps (LSQ) and says so in its badge", async () => {
    const w4a8 = { ...int8, weightBits: 4 as const };
    const chain = chainOf(w4a8, { train: { ...defaultTraining('qat'), epochs: 2 } })!;
    const trainingPoints: number[] = [];
    const { result } = await runVariant({
      session,
      spec: { recipe: w4a8, chain, training: { epochs: 2, batchSize: 16, learningRate: 1e-4 } },
      split: SPLIT,
      target: 'web',
      onProgress: () => {},
      onTraining: (update) => trainingPoints.push(...update.points.map((p) => p.x)),
      initEngine: initNodeEngine,
      environment: { runtime: 'test' },
    });
    expect(result.label).toBe(`qat-${recipeLabel(w4a8)}`);
    // The 32x1568 dense is int4; the conv and the 10-way dense, 392 of the 50,568 weights, stay int8 (recipe.ts SMALL_INT4_SHARE).
    expect(result.training).toMatchObject({ mode: 'qat', epochsPlanned: 2, trainSamples: 600, lsq: { int4Tensors: 1 } });
    expect(trainingBadge(result.training!)).toMatch(/^QAT LSQ int4: \d\/2 epochs, best epoch \d, cross-entropy/);
    expect(trainingPoints.length).toBeGreaterThan(0);
    // The file holds int4 conv / FC weights, and LiteRT on the held-out digits gives what the run measured.
    expect(readModel(result.bytes).subgraphs[0].tensors.filter((t) => t.type === TensorType.INT4).map((t) => t.shape.join('x'))).toEqual(['32x1568']);
    const evaluation = splitIndices(session.dataset!, SPLIT).evaluation;
    const variantTop1 = await top1(result.bytes, session.dataset!, evaluation);
    console.log(`qat W4A8 (${result.training!.lsq!.kept} kept): top-1 ${(variantTop1 * 100).toFixed(1)}% vs float ${(floatTop1 * 100).toFixed(1)}% on ${evaluation.length} held-out digits`);
    expect(result.comparison.classification.accuracy?.candidate.top1).toBeCloseTo(variantTop1, 5);
    expect(Math.abs(variantTop1 - floatTop1)).toBeLessThanOrEqual(0.02);
  });

  it('re-evaluates a finished variant on other samples: the same bytes, measured again, not optimized again', async () => {
    const { result } = await runVariant({ session, spec: { recipe: int8 }, split: SPLIT, target: 'web', onProgress: () => {}, initEngine: initNodeEngine, environment: { runtime: 'test' } });
    // Another split of the data: other evaluation digits (e.g. the user asked for 1,000 of them).
    const other: Split = { calibration: 100, training: 0, evaluation: 1000 };
    const stages = new Set<string>();
    const again = await reevaluateVariant({ session, previous: result, split: other, onProgress: (stage) => stages.add(stage), environment: { runtime: 'test' } });
    const evaluation = splitIndices(session.dataset!, other).evaluation;
    expect(evaluation).toHaveLength(1000);
    expect(again.bytes).toBe(result.bytes);
    expect([...stages]).toEqual(['evaluate']);
    expect(again.evaluatedOn).toMatchObject({ samples: 1000, split: other, key: evaluationKey(result.evaluatedOn!.fingerprint, other) });
    expect(again.evaluatedOn!.key).not.toBe(result.evaluatedOn!.key);
    // The dense layer cross-layer equalization rescales (its 32 channels divided by s_i): the result
    // keeps the factors and both runs compare that layer with them (without: ~14 dB whatever the precision).
    const dense = 'sequential/dense/MatMul;sequential/dense/Relu;sequential/dense/BiasAdd';
    expect(result.channelScales?.[dense]).toHaveLength(32);
    for (const run of [result, again]) {
      const layer = run.comparison.perLayer!.find((l) => l.referenceTensor === dense)!;
      console.log(`int8 dense ReLU layer, ${run.evaluatedOn!.samples} digits: ${layer.sqnrDb.toFixed(1)} dB`);
      expect(layer.sqnrDb).toBeGreaterThan(25);
    }
    // Independent: the same bytes run in LiteRT on those 1,000 digits.
    const expected = await top1(result.bytes, session.dataset!, evaluation);
    const floatExpected = await top1(readSharedModel(MODEL), session.dataset!, evaluation);
    console.log(`re-evaluated int8: top-1 ${(again.comparison.classification.accuracy!.candidate.top1 * 100).toFixed(1)}% on 1000 digits (LiteRT alone: ${(expected * 100).toFixed(1)}%), was ${(result.comparison.classification.accuracy!.candidate.top1 * 100).toFixed(1)}% on 400`);
    expect(again.comparison.classification.accuracy).toMatchObject({ labeled: 1000 });
    expect(again.comparison.classification.accuracy!.candidate.top1).toBeCloseTo(expected, 6);
    expect(again.comparison.classification.accuracy!.reference.top1).toBeCloseTo(floatExpected, 6);
    // What does not depend on the data is the earlier run's, and the report says it was re-evaluated.
    expect(again.latency).toEqual(result.latency);
    expect(again.sizes).toEqual(result.sizes);
    const report = parseReport(again.reportJson);
    expect(report.metrics!.samples).toBe(1000);
    expect(report.notes!.filter((n) => n.startsWith('Re-evaluated on '))).toHaveLength(1);
    expect(again.reportMarkdown).toMatch(/Re-evaluated on .*\(1000 samples\)/);
  });
});
