/**
 * The layer-input sampler's rows gathered inside LiteRT are the rows cut in JS from the tapped
 * layer inputs, bit for bit, reservoirs and running Gram matrices alike, on real models covering
 * SAME / VALID padding, strides, dilation (deeplabv3's atrous convolutions), depthwise and
 * FULLY_CONNECTED layers; and the gathering run copies out far fewer values.
 */
import { describe, expect, it } from 'vitest';
import { initRuntime } from '../../runtime/start';
import { randomInputs } from '../../runtime/random-inputs';
import { readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { BuiltinOperator } from '../../tflite/schema/generated/tflite_generated';
import { builtinCodeOf } from '../../tflite/ops';
import { calibrate } from '../calibrate/calibrate';
import { openLayerInputs } from './layer-inputs';
import { layerSites } from './layer-sites';
import { withRowGathers } from './rows-in-litert';

const bits = (a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('layer rows gathered in LiteRT', () => {
  for (const name of ['mobilenet_v1_0.25_224_float.tflite', 'mnist_conv_fc_float.tflite', 'deeplabv3_257_float.tflite']) {
    it(`equal the rows cut from tapped layer inputs: ${name}`, async () => {
      await initRuntime();
      const graph = readModel(readSharedModel(name));
      const subgraph = graph.subgraphs[0];
      const inputs = subgraph.inputs.map((t) => ({ name: subgraph.tensors[t].name, dtype: 'float32' as const, shape: subgraph.tensors[t].shape.map((d) => Math.max(1, d)), quantization: null }));
      const samples = [1, 2, 3].map((seed) => randomInputs({ inputs }, seed) as Float32Array[]);
      const collect = async (path: 'gather' | 'taps') => {
        // Few rows per layer (total 3 of 100 rows), so the reservoirs also replace rows.
        const collector = await openLayerInputs(graph, { total: 3, maxRows: 100, gramRows: 30, path });
        for (const s of samples) await collector.add(s);
        collector.dispose();
        expect(collector.timing.path).toBe(path);
        return collector.rows();
      };
      const gathered = await collect('gather');
      const cut = await collect('taps');
      expect([...gathered.keys()]).toEqual([...cut.keys()]);
      expect(gathered.size).toBeGreaterThan(0);
      let moments = 0;
      for (const [key, want] of cut) {
        const got = gathered.get(key)!;
        expect(got.count).toBe(want.count);
        expect(bits(got.rows).equals(bits(want.rows)), key).toBe(true);
        expect(Boolean(got.moments)).toBe(Boolean(want.moments));
        if (want.moments) {
          moments++;
          expect(got.moments!.count).toBe(want.moments.count);
          expect(bits(got.moments!.sum).equals(bits(want.moments.sum))).toBe(true);
          expect(bits(got.moments!.outer).equals(bits(want.moments.outer))).toBe(true);
        }
      }
      const kinds = new Set(layerSites(graph).map((s) => builtinCodeOf(graph.operatorCodes[subgraph.operators[s.opIndex].opcodeIndex])));
      if (name.startsWith('mnist')) expect(kinds.has(BuiltinOperator.FULLY_CONNECTED)).toBe(true);
      if (name.startsWith('mobilenet')) expect(kinds.has(BuiltinOperator.DEPTHWISE_CONV_2D) && moments > 0).toBe(true);
      if (name.startsWith('deeplab')) expect(subgraph.operators.some((op) => ((op.builtinOptions ?? {}) as { dilationHFactor?: number }).dilationHFactor! > 1)).toBe(true);
    }, 180_000);
  }

  it('copies out a few values a sample instead of every layer input', () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const sites = layerSites(graph);
    const built = withRowGathers(graph, sites, sites.map(() => 4));
    const subgraph = graph.subgraphs[0];
    const inputValues = [...new Set(sites.map((s) => s.input))].reduce((n, t) => n + subgraph.tensors[t].shape.reduce((m, d) => m * d, 1), 0);
    expect(built.values).toBe(sites.reduce((n, s) => n + 4 * s.width, 0));
    expect(built.values * 10).toBeLessThan(inputValues);
  });
});

describe('layer rows riding along in calibration runs', () => {
  it('are the same rows, with the same statistics, in one run a sample', async () => {
    await initRuntime();
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const subgraph = graph.subgraphs[0];
    const inputs = subgraph.inputs.map((t) => ({ name: subgraph.tensors[t].name, dtype: 'float32' as const, shape: subgraph.tensors[t].shape, quantization: null }));
    const samples = [4, 5, 6, 7].map((seed) => randomInputs({ inputs }, seed) as Float32Array[]);
    const options = { total: samples.length, maxRows: 100, gramRows: 30 };
    const alone = await openLayerInputs(graph, options);
    for (const s of samples) await alone.add(s);
    alone.dispose();
    const plain = await calibrate(graph, samples, { histograms: false, reductions: 'litert', litertInstances: 1 });

    for (const instances of [1, 2]) {
      const riding = await openLayerInputs(graph, options);
      // As the pipeline feeds them: add() first (a no-op once riding), then calibration's run.
      async function* fed() {
        for (const s of samples) {
          await riding.add(s);
          yield s;
        }
      }
      const stats = await calibrate(graph, fed(), { histograms: false, reductions: 'litert', rider: riding.rider!, litertInstances: instances, waitForInstances: true });
      riding.dispose();
      expect(riding.timing.path).toBe('gather, in the calibration run');
      expect(stats.statsReason).toMatch(/with the layer-input sampler's rows/);
      for (const [key, want] of alone.rows()) {
        const got = riding.rows().get(key)!;
        expect(got.count).toBe(want.count);
        expect(bits(got.rows).equals(bits(want.rows)), key).toBe(true);
        if (want.moments) expect(bits(got.moments!.outer).equals(bits(want.moments.outer))).toBe(true);
      }
      expect([...stats.tensors.keys()]).toEqual([...plain.tensors.keys()]);
      for (const [key, want] of plain.tensors) {
        const got = stats.tensors.get(key)!;
        expect([got.min, got.max, got.movingMin, got.movingMax, got.count, got.samples], key).toEqual([want.min, want.max, want.movingMin, want.movingMax, want.count, want.samples]);
      }
      for (const [key, want] of plain.channelMeans) expect(bits(stats.channelMeans.get(key)!).equals(bits(want)), key).toBe(true);
    }

    // Attaching frees the sampler's own model before the joint one loads; if LiteRT then rejects
    // the joint model (never attached), the sampler loads its own again: the same rows.
    const rejected = await openLayerInputs(graph, options);
    rejected.rider!.attach(graph);
    for (const s of samples) await rejected.add(s);
    rejected.dispose();
    expect(rejected.timing.path).toBe('gather');
    for (const [key, want] of alone.rows()) expect(bits(rejected.rows().get(key)!.rows).equals(bits(want.rows)), key).toBe(true);
  }, 300_000);
});
