import { beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, seededRuntimeOutputs } from '../engine/engine-test-support';
import { initRuntime } from '../runtime/start';
import { readSharedModel } from '../test-support/shared';
import type { ModelGraph } from '../tflite/graph';
import { consumers } from '../tflite/queries';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';
import { equalizeCrossLayer, inputChannelRanges, outputChannelRanges } from './equalize';
import { dequantizeBytes, optimizeModel } from './pipeline';
import { defaultRecipe } from './recipe';
import { dropUnused, foldConstantDequantize } from './quantize/fold-dequantize';
import { asFloat32, bytesOf } from './quantize/params';
import { builtinCodeOf } from '../tflite/ops';
import { cloneGraph } from '../tflite/edit';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { seededRandom } from '../seeded-random';

function floatGraph(name: string): ModelGraph {
  let bytes = readSharedModel(name);
  if (name.includes('int8')) bytes = dequantizeBytes(bytes).bytes;
  const graph = readModel(bytes);
  foldConstantDequantize(graph);
  dropUnused(graph);
  return graph;
}

/** The model's outputs in LiteRT on seeded random inputs. */
const outputs = (graph: ModelGraph, seeds: number[]) => seededRuntimeOutputs(writeModel(graph), seeds);

/** The model with every float weight moved by up to half an ulp: how much float rounding alone moves the outputs. */
function roundingNoise(graph: ModelGraph): ModelGraph {
  const noisy = cloneGraph(graph);
  const random = seededRandom(7);
  const done = new Set<number>();
  for (const t of noisy.subgraphs[0].tensors) {
    if (t.type !== TensorType.FLOAT32 || !noisy.buffers[t.buffer].data.length || done.has(t.buffer)) continue;
    done.add(t.buffer);
    const v = Float32Array.from(asFloat32(noisy.buffers[t.buffer].data));
    for (let i = 0; i < v.length; i++) v[i] *= 1 + (random() - 0.5) * 2 ** -23;
    noisy.buffers[t.buffer] = { data: bytesOf(v) };
  }
  return noisy;
}

const weightsOf = (graph: ModelGraph, s: number, op: number) => {
  const o = graph.subgraphs[s].operators[op];
  const tensor = graph.subgraphs[s].tensors[o.inputs[1]];
  return { layer: { builtin: builtinCodeOf(graph.operatorCodes[o.opcodeIndex]), shape: tensor.shape }, values: asFloat32(graph.buffers[tensor.buffer].data) };
};

describe('cross-layer equalization', () => {
  beforeAll(() => initRuntime());

  // RELU6 pairs are equalized with the RELU6 replaced by RELU; the reference is the same model with
  // only that replacement (no scaling), so what is compared is the scaling alone.
  it.each([
    ['mobilenet_v1_0.25_224_float.tflite', 26],
    ['mobilenet_v2_1.0_224_ptq_int8.tflite', 36],
    ['face_detection_short_range_fp16.tflite', 16],
    ['selfie_segmentation_fp16.tflite', 14],
    ['pose_landmark_lite_fp16.tflite', 45],
  ])('%s computes the same outputs in LiteRT after equalizing %i pairs', async (name, count) => {
    const graph = floatGraph(name);
    const before = writeModel(graph);
    const reference = equalizeCrossLayer(graph, { relu6: 'as-relu', maxIterations: 0 }).graph;
    const result = equalizeCrossLayer(graph, { relu6: 'as-relu' });
    expect(result.pairs).toHaveLength(count);
    expect(Math.max(...result.pairs.map((p) => p.scaleMax / p.scaleMin))).toBeGreaterThan(1.5); // something was scaled
    expect(Buffer.from(writeModel(graph)).equals(Buffer.from(before))).toBe(true); // input untouched
    const seeds = [1, 2];
    const want = await outputs(reference, seeds);
    const got = await outputs(result.graph, seeds);
    const floor = await outputs(roundingNoise(reference), seeds);
    want.forEach((row, s) =>
      row.forEach((ref, o) => {
        // pose_landmark's segmentation logits (about +-400 from cancelling sums) move 1.7e-4 when every
        // weight moves half an ulp; equalizing rounds each weight a few times, so allow 10x that floor.
        const allowed = Math.max(1e-4, 10 * maxRelativeError(ref, floor[s][o]));
        expect(maxRelativeError(ref, got[s][o]), `sample ${s} output ${o}`).toBeLessThanOrEqual(allowed);
      }),
    );
  }, 120_000);

  it('without as-relu leaves RELU6 pairs alone and the model bit-for-bit the same function', () => {
    const graph = floatGraph('mobilenet_v1_0.25_224_float.tflite');
    const result = equalizeCrossLayer(graph);
    expect(result.pairs).toHaveLength(0);
    expect(result.notes.join('\n')).toMatch(/26 pair\(s\) skipped: RELU6/);
  });

  it('balances the ranges: output channel i of the producer and input channel i of the consumer end equal, but for the few it leaves', () => {
    const graph = floatGraph('mobilenet_v1_0.25_224_float.tflite');
    const result = equalizeCrossLayer(graph, { relu6: 'as-relu', maxIterations: 500, tolerance: 1e-7 });
    const left = result.pairs.reduce((n, p) => n + p.unbalanced.length, 0);
    expect(left, 'channels left unbalanced').toBeLessThanOrEqual(result.pairs.reduce((n, p) => n + p.channels, 0) * 0.02);
    for (const pair of result.pairs) {
      const p = weightsOf(result.graph, pair.subgraph, pair.producer);
      const c = weightsOf(result.graph, pair.subgraph, pair.consumer);
      const r1 = outputChannelRanges(p.layer, p.values);
      const r2 = inputChannelRanges(c.layer, c.values, pair.channels);
      for (let i = 0; i < pair.channels; i++) {
        if (pair.unbalanced.includes(i)) continue; // dead on one side, or at the scale bound
        expect(Math.abs(r1[i] / r2[i] - 1), `pair ${pair.producer}->${pair.consumer} channel ${i}`).toBeLessThan(1e-3);
      }
    }
  });

  it('one pass is the formula: s_i = sqrt(r1_i / r2_i) from the original ranges', () => {
    const graph = floatGraph('face_detection_short_range_fp16.tflite');
    const result = equalizeCrossLayer(graph, { maxIterations: 1 });
    for (const pair of result.pairs) {
      const p0 = weightsOf(graph, pair.subgraph, pair.producer);
      const c0 = weightsOf(graph, pair.subgraph, pair.consumer);
      const p1 = weightsOf(result.graph, pair.subgraph, pair.producer);
      const r1 = outputChannelRanges(p0.layer, p0.values);
      const r2 = inputChannelRanges(c0.layer, c0.values, pair.channels);
      const after = outputChannelRanges(p1.layer, p1.values);
      // The producer's channel ranges become sqrt(r1 * r2) (unless its own input side was scaled by an earlier pair).
      const scaledAsConsumerToo = result.pairs.some((q) => q.consumer === pair.producer);
      if (scaledAsConsumerToo) continue;
      for (let i = 0; i < pair.channels; i++) expect(after[i]).toBeCloseTo(Math.sqrt(r1[i] * r2[i]), 5);
    }
  });

  it('never scales a tensor that is a graph output or read by more than one op', () => {
    for (const name of ['mobilenet_v2_1.0_224_ptq_int8.tflite', 'face_detection_short_range_fp16.tflite']) {
      const graph = floatGraph(name);
      const { pairs } = equalizeCrossLayer(graph, { relu6: 'as-relu' });
      for (const pair of pairs) {
        const subgraph = graph.subgraphs[pair.subgraph];
        const out = subgraph.operators[pair.producer].outputs[0];
        expect(subgraph.outputs).not.toContain(out);
        expect(consumers(subgraph)[out]).toHaveLength(1);
      }
      // MobileNetV2's residual blocks: the projection feeding ADD and the next block is read twice.
      if (name.startsWith('mobilenet_v2')) {
        const subgraph = graph.subgraphs[0];
        const readers = consumers(subgraph);
        const multi = subgraph.operators.map((op, o) => ({ op, o })).filter(({ op }) => readers[op.outputs[0]].length > 1);
        expect(multi.length).toBeGreaterThan(5);
        for (const { o } of multi) expect(pairs.some((p) => p.producer === o)).toBe(false);
      }
    }
  });

  it('skips weights shared by two ops', () => {
    const graph = floatGraph('face_detection_short_range_fp16.tflite');
    const { pairs } = equalizeCrossLayer(graph);
    const first = pairs[0];
    const subgraph = graph.subgraphs[0];
    // Make the consumer's weights share the buffer of another op's weights.
    const other = subgraph.operators.findIndex((op, o) => o !== first.consumer && o !== first.producer && op.inputs.length > 1 && subgraph.tensors[op.inputs[1]]?.buffer > 0);
    const shared = structuredClone(subgraph.tensors[subgraph.operators[first.consumer].inputs[1]]);
    shared.name = 'shared copy';
    subgraph.tensors.push(shared);
    subgraph.operators[other].inputs[1] = subgraph.tensors.length - 1;
    const again = equalizeCrossLayer(graph);
    expect(again.pairs.some((p) => p.consumer === first.consumer)).toBe(false);
    expect(again.notes.join('\n')).toMatch(/weights shared/);
  });
});

describe('cross-layer equalization in the int8 pipeline', () => {
  beforeAll(() => initRuntime());

  it('runs before calibration for int8 by default, not when off; notes say how many pairs', async () => {
    const model = readSharedModel('face_detection_short_range_fp16.tflite');
    const random = seededRandom(3);
    const calibration = Array.from({ length: 8 }, () => [Float32Array.from({ length: 128 * 128 * 3 }, () => random() * 2 - 1)]);
    const perTensor = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), granularity: 'per-tensor' }, calibration, skipCheck: true });
    expect(perTensor.notes.join('\n')).toMatch(/cross-layer equalization: 16 layer pair\(s\) equalized/);
    expect(perTensor.bytes.length).toBeLessThan(model.length);
    const off = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), equalize: 'off' }, calibration, skipCheck: true });
    expect(off.notes.join('\n')).not.toMatch(/cross-layer/);
  }, 120_000);
});
