/**
 * The Gram matrix of a dense layer from running moments (layer-inputs.ts) is the one its rows give,
 * plain and centered; and the collector's moments cover every position when asked for that many rows.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../data/dataset';
import { graphInputs } from '../../data/default-preprocessing';
import { filesFromPath } from '../../data/files-node';
import { initRuntime } from '../../runtime/start';
import { seededRandom } from '../../seeded-random';
import { dataDir, readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { openLayerInputs } from './layer-inputs';
import { gram, layoutOf, type LayerRows } from './problem';

describe('gram from moments', () => {
  it('equals the Gram matrix of the rows, plain and centered', () => {
    const next = seededRandom(3);
    const count = 300;
    const k = 17;
    const data = Float32Array.from({ length: count * k }, (_, i) => Math.max(0, next() - 0.3 + 0.1 * (i % k)));
    const sum = new Float64Array(k);
    const outer = new Float64Array(k * k);
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < k; i++) {
        sum[i] += data[r * k + i];
        for (let j = i; j < k; j++) outer[i * k + j] += data[r * k + i] * data[r * k + j];
      }
    }
    const rows: LayerRows = { rows: data, count, width: k, layout: 'dense', inChannels: k };
    const columns = Array.from({ length: k }, (_, j) => j);
    for (const centered of [false, true]) {
      const direct = gram(rows, columns, centered);
      // Moments over the same rows, but only one row left in `rows`: the matrix must come from the moments.
      const fromMoments = gram({ ...rows, rows: data.subarray(0, k), count: 1, moments: { count, sum, outer } }, columns, centered);
      for (let i = 0; i < k * k; i++) expect(fromMoments[i]).toBeCloseTo(direct[i], 10);
    }
  });

  it('the collector takes every position of every sample into the moments when asked for that many rows', async () => {
    await initRuntime();
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const graph = readModel(model);
    const digits = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(graph));
    const samples = 3;
    const collector = await openLayerInputs(graph, { total: samples, gramRows: 1 << 20 });
    try {
      for (let i = 0; i < samples; i++) await collector.add(await digits.sample(i));
      const rows = collector.rows();
      // Dense layers rounding takes on (up to 1280 wide) have moments; depthwise and wider ones do not.
      const dense = collector.sites.filter((s) => s.layout === 'dense' && s.width <= 1280);
      expect(dense.length).toBeGreaterThan(0);
      for (const site of dense) expect(rows.get(site.key)!.moments!.count).toBe(samples * site.positions);
      for (const site of collector.sites.filter((s) => !dense.includes(s))) expect(rows.get(site.key)!.moments).toBeUndefined();
    } finally {
      collector.dispose();
    }
  });
});

describe('depthwise Gram matrices', () => {
  it('are, channel by channel, gram() of that channel\'s patch columns, bit for bit', () => {
    const next = seededRandom(5);
    const [kh, kw, channels, multiplier, count] = [3, 3, 7, 2, 50];
    const width = kh * kw * channels;
    // Post-ReLU-like rows: a third of the values exactly 0.
    const rows = Float32Array.from({ length: count * width }, () => (next() < 0.33 ? 0 : next() * 4 - 1));
    const inputs: LayerRows = { rows, count, width, layout: 'depthwise', inChannels: channels };
    const values = Float32Array.from({ length: kh * kw * channels * multiplier }, () => next() - 0.5);
    for (const centered of [false, true]) {
      const layout = layoutOf({ values, shape: [1, kh, kw, channels * multiplier], scales: [0.01], axis: 3, bits: 8, inputs, centered });
      expect(layout.groups).toHaveLength(channels);
      layout.groups.forEach((group, c) => {
        const want = gram(inputs, Array.from({ length: kh * kw }, (_, j) => j * channels + c), centered);
        expect(Buffer.from(group.hessian.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      });
    }
  });
});
