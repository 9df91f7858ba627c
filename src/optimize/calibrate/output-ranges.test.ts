/**
 * output-mse ranges: against a brute-force evaluation of ||(X - Q(X)) Wq^T||^2 on synthetic rows
 * (the real int8 grid of activationParams, every row), and on MNIST in LiteRT against minmax.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, randomIndices } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import { compareModels } from '../../evaluate/compare';
import { initRuntime } from '../../runtime/start';
import { dataDir, readSharedModel, seededRandom } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { optimizeModel } from '../pipeline';
import { activationParams, symmetricWeightParams } from '../quantize/params';
import type { TensorRange } from '../quantize/ranges';
import { defaultRecipe, type CalibrationAlgorithm } from '../recipe';
import type { LayerRows } from '../rounding/problem';
import { consumerError, ownError, outputError, searchRange } from './output-ranges';
import { rangeOf } from './ranges';
import { accumulate, newTensorStats, occupiedBins } from './statistics/histogram';

/** x -> the int8 (or symmetric int16) grid activationParams builds for the range, and back. */
function fakeQuant(x: number, range: TensorRange, bits: 8 | 16 = 8): number {
  const { scale, zeroPoint } = activationParams(range.min, range.max, bits);
  const [lo, hi] = bits === 8 ? [-128, 127] : [-32767, 32767];
  const q = Math.min(hi, Math.max(lo, Math.round(x / scale[0]) + zeroPoint[0]));
  return scale[0] * (q - zeroPoint[0]);
}

/** Weights rounded to nearest for their per-channel scales (what the error model multiplies by). */
function quantizedWeights(w: Float32Array, shape: number[], axis: number): Float32Array {
  const { scale } = symmetricWeightParams(w, shape, axis, true);
  const channels = shape[axis];
  return w.map((v, i) => {
    const s = scale[axis === 0 ? Math.floor(i / (w.length / channels)) : i % channels];
    return s * Math.max(-127, Math.min(127, Math.round(v / s)));
  });
}

/** Brute force: sum over rows of ||(x - Q(x)) Wq^T||^2 / rows, dense W [O, k]. */
function denseError(rows: Float32Array, k: number, wq: Float32Array, outputs: number, range: TensorRange, bits: 8 | 16 = 8): number {
  const n = rows.length / k;
  let total = 0;
  const e = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) e[j] = rows[r * k + j] - fakeQuant(rows[r * k + j], range, bits);
    for (let o = 0; o < outputs; o++) {
      let y = 0;
      for (let j = 0; j < k; j++) y += e[j] * wq[o * k + j];
      total += y * y;
    }
  }
  return total / n;
}

function statsOf(values: Float32Array) {
  const stats = newTensorStats(0, 1, 'x');
  accumulate(stats, values);
  return stats;
}

describe('output-mse ranges (synthetic, brute force)', () => {
  // 8 input channels: channel 0 an outlier channel (exponential, mean 8) the weights ignore,
  // channels 1..7 post-ReLU values of scale ~1 the weights read.
  const k = 8;
  const outputs = 6;
  const n = 3000;
  const random = seededRandom(7);
  const rows = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    rows[r * k] = -8 * Math.log(1 - random());
    for (let j = 1; j < k; j++) rows[r * k + j] = Math.max(0, random() * 3 - 1);
  }
  const w = new Float32Array(outputs * k);
  for (let o = 0; o < outputs; o++) for (let j = 1; j < k; j++) w[o * k + j] = random() * 2 - 1;
  const wq = quantizedWeights(w, [outputs, k], 0);
  const inputs: LayerRows = { rows, count: n, width: k, layout: 'dense', inChannels: k };
  const stats = statsOf(rows);

  it('clips the channel the weights ignore: tighter than mse, lower output error than mse and minmax', () => {
    const model = consumerError(inputs, w, [outputs, k], true, 1);
    const chosen = searchRange(stats, [model], 8);
    const mse = rangeOf(stats, 'mse', 8);
    const minmax = rangeOf(stats, 'minmax', 8);
    expect(chosen.max).toBeLessThan(0.1 * mse.max);
    expect(chosen.max).toBeGreaterThanOrEqual(1.9); // the channels that matter reach 2: barely clipped
    const brute = (range: TensorRange) => denseError(rows, k, wq, outputs, range);
    expect(brute(chosen)).toBeLessThan(0.05 * brute(mse));
    expect(brute(chosen)).toBeLessThan(0.05 * brute(minmax));
    // The error model (exact clipping, expected rounding noise) tracks the brute force.
    for (const range of [chosen, mse, minmax, { min: 0, max: 1.5 }]) {
      expect(outputError(model, range, 8) / brute(range)).toBeGreaterThan(0.85);
      expect(outputError(model, range, 8) / brute(range)).toBeLessThan(1.15);
    }
  });

  it('int16 (symmetric): also clips the ignored channel, with a lower brute-force output error', () => {
    const model = consumerError(inputs, w, [outputs, k], true, 1);
    const chosen = searchRange(stats, [model], 16);
    const brute = (range: TensorRange) => denseError(rows, k, wq, outputs, range, 16);
    const mse = rangeOf(stats, 'mse', 16);
    expect(chosen.max).toBeLessThan(0.1 * mse.max);
    expect(brute(chosen)).toBeLessThan(0.05 * brute(mse));
    expect(brute(chosen)).toBeLessThan(0.05 * brute(rangeOf(stats, 'minmax', 16)));
    expect(outputError(model, chosen, 16) / brute(chosen)).toBeGreaterThan(0.85);
    expect(outputError(model, chosen, 16) / brute(chosen)).toBeLessThan(1.15);
  });

  it("weighs readers that pass the values on by the tensor's own error, checked by brute force", () => {
    const ownBrute = (range: TensorRange) => rows.reduce((sum, x) => sum + (x - fakeQuant(x, range)) ** 2, 0) / rows.length;
    const bins = occupiedBins(stats);
    for (const range of [rangeOf(stats, 'mse', 8), rangeOf(stats, 'minmax', 8), { min: 0, max: 2 }, { min: 0, max: 20 }]) {
      expect(ownError(bins, range, 8) / ownBrute(range)).toBeGreaterThan(0.9);
      expect(ownError(bins, range, 8) / ownBrute(range)).toBeLessThan(1.1);
    }
    // An ADD reading the tensor too (k values per row here): the outlier channel now counts, so the
    // range widens, and the summed brute-force error is lower than with the conv-only choice.
    const model = consumerError(inputs, w, [outputs, k], true, 1);
    const convOnly = searchRange(stats, [model], 8);
    const withAdd = searchRange(stats, [model], 8, k);
    const summed = (range: TensorRange) => denseError(rows, k, wq, outputs, range) + k * ownBrute(range);
    expect(withAdd.max).toBeGreaterThan(4 * convOnly.max);
    expect(summed(withAdd)).toBeLessThan(0.5 * summed(convOnly));
    expect(summed(withAdd)).toBeLessThanOrEqual(summed(rangeOf(stats, 'mse', 8)) * 1.01);
  });

  it('is the tensor mse range when every channel counts alike and nothing is an outlier', () => {
    const plain = rows.slice();
    for (let r = 0; r < n; r++) plain[r * k] = plain[r * k + 1];
    const all = new Float32Array(outputs * k).fill(0.5);
    const model = consumerError({ ...inputs, rows: plain }, all, [outputs, k], true, 1);
    const chosen = searchRange(statsOf(plain), [model], 8);
    const brute = (range: TensorRange) => denseError(plain, k, quantizedWeights(all, [outputs, k], 0), outputs, range);
    expect(brute(chosen)).toBeLessThanOrEqual(brute(rangeOf(statsOf(plain), 'mse', 8)) * 1.02);
  });

  it('depthwise: the per-channel error model matches a brute-force depthwise output error', () => {
    // Patches [2 positions, 3 channels], multiplier 2: weights [1, 1, 2, 6].
    const inChannels = 3;
    const multiplier = 2;
    const out = inChannels * multiplier;
    const width = 2 * inChannels;
    const count = 2000;
    const patches = new Float32Array(count * width).map((_, i) => (i % inChannels === 2 ? 6 * random() ** 4 : random() * 2 - 0.5));
    const dw = new Float32Array(2 * out).map((_, i) => (i % out >= 4 ? 0.01 : random() * 2 - 1)); // channel 2 barely read
    const dwq = quantizedWeights(dw, [1, 1, 2, out], 3);
    const brute = (range: TensorRange) => {
      let total = 0;
      for (let r = 0; r < count; r++) {
        for (let c = 0; c < out; c++) {
          const i = Math.floor(c / multiplier);
          let y = 0;
          for (let p = 0; p < 2; p++) {
            const x = patches[r * width + p * inChannels + i];
            y += (x - fakeQuant(x, range)) * dwq[p * out + c];
          }
          total += y * y;
        }
      }
      return total / count;
    };
    const model = consumerError({ rows: patches, count, width, layout: 'depthwise', inChannels }, dw, [1, 1, 2, out], true, 1);
    const stats = statsOf(patches);
    for (const range of [rangeOf(stats, 'minmax'), rangeOf(stats, 'mse'), { min: -0.5, max: 1.5 }]) {
      expect(outputError(model, range, 8) / brute(range)).toBeGreaterThan(0.85);
      expect(outputError(model, range, 8) / brute(range)).toBeLessThan(1.15);
    }
    const chosen = searchRange(stats, [model], 8);
    expect(brute(chosen)).toBeLessThan(brute(rangeOf(stats, 'mse')));
    expect(brute(chosen)).toBeLessThan(brute(rangeOf(stats, 'minmax')));
  });
});

describe('output-mse on MNIST in LiteRT', () => {
  beforeAll(() => initRuntime());

  it('runs, searches the conv / FC inputs, and keeps SQNR vs float at least that of minmax', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(model)));
    const calibration = await Promise.all(randomIndices(dataset.size, 100, 0).map((i) => dataset.sample(i)));
    const evaluation = await Promise.all(Array.from({ length: 1000 }, (_, i) => dataset.sample(i)));
    const run = async (algorithm: CalibrationAlgorithm) => {
      const base = defaultRecipe('int8');
      const result = await optimizeModel({ model, recipe: { ...base, rounding: 'nearest', calibration: { ...base.calibration, algorithm } }, calibration });
      const compared = await compareModels(model, result.bytes, evaluation);
      return { sqnr: compared.outputs[0].sqnrDb, notes: result.notes, plan: result.plan! };
    };
    const minmax = await run('minmax');
    const searched = await run('output-mse');
    const note = searched.notes.find((n) => n.includes('output-mse searched'));
    expect(note, searched.notes.join('\n')).toMatch(/output-mse searched [1-9]\d* conv \/ FC input/);
    expect(searched.sqnr).toBeGreaterThanOrEqual(minmax.sqnr);
    expect(searched.sqnr).toBeGreaterThan(15);
  }, 300_000);
});
