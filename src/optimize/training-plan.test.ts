/**
 * planTraining alone (no tensors run), against facts read straight from the model: the weights that
 * train are exactly the float constant weights and biases of its CONV_2D / DEPTHWISE_CONV_2D /
 * FULLY_CONNECTED ops; after pruning, the zeros the plan keeps are the zeros in the stored tensor;
 * QAT fake-quantizes convolutions per output channel on the axis TFLite quantizes them (0 for
 * CONV_2D, 3 for DEPTHWISE_CONV_2D); unlabeled data is distilled, with the reason; the plan is
 * plain data (a JSON round trip gives it back unchanged).
 */
import { describe, expect, it } from 'vitest';
import { readSharedModel } from '../test-support/shared';
import type { ModelGraph } from '../tflite/graph';
import { builtinCodeOf } from '../tflite/ops';
import { readModel } from '../tflite/read';
import { BuiltinOperator as Op, TensorType } from '../tflite/schema/generated/tflite_generated';
import { pruneModel } from './prune';
import { planTraining } from './training-plan';
import type { TrainingData } from './training-types';

const mnist = readModel(readSharedModel('mnist_conv_fc_float.tflite')); // CONV AVG_POOL RESHAPE FC FC SOFTMAX
const data = (size: number, labeled: boolean): TrainingData => ({
  size,
  labels: Array.from({ length: size }, (_, i) => (labeled ? i % 10 : null)),
  sample: () => Promise.reject(new Error('planning reads no samples')),
});

/** Input index -> role of the float constants of the weighted ops, read from the operators themselves. */
function floatWeightsOf(graph: ModelGraph): Map<number, { role: 'weight' | 'bias'; op: string }> {
  const subgraph = graph.subgraphs[0];
  const result = new Map<number, { role: 'weight' | 'bias'; op: string }>();
  for (const op of subgraph.operators) {
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    if (builtin !== Op.CONV_2D && builtin !== Op.DEPTHWISE_CONV_2D && builtin !== Op.FULLY_CONNECTED) continue;
    ([[1, 'weight'], [2, 'bias']] as const).forEach(([input, role]) => {
      const t = op.inputs[input] ?? -1;
      const tensor = subgraph.tensors[t];
      if (t >= 0 && tensor.type === TensorType.FLOAT32 && graph.buffers[tensor.buffer].data.length > 0) result.set(t, { role, op: Op[builtin] });
    });
  }
  return result;
}

function zerosIn(graph: ModelGraph, tensorIndex: number): number {
  const tensor = graph.subgraphs[0].tensors[tensorIndex];
  const bytes = graph.buffers[tensor.buffer].data;
  const values = new Float32Array(bytes.slice().buffer);
  return values.filter((v) => v === 0).length;
}

const roundTrips = (plan: unknown) => expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);

describe('planTraining', () => {
  it('plain fine-tuning: the float weights and biases of the conv / FC ops train free, by cross-entropy on labels', () => {
    const plan = planTraining(mnist, data(100, true), { mode: 'finetune', epochs: 2, batchSize: 8, learningRate: 1e-3 });
    const expected = floatWeightsOf(mnist);
    expect(new Map(plan.weights.map((w) => [w.tensorIndex, { role: w.role, op: w.op }]))).toEqual(expected);
    expect(plan.weights.map((w) => w.tensorIndex).sort((a, b) => a - b)).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const w of plan.weights) expect(w.constraint).toBe(w.zeros > 0 && w.role === 'weight' ? 'mask' : 'free');
    expect(plan.weights.every((w) => w.fakeQuant === undefined)).toBe(true);
    expect(plan.activations).toBeNull();
    expect(plan.loss).toMatchObject({ kind: 'cross-entropy', form: 'softmax-cross-entropy' });
    expect(plan.loss.reason).toMatch(/100 samples has a label/);
    // 15% of 100 held out, seeded; every sample once.
    expect(plan.split.validation.length).toBe(15);
    expect([...plan.split.train, ...plan.split.validation].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(plan).toMatchObject({ epochs: 2, batch: { wanted: 8, size: 8 }, stepsPerEpoch: Math.ceil(85 / 8), optimizer: { name: 'adam', learningRate: 1e-3 } });
    roundTrips(plan);
  });

  it('a pruned model: every weight with zeros is masked, holding exactly the zeros stored in its tensor', () => {
    const pruned = pruneModel(mnist, { sparsity: 0.75 }).graph;
    const plan = planTraining(pruned, data(40, true), { mode: 'finetune', keepZeros: true });
    const masked = plan.weights.filter((w) => w.constraint === 'mask');
    expect(masked.length).toBeGreaterThan(0);
    for (const w of plan.weights) {
      expect(w.zeros).toBe(zerosIn(pruned, w.tensorIndex));
      if (w.role === 'weight') expect(w.keepZeros).toBe(true);
      if (w.role === 'bias') expect(w.keepZeros).toBe(false); // biases are never pruned, so never masked
    }
    // 0.75 of each pruned tensor (at least; some weights may have been zero already).
    for (const w of masked) expect(w.zeros / w.shape.reduce((n, d) => n * d, 1)).toBeGreaterThanOrEqual(0.74);
    roundTrips(plan);
  });

  it('QAT: weights fake-quantized per output channel on TFLite\'s axis (0 for CONV_2D, 3 for DEPTHWISE_CONV_2D), FC per tensor, every float activation', () => {
    const mobilenet = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    for (const graph of [mnist, mobilenet]) {
      const plan = planTraining(graph, data(30, true), { mode: 'qat' });
      const expected = floatWeightsOf(graph);
      expect(plan.weights.map((w) => w.tensorIndex).sort((a, b) => a - b)).toEqual([...expected.keys()].sort((a, b) => a - b));
      for (const w of plan.weights) {
        if (w.role === 'bias') {
          expect(w.fakeQuant).toBeUndefined();
          continue;
        }
        const axis = { CONV_2D: 0, DEPTHWISE_CONV_2D: 3, FULLY_CONNECTED: null }[w.op as 'CONV_2D'];
        expect(w.fakeQuant).toEqual({ granularity: axis === null ? 'per-tensor' : 'per-channel', axis, bits: 8 });
      }
      const subgraph = graph.subgraphs[0];
      const floatOutputs = new Set(subgraph.operators.flatMap((op) => op.outputs).filter((t) => subgraph.tensors[t].type === TensorType.FLOAT32));
      expect(new Set(plan.activations!.tensors)).toEqual(new Set([...subgraph.inputs, ...floatOutputs]));
      roundTrips(plan);
    }
    expect(planTraining(mobilenet, data(30, true), { mode: 'qat' }).weights.some((w) => w.op === 'DEPTHWISE_CONV_2D')).toBe(true);
    const perTensor = planTraining(mnist, data(30, true), { mode: 'qat', weightGranularity: 'per-tensor' });
    expect(perTensor.weights.filter((w) => w.role === 'weight').every((w) => w.fakeQuant?.granularity === 'per-tensor' && w.fakeQuant.axis === null)).toBe(true);
  });

  it('distills without labels and says why; refuses cross-entropy without them', () => {
    const plan = planTraining(mnist, data(50, false), { mode: 'finetune' });
    expect(plan.loss.kind).toBe('distillation');
    expect(plan.loss.reason).toMatch(/50 of 50 samples have no label/);
    roundTrips(plan);
    expect(() => planTraining(mnist, data(10, false), { mode: 'finetune', loss: 'cross-entropy' })).toThrow(/10 of 10 have none.*distillation/);
  });

  it('a distillation temperature applies to the softmax logits only: kept there, 1 with a note for labels, refused when not positive', () => {
    expect(planTraining(mnist, data(50, false), { mode: 'qat', temperature: 4 }).loss).toMatchObject({ kind: 'distillation', form: 'softmax-cross-entropy', temperature: 4 });
    expect(planTraining(mnist, data(50, false), { mode: 'qat' }).loss.temperature).toBe(1);
    const labeled = planTraining(mnist, data(50, true), { mode: 'qat', temperature: 4 });
    expect(labeled.loss.temperature).toBe(1);
    expect(labeled.notes.join('\n')).toMatch(/temperature 4 ignored: .* this loss is cross-entropy on labels/);
    for (const bad of [0, -1, Number.NaN, Infinity]) expect(() => planTraining(mnist, data(50, false), { mode: 'qat', temperature: bad })).toThrow(/the temperature must be a positive number/);
  });
});
