/**
 * The segment walk against whole runs of the same model in LiteRT: at each site, the values the walk
 * computes from the tensors it cached at the site before equal, bit for bit, the site's values in a
 * run of the whole model from its inputs (tapped here with withTaps). MobileNetV2 int8 has residual
 * ADDs, so a segment's inputs include tensors written several segments back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../runtime/load';
import { randomInputs } from '../../runtime/random-inputs';
import type { RuntimeData } from '../../runtime/types';
import { initRuntime } from '../../runtime/start';
import { tapOutputIndices, withTaps } from '../../runtime/taps';
import { readSharedModel } from '../../test-support/shared';
import { opName } from '../../tflite/ops';
import { readModel } from '../../tflite/read';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import { writeModel } from '../../tflite/write';
import { SegmentWalk, walkObstacle, WALK_CACHE_BYTES } from './segment-walk';

beforeAll(() => initRuntime());

/** Walks `bytes` site after site and checks each site's values against a whole tapped run of the same model. */
async function walkMatchesWholeRun(bytes: Uint8Array, sites: number[]) {
  const graph = readModel(bytes);
  const sg = graph.subgraphs[0];
  const tensors = sites.map((o) => sg.operators[o].outputs[0]);
  const model = await loadModel(bytes);
  const samples = [0, 1, 2].map((seed) => randomInputs(model, seed));
  model.delete();

  const tapped = withTaps(graph, 0, (t) => tensors.includes(t), { tapsOnly: true });
  const whole = await loadModel(writeModel(tapped.graph));
  const expected: RuntimeData[][] = tensors.map(() => []);
  try {
    const positions = tapOutputIndices(whole, tapped);
    for (const sample of samples) {
      const out = await whole.run(sample);
      tapped.taps.forEach((tap, k) => expected[tensors.indexOf(tap.tensorIndex)].push(out[positions[k]].data));
    }
  } finally {
    whole.delete();
  }

  expect(walkObstacle(graph, sites, samples.length)).toBeNull();
  const walk = new SegmentWalk(samples);
  for (let s = 0; s < sites.length; s++) {
    const got: RuntimeData[] = [];
    await walk.next(graph, tensors[s], (v) => got.push(v));
    expect(got).toHaveLength(samples.length);
    got.forEach((v, i) => {
      expect(v.length).toBe(expected[s][i].length);
      expect(Array.from(v)).toEqual(Array.from(expected[s][i]));
    });
    expect(walk.cachedCounts.length).toBeGreaterThan(0);
    for (const count of walk.cachedCounts) expect(count).toBe(samples.length);
  }
}


describe('SegmentWalk', () => {
  it('gives every site the values a whole run of MobileNetV2 int8 gives (residual ADDs carried across segments)', async () => {
    const bytes = readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite');
    const graph = readModel(bytes);
    const sg = graph.subgraphs[0];
    const adds = sg.operators.flatMap((op, o) => (opName(graph, op) === 'ADD' ? [o] : []));
    const convs = sg.operators.flatMap((op, o) => (opName(graph, op) === 'CONV_2D' ? [o] : []));
    // Sites: the op right before the first ADD (its other input was written segments earlier), a few
    // convolutions in between, the first op, and the last conv.
    const sites = [...new Set([0, adds[0] - 1, convs[10], adds[3], convs[convs.length - 1]])].sort((a, b) => a - b);
    expect(sites.length).toBe(5);
    await walkMatchesWholeRun(bytes, sites);
  }, 300_000);

  it('walks a float model without signature defs (vww_96_float: LiteRT names its inputs and outputs by tensor name)', async () => {
    const bytes = readSharedModel('vww_96_float.tflite');
    const graph = readModel(bytes);
    expect(graph.signatureDefs).toHaveLength(0);
    const convs = graph.subgraphs[0].operators.flatMap((op, o) => (opName(graph, op) === 'CONV_2D' ? [o] : []));
    await walkMatchesWholeRun(bytes, [convs[1], convs[4], convs[convs.length - 1]]);
  }, 300_000);

  it('keeps one value per sample when walks start at op 0 twice (the inputs are made again, not added to)', async () => {
    const bytes = readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite');
    const graph = readModel(bytes);
    const model = await loadModel(bytes);
    const samples = [0, 1].map((seed) => randomInputs(model, seed));
    model.delete();
    const walk = new SegmentWalk(samples);
    const first = graph.subgraphs[0].operators[0].outputs[0];
    for (let k = 0; k < 2; k++) {
      await walk.next(graph, first, () => {});
      // Before op 0 only the model's input is live.
      expect(walk.cachedCounts).toEqual([samples.length]);
    }
  }, 300_000);

  it('refuses a walk whose cache would pass the limit, and names a cached tensor of a type LiteRT.js does not take', () => {
    const graph = readModel(readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite'));
    const sg = graph.subgraphs[0];
    // Before op 1 only op 0's int8 output is live (op 1 reads nothing else).
    const first = sg.tensors[sg.operators[0].outputs[0]];
    expect(first.type).toBe(TensorType.INT8);
    const perSample = first.shape.reduce((n, d) => n * d, 1);
    expect(walkObstacle(graph, [1], Math.floor(WALK_CACHE_BYTES / perSample))).toBeNull();
    expect(walkObstacle(graph, [1], Math.floor(WALK_CACHE_BYTES / perSample) + 1)).toMatch(/cache would hold \d+ MB, over the 512 MB allowed/);
    const copy = readModel(readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite'));
    const t = copy.subgraphs[0].operators[0].outputs[0];
    copy.subgraphs[0].tensors[t].type = TensorType.BOOL; // a type no LiteRT.js input takes
    expect(walkObstacle(copy, [1], 1)).toBe(`tensor '${sg.tensors[t].name}' is BOOL`);
  });
});
