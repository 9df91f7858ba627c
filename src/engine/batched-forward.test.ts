/**
 * Batched forward (batch-axis.ts + batched-forward.ts): N samples in one run give each sample's
 * one-at-a-time engine result (max relative error <= 1e-5, fidelity.test.ts' batch tolerance) and
 * LiteRT's (<= 1e-4, fidelity.test.ts' engine-vs-LiteRT tolerance); graphs that cannot carry a batch
 * axis are refused with the op and run one sample at a time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { readSharedModel, sharedModelNames } from '../test-support/shared';
import { readModel } from '../tflite/read';
import type { ModelGraph } from '../tflite/graph';
import { addBuffer, addInt32Constant, addTensor, newGraph, newOperator, newTensor, opcodeIndex } from '../tflite/edit';
import { writeModel } from '../tflite/write';
import * as s from '../tflite/schema/generated/tflite_generated';
import { initNodeEngine } from './backend-node';
import { addBatchAxis } from './batch-axis';
import { BatchedForward } from './batched-forward';
import { maxRelativeError, runtimeReals } from './engine-test-support';
import { GraphExecutor, unsupportedOps } from './executor';

/** Each sample alone through the file's graph, as the engine ran such models before. */
async function oneAtATime(graph: ModelGraph, samples: Float32Array[][]): Promise<Float32Array[][]> {
  const executor = new GraphExecutor(graph);
  const sg = graph.subgraphs[0];
  const results: Float32Array[][] = [];
  for (const sample of samples) {
    const outs = tf.tidy(() => executor.run(sample.map((x, i) => tf.tensor(x, sg.tensors[sg.inputs[i]].shape)), { freeIntermediates: true }).outputs);
    results.push(await Promise.all(outs.map(async (o) => Float32Array.from(await o.data()))));
    tf.dispose(outs);
  }
  executor.dispose();
  return results;
}

/** All samples through BatchedForward: per output, per sample. */
async function batchedRun(forward: BatchedForward, graph: ModelGraph, samples: Float32Array[][]): Promise<{ shapes: number[][]; rows: Float32Array[][] }> {
  const sg = graph.subgraphs[0];
  const stacked = sg.inputs.map((t, i) => {
    const shape = sg.tensors[t].shape;
    const flat = new Float32Array(samples.length * samples[0][i].length);
    samples.forEach((s, j) => flat.set(s[i], j * s[i].length));
    return tf.tensor(flat, [samples.length, ...shape]);
  });
  const outs = tf.tidy(() => forward.run(stacked, { freeIntermediates: true }));
  const shapes = outs.map((o) => o.shape);
  const rows: Float32Array[][] = samples.map(() => []);
  for (const o of outs) {
    const values = Float32Array.from(await o.data());
    const per = values.length / samples.length;
    samples.forEach((_, j) => rows[j].push(values.subarray(j * per, (j + 1) * per)));
  }
  tf.dispose([...stacked, ...outs]);
  return { shapes, rows };
}

const { BuiltinOperator: Op, BuiltinOptions: O, TensorType } = s;

/**
 * A float model on a [6, 4] input with no batch axis, through every kind of rewrite the batch axis
 * needs: EXPAND_DIMS, TRANSPOSE, SQUEEZE, STRIDED_SLICE (stride 2), SLICE, SPLIT, CONCATENATION,
 * MEAN, GATHER, PAD, MUL, RESHAPE to [1, 6], and FULLY_CONNECTED both flattening to one row (native
 * output [1, 2]) and keeping rows ([10, 3] -> [10, 2], lifted output), and SUM over [1, 6] with keep_dims
 * (native, dimension 0 included); MEAN's [10] is an output too.
 */
function axesModel(): ModelGraph {
  const graph = newGraph('batch axis rewrites');
  const sg = graph.subgraphs[0];
  const t = (shape: number[]) => addTensor(sg, newTensor({ name: `t${sg.tensors.length}`, type: TensorType.FLOAT32, shape }));
  const ints = (values: number[], shape?: number[]) => {
    const index = addInt32Constant(graph, sg, `c${sg.tensors.length}`, values);
    if (shape) sg.tensors[index].shape = shape;
    return index;
  };
  const floats = (values: number[], shape: number[]) => addTensor(sg, newTensor({ name: `w${sg.tensors.length}`, type: TensorType.FLOAT32, shape, buffer: addBuffer(graph, new Uint8Array(Float32Array.from(values).buffer)) }));
  const op = (code: s.BuiltinOperator, inputs: number[], outShapes: number[][], type = O.NONE, options: unknown = null) => {
    const outs = outShapes.map(t);
    sg.operators.push(newOperator(opcodeIndex(graph, code), inputs, outs, type, options as never));
    return outs;
  };
  const x = t([6, 4]);
  sg.inputs.push(x);
  const [a] = op(Op.EXPAND_DIMS, [x, ints([0])], [[1, 6, 4]], O.ExpandDimsOptions, new s.ExpandDimsOptionsT());
  const [b] = op(Op.TRANSPOSE, [a, ints([0, 2, 1])], [[1, 4, 6]], O.TransposeOptions, new s.TransposeOptionsT());
  const [c] = op(Op.SQUEEZE, [b], [[4, 6]], O.SqueezeOptions, new s.SqueezeOptionsT([0]));
  const [d] = op(Op.STRIDED_SLICE, [c, ints([0, 1]), ints([4, 6]), ints([1, 2])], [[4, 3]], O.StridedSliceOptions, new s.StridedSliceOptionsT());
  const [e] = op(Op.SLICE, [c, ints([1, 0]), ints([3, -1])], [[3, 6]], O.SliceOptions, new s.SliceOptionsT());
  const [e1, e2] = op(Op.SPLIT, [ints([1]), e], [[3, 3], [3, 3]], O.SplitOptions, new s.SplitOptionsT(2));
  const [f] = op(Op.CONCATENATION, [d, e1, e2], [[10, 3]], O.ConcatenationOptions, new s.ConcatenationOptionsT(0));
  const [g] = op(Op.MEAN, [f, ints([-1])], [[10]], O.ReducerOptions, new s.ReducerOptionsT(false));
  const [h] = op(Op.GATHER, [g, ints([9, 0, 4])], [[3]], O.GatherOptions, new s.GatherOptionsT(0, 0));
  const [i] = op(Op.PAD, [h, ints([1, 2], [1, 2])], [[6]], O.PadOptions, new s.PadOptionsT());
  const [j] = op(Op.MUL, [i, floats([1, -2, 3, 0.5, 1, 2], [6])], [[6]], O.MulOptions, new s.MulOptionsT());
  const [k] = op(Op.RESHAPE, [j, ints([1, 6])], [[1, 6]], O.ReshapeOptions, new s.ReshapeOptionsT([1, 6]));
  const [l] = op(Op.FULLY_CONNECTED, [k, floats([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 1, 0, 0, 1, -1, 0.5], [2, 6]), floats([0.25, -0.5], [2])], [[1, 2]], O.FullyConnectedOptions, new s.FullyConnectedOptionsT());
  const [m] = op(Op.FULLY_CONNECTED, [f, floats([1, -1, 0.5, 0.25, 2, -3], [2, 3]), -1], [[10, 2]], O.FullyConnectedOptions, new s.FullyConnectedOptionsT());
  // Over a native [1, 6] including its dimension 0 (1 per sample: the batch must stay out of the sum).
  const [n] = op(Op.SUM, [k, ints([0, 1])], [[1, 1]], O.ReducerOptions, new s.ReducerOptionsT(true));
  sg.outputs.push(g, l, m, n);
  return graph;
}

describe('batched forward', () => {
  beforeAll(async () => {
    await initNodeEngine();
    await initRuntime();
  });

  it('audio_event ([5360] waveform, no batch axis) runs 5 waveforms at once, equal to one at a time and to LiteRT', async () => {
    const bytes = readSharedModel('audio_event_527_float.tflite');
    const graph = readModel(bytes);
    const forward = new BatchedForward(graph);
    expect(forward.reason).toBeUndefined();
    expect(forward.batched).toBe(true);
    expect(forward.plan.inputs).toEqual(['lifted']);
    expect(forward.plan.outputs).toEqual(['native']);
    const model = await loadModel(bytes);
    const samples = [1, 2, 3, 4, 5].map((seed) => randomInputs(model, seed) as Float32Array[]);
    const singles = await oneAtATime(graph, samples);
    const { shapes, rows } = await batchedRun(forward, graph, samples);
    expect(shapes).toEqual([[5, 1, 527]]);
    const report: string[] = [];
    for (let s = 0; s < samples.length; s++) {
      const vsSingle = maxRelativeError(singles[s][0], rows[s][0]);
      const vsLitert = maxRelativeError(runtimeReals(model, await model.run(samples[s]))[0], rows[s][0]);
      report.push(`${vsSingle.toExponential(1)} / ${vsLitert.toExponential(1)}`);
      expect(vsSingle, `sample ${s} vs one at a time`).toBeLessThanOrEqual(1e-5);
      expect(vsLitert, `sample ${s} vs LiteRT`).toBeLessThanOrEqual(1e-4);
    }
    console.log(`audio_event batch 5, max rel error per sample vs one at a time / vs LiteRT: ${report.join(', ')}`);
    // The samples differ, so equal rows would mean the batch was mixed up.
    expect(maxRelativeError(rows[0][0], rows[1][0])).toBeGreaterThan(1e-3);
    model.delete();
    forward.dispose();
  });

  it('a [6, 4] input without batch axis through EXPAND_DIMS ... FULLY_CONNECTED: 4 samples at once equal one at a time and LiteRT', async () => {
    const graph = axesModel();
    const bytes = writeModel(graph);
    const forward = new BatchedForward(graph);
    expect(forward.reason).toBeUndefined();
    expect(forward.plan.outputs).toEqual(['lifted', 'native', 'lifted', 'native']);
    const model = await loadModel(bytes);
    const samples = [1, 2, 3, 4].map((seed) => randomInputs(model, seed) as Float32Array[]);
    const singles = await oneAtATime(graph, samples);
    const { shapes, rows } = await batchedRun(forward, graph, samples);
    expect(shapes).toEqual([[4, 10], [4, 1, 2], [4, 10, 2], [4, 1, 1]]);
    for (let n = 0; n < samples.length; n++) {
      const reference = runtimeReals(model, await model.run(samples[n]));
      reference.forEach((ref, o) => {
        expect(maxRelativeError(singles[n][o], rows[n][o]), `sample ${n} output ${o} vs one at a time`).toBeLessThanOrEqual(1e-5);
        expect(maxRelativeError(ref, rows[n][o]), `sample ${n} output ${o} vs LiteRT`).toBeLessThanOrEqual(1e-4);
      });
    }
    expect(maxRelativeError(rows[0][1], rows[1][1])).toBeGreaterThan(1e-3);
    model.delete();
    forward.dispose();
  });

  it('a graph whose dimension 0 is not a batch is refused with the op, and runs one sample at a time', async () => {
    const bytes = readSharedModel('ops/branching_conv_fc.tflite');
    const graph = readModel(bytes);
    const forward = new BatchedForward(graph);
    expect(forward.batched).toBe(false);
    expect(forward.reason).toMatch(/CONV_2D.*dimension 0 to be a batch/);
    const model = await loadModel(bytes);
    const samples = [1, 2, 3].map((seed) => randomInputs(model, seed) as Float32Array[]);
    const { rows } = await batchedRun(forward, graph, samples);
    for (let s = 0; s < samples.length; s++) {
      const reference = runtimeReals(model, await model.run(samples[s]));
      reference.forEach((ref, o) => expect(maxRelativeError(ref, rows[s][o]), `sample ${s} output ${o}`).toBeLessThanOrEqual(1e-4));
    }
    model.delete();
    forward.dispose();
  });

  // Models that already had a batch axis: the plan keeps it (native), and the batch gives each sample's result.
  for (const name of ['mobilenet_v1_0.25_224_float.tflite', 'text_avgwordvec_embedder_float.tflite', 'movie_review_text_classifier_float.tflite', 'ad01_toycar_autoencoder_float.tflite']) {
    it(`${name}: 3 samples at once equal one at a time`, async () => {
      const bytes = readSharedModel(name);
      const graph = readModel(bytes);
      const forward = new BatchedForward(graph);
      expect(forward.reason).toBeUndefined();
      expect(forward.plan.inputs.every((state) => state === 'native')).toBe(true);
      const model = await loadModel(bytes);
      const samples = [1, 2, 3].map((seed) => randomInputs(model, seed) as Float32Array[]);
      model.delete();
      const singles = await oneAtATime(graph, samples);
      const { rows } = await batchedRun(forward, graph, samples);
      samples.forEach((_, n) => singles[n].forEach((single, o) => expect(maxRelativeError(single, rows[n][o]), `sample ${n} output ${o}`).toBeLessThanOrEqual(1e-5)));
      forward.dispose();
    });
  }

  it('plans every shared model the engine runs: batched, or refused with the op', () => {
    const lines: string[] = [];
    for (const name of sharedModelNames()) {
      const graph = readModel(readSharedModel(name));
      if (unsupportedOps(graph).length) continue;
      const plan = addBatchAxis(graph);
      lines.push(`${name}: ${plan.graph ? `batched (${plan.inputs.join(', ')} -> ${plan.outputs.join(', ')})` : `one at a time: ${plan.reason}`}`);
      if (!plan.graph) expect(plan.reason, name).toMatch(/^(op \d+ \(\w+\)|output )/);
    }
    console.log(lines.join('\n'));
    const planOf = (name: string) => addBatchAxis(readModel(readSharedModel(name)));
    expect(planOf('audio_event_527_float.tflite').graph).not.toBeNull();
    expect(planOf('mobilenet_v1_0.25_224_float.tflite').inputs).toEqual(['native']);
    expect(planOf('ops/branching_conv_fc.tflite').graph).toBeNull();
  });
});
