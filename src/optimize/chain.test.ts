/**
 * Pruning, clustering and chains on the shared float models, checked in the real LiteRT runtime:
 * sparsity and gzip sizes, zeros kept through int8, at most k values per tensor (or channel)
 * through int8 and float16, 2:4 blocks, and clear errors for bad input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { modelSize } from '../tflite/size';
import { readSharedModel, seededRandom } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { parseChain, runChain, type ChainResult } from './chain';
import { clusterModel } from './cluster';
import { pruneModel } from './prune';
import { weightReport, weightsByName } from './sparsity-report';

const MOBILENET = 'mobilenet_v1_0.25_224_float.tflite';
const mobilenet = readSharedModel(MOBILENET);

/** A few seeded random float samples shaped like the model's inputs (calibration for int8 chains). */
function randomSamples(bytes: Uint8Array, count: number): Float32Array[][] {
  const graph = readModel(bytes);
  const sub = graph.subgraphs[0];
  const random = seededRandom(5);
  return Array.from({ length: count }, () =>
    sub.inputs.map((t) => Float32Array.from({ length: sub.tensors[t].shape.reduce((n, d) => n * Math.max(d, 1), 1) }, () => random() * 2 - 1)),
  );
}

async function chainOn(model: Uint8Array, text: string): Promise<ChainResult> {
  return runChain({ model, chain: parseChain(text), calibration: randomSamples(model, 3), calibrationCount: 3 });
}

beforeAll(async () => {
  await initRuntime();
});

/** Zeros / elements over the named weight tensors of a chain's result. */
function sparsityOf(result: ChainResult, names: string[]): number {
  const weights = result.report.weights.filter((w) => names.includes(w.name));
  expect(weights.length).toBe(names.length);
  return weights.reduce((n, w) => n + w.zeros, 0) / weights.reduce((n, w) => n + w.elements, 0);
}

const CHAINS = ['prune:0.5+int8', 'cluster:16+int8', 'prune:0.5+cluster:16+int8', 'cluster:32+float16', 'prune:0.5:2of4+dynamic', 'cluster:8:per-channel+weight-int8'];

describe('chains on the shared float models load and run in LiteRT', () => {
  for (const name of [MOBILENET, 'mnist_conv_fc_float.tflite', 'resnet8_cifar10_float.tflite', 'vww_96_float.tflite', 'ad01_toycar_autoencoder_float.tflite']) {
    it(name, async () => {
      const model = readSharedModel(name);
      for (const text of CHAINS) {
        const result = await chainOn(model, text); // optimizeModel loads and runs the result once
        const loaded = await loadModel(result.bytes);
        const outputs = await loaded.run(randomInputs(loaded, 2));
        loaded.delete();
        expect(outputs.length, text).toBeGreaterThan(0);
        if (result.checks.zerosLost !== undefined) expect(result.checks.zerosLost, text).toBe(0);
        if (result.checks.clusterViolations !== undefined) expect(result.checks.clusterViolations, text).toBe(0);
      }
    });
  }
});

describe('prune:0.5 on mobilenet_v1_0.25_224_float', () => {
  let pruned: ChainResult;
  let int8: ChainResult;
  beforeAll(async () => {
    pruned = await chainOn(mobilenet, 'prune:0.5');
    int8 = await chainOn(mobilenet, 'prune:0.5+int8');
  });

  it('reaches sparsity >= 0.5 in every prunable weight and gzips to <= 0.6x the float model', () => {
    expect(pruned.pruned!.tensors.length).toBe(15); // every CONV_2D (depthwise is out of the default scope)
    for (const t of pruned.pruned!.tensors) expect(t.sparsity).toBeGreaterThanOrEqual(0.5);
    expect(pruned.pruned!.sparsity).toBeGreaterThanOrEqual(0.5);
    expect(Math.abs(pruned.report.rawRatio! - 1)).toBeLessThan(0.001); // the raw size does not change
    expect(pruned.report.gzipRatio!).toBeLessThanOrEqual(0.6);
    expect(modelSize(pruned.bytes).gzipBytes / modelSize(mobilenet).gzipBytes).toBeCloseTo(pruned.report.gzipRatio!, 6);
  });

  it('keeps every zero in the int8 weights (zero masks compared tensor by tensor)', () => {
    const floatWeights = weightsByName(readModel(pruned.bytes));
    const int8Graph = readModel(int8.bytes);
    const int8Weights = weightsByName(int8Graph);
    let compared = 0;
    for (const [name, values] of floatWeights) {
      const q = int8Weights.get(name)!;
      expect(q, name).toBeDefined();
      const tensor = int8Graph.subgraphs[0].tensors.find((t) => t.name === name && t.buffer > 0)!;
      expect(tensor.type).toBe(TensorType.INT8);
      for (let i = 0; i < values.length; i++) if (values[i] === 0 && q[i] !== 0) throw new Error(`${name}[${i}] lost its zero`);
      compared += values.length;
    }
    expect(compared).toBeGreaterThan(400_000);
    expect(int8.checks.zerosLost).toBe(0);
    expect(sparsityOf(int8, pruned.pruned!.tensors.map((t) => t.name))).toBeGreaterThanOrEqual(0.5);
  });

  it('2:4 leaves 2 zeros in every block of 4 along the input channels; global uses one threshold', () => {
    const graph = readModel(mobilenet);
    const result = pruneModel(graph, { sparsity: 0.5, structure: '2of4', opTypes: ['CONV_2D', 'FULLY_CONNECTED'] });
    const weights = weightsByName(result.graph);
    for (const t of result.tensors) {
      const values = weights.get(t.name)!;
      const row = t.shape[t.shape.length - 1];
      for (let r = 0; r < values.length / row; r++) {
        for (let b = 0; b + 4 <= row; b += 4) {
          let zeros = 0;
          for (let i = 0; i < 4; i++) if (values[r * row + b + i] === 0) zeros++;
          expect(zeros).toBeGreaterThanOrEqual(2);
        }
      }
    }
    const global = pruneModel(graph, { sparsity: 0.6, threshold: 'global' });
    expect(new Set(global.tensors.map((t) => t.threshold)).size).toBe(1);
    expect(global.sparsity).toBeGreaterThanOrEqual(0.6);
    expect(global.sparsity).toBeLessThan(0.6001);
    const scoped = pruneModel(graph, { sparsity: 0.5, keepFirstConv: true, keepLastFc: true, minElements: 1000 });
    expect(scoped.tensors.some((t) => t.name.includes('Conv2d_0/'))).toBe(false);
    expect(scoped.tensors.every((t) => t.elements >= 1000)).toBe(true);
    const mnist = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const fcs = pruneModel(mnist, { sparsity: 0.5 }).tensors.filter((t) => t.op === 'FULLY_CONNECTED');
    const kept = pruneModel(mnist, { sparsity: 0.5, keepLastFc: true }).tensors.filter((t) => t.op === 'FULLY_CONNECTED');
    expect(kept.length).toBe(fcs.length - 1);
    expect(kept.map((t) => t.name)).toEqual(fcs.slice(0, -1).map((t) => t.name));
  });
});

describe('cluster:32 on mobilenet_v1_0.25_224_float', () => {
  it('gzips to <= 0.32x the float model; after int8 <= 32 distinct int8 values per clustered tensor', async () => {
    const clustered = await chainOn(mobilenet, 'cluster:32');
    // mobilenet_v1's classifier is a 1x1 CONV_2D: its 15 CONV_2D weights are all the CONV_2D + FULLY_CONNECTED weights
    expect(clustered.clustered!.tensors.length).toBe(15);
    expect(new Set(clustered.clustered!.tensors.map((t) => t.op))).toEqual(new Set(['CONV_2D']));
    expect(clustered.report.gzipRatio!).toBeLessThanOrEqual(0.32);
    const int8 = await chainOn(mobilenet, 'cluster:32+int8');
    const report = weightReport(int8.bytes);
    const names = new Set(clustered.clustered!.tensors.map((t) => t.name));
    const int8Clustered = report.weights.filter((w) => names.has(w.name));
    expect(int8Clustered.length).toBe(15);
    for (const w of int8Clustered) {
      expect(w.dtype).toBe('INT8');
      expect(w.distinct, w.name).toBeLessThanOrEqual(32);
    }
    expect(int8.report.gzipRatio!).toBeLessThan(clustered.report.gzipRatio!);
  });

  it('per-channel clusters stay <= k per channel through per-channel int8; float16 keeps the centroids distinct', async () => {
    const int8 = await chainOn(mobilenet, 'cluster:16:per-channel+int8');
    for (const t of int8.clustered!.tensors) expect(t.maxDistinct).toBeLessThanOrEqual(16);
    const names = new Set(int8.clustered!.tensors.map((t) => t.name));
    const weights = weightReport(int8.bytes).weights.filter((w) => names.has(w.name));
    expect(weights.length).toBe(15);
    for (const w of weights) expect(w.maxDistinctPerChannel, w.name).toBeLessThanOrEqual(16);
    expect(Math.max(...weights.map((w) => w.distinct))).toBeGreaterThan(16); // per-channel scales, so more per tensor

    const graph = readModel(mobilenet);
    const clustered = weightsByName(clusterModel(graph, { clusters: 32 }).graph);
    const half = await chainOn(mobilenet, 'cluster:32+float16');
    const halfWeights = weightsByName(readModel(half.bytes));
    for (const t of half.clustered!.tensors) {
      expect(new Set(halfWeights.get(t.name)!).size, t.name).toBe(new Set(clustered.get(t.name)!).size);
    }
  });

  it('cluster-preserving parameters go to the clustered tensors only (one scale each); the rest keep per-channel scales', async () => {
    const result = await chainOn(mobilenet, 'cluster:256+int8');
    const graph = readModel(result.bytes);
    const names = new Set(result.clustered!.tensors.map((t) => t.name));
    let depthwise = 0;
    for (const w of result.report.weights) {
      const q = graph.subgraphs[0].tensors[w.tensor].quantization!;
      if (names.has(w.name)) expect(q.scale!.length, w.name).toBe(1);
      else {
        // depthwise filters as small as 72 values (<= 256 distinct) were not clustered: default per-channel
        expect(q.scale!.length, w.name).toBe(w.shape[3]);
        depthwise++;
      }
    }
    expect(depthwise).toBe(13);
  });

  it('prune then cluster keeps the zeros as an exact cluster', async () => {
    const result = await chainOn(mobilenet, 'prune:0.5+cluster:16+int8');
    expect(result.checks).toEqual({ zerosLost: 0, maxDistinctClustered: expect.any(Number), clusterViolations: 0 });
    expect(result.checks.maxDistinctClustered!).toBeLessThanOrEqual(16);
    expect(sparsityOf(result, result.pruned!.tensors.map((t) => t.name))).toBeGreaterThanOrEqual(0.5);
  });
});

describe('a float16 starting model', () => {
  it('is read back as float32, pruned, and stored as float16 again with its zeros', async () => {
    const model = readSharedModel('selfie_segmentation_fp16.tflite');
    const result = await runChain({ model, chain: parseChain('prune:0.5+float16') });
    expect(result.checks.zerosLost).toBe(0);
    expect(result.pruned!.sparsity).toBeGreaterThanOrEqual(0.5);
    expect(result.report.weights.every((w) => w.dtype === 'FLOAT16')).toBe(true);
    expect(result.notes.join('\n')).toMatch(/float16 weights were read back as float32/);
  });
});

describe('bad input', () => {
  const badInput = (fn: () => unknown, message: RegExp) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(WorkbenchError);
      expect((error as WorkbenchError).code).toBe('bad-input');
      expect((error as Error).message).toMatch(message);
      return;
    }
    throw new Error('expected a bad-input error');
  };
  it('names what is wrong', async () => {
    badInput(() => parseChain('prune:1+int8'), /sparsity must be in \[0, 1\)/);
    badInput(() => parseChain('prune:-0.1'), /sparsity must be in \[0, 1\)/);
    badInput(() => parseChain('prune:abc'), /must be a number/);
    badInput(() => parseChain('prune:0.3:2of4'), /2:4/);
    badInput(() => parseChain('cluster:1+int8'), /k >= 2/);
    badInput(() => parseChain('cluster:2.5'), /k >= 2/);
    badInput(() => parseChain('int8+prune:0.5'), /"prune" after "int8".*put it first/);
    badInput(() => parseChain('float16+cluster:16'), /"cluster" after "float16"/);
    badInput(() => parseChain('cluster:16+prune:0.5'), /prune first/);
    badInput(() => parseChain('prune:0.5+int8+dynamic'), /two quantization steps/);
    badInput(() => parseChain('prune:0.5+sharpen'), /unknown step "sharpen"/);
    badInput(() => parseChain('prune:0.5++int8'), /empty/);
    badInput(() => parseChain('cluster:16:fancy'), /unknown cluster option "fancy"/);
    expect(parseChain('cluster:32:kmeans++:per-channel+int8').cluster).toMatchObject({ clusters: 32, init: 'kmeans++', algorithm: 'lloyd', perChannel: true });
    expect(parseChain('cluster:16:kmeans+++int8').quantize?.technique).toBe('int8');
    badInput(() => pruneModel(readModel(mobilenet), { sparsity: 1 }), /\[0, 1\)/);
    badInput(() => clusterModel(readModel(mobilenet), { clusters: 300_000 }), /at most 65536|above the weight count/);
    badInput(() => clusterModel(readModel(mobilenet), { clusters: 5000, perChannel: true }), /above the weight count of every channel/);
    badInput(() => clusterModel(readModel(readSharedModel('mnist_conv_fc_float.tflite')), { clusters: 60000 }), /above the weight count/);
    await expect(runChain({ model: readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite'), chain: parseChain('prune:0.5') })).rejects.toThrow(/float weights.*uint8/);
  });
});
