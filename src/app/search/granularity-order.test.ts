import { describe, expect, it } from 'vitest';
import { readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import { opName } from '../../tflite/ops';
import type { OpPlan, QuantizationPlan } from '../../optimize/quantize/plan-types';
import { MAX_NOISE_RATIO, PER_CHANNEL_BYTES, perTensorOrder } from './granularity-order';

/** A plan over MobileNetV1 0.25's ops where each CONV_2D / DEPTHWISE_CONV_2D has the given per-channel weight scales. */
function planWith(scalesOf: (opIndex: number, channels: number) => number[] | null): { plan: QuantizationPlan; graph: ReturnType<typeof readModel> } {
  const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
  const sg = graph.subgraphs[0];
  const ops: OpPlan[] = sg.operators.map((op, opIndex) => {
    const name = opName(graph, op);
    const base = { opIndex, op: name, mode: 'quantized' as const, precision: 'int8' as const, activationBits: 8 as const, weightBits: 8 };
    if (name !== 'CONV_2D' && name !== 'DEPTHWISE_CONV_2D') return base;
    const w = sg.tensors[op.inputs[1]];
    const channels = w.shape[name === 'CONV_2D' ? 0 : 3];
    const scales = scalesOf(opIndex, channels);
    if (!scales) return base;
    return { ...base, weights: { tensorIndex: op.inputs[1], name: w.name, role: 'weight', dtype: 'int8', bits: 8, granularity: 'per-channel', axis: 0, scales, zeroPoints: scales.map(() => 0), input: 1 } };
  });
  return { graph, plan: { activationBits: 8, perChannel: true, io: 'float', subgraphs: [{ index: 0, ops, io: [], tensors: [] }] } as unknown as QuantizationPlan };
}

describe('perTensorOrder', () => {
  it('takes ops whose channels share a range and save 1% of the file, largest saving first, and names them by output tensor', () => {
    // Every layer's channels alike (noise ratio 1): only layers with 16 * channels >= 1% of 535,440 bytes (335+ channels) qualify.
    const { graph, plan } = planWith((_, channels) => Array.from({ length: channels }, () => 0.01));
    const steps = perTensorOrder(graph, plan, 535_440);
    expect(steps.map((s) => s.channels)).toEqual([1001]);
    expect(steps[0]).toMatchObject({ bytesSaved: 1001 * PER_CHANNEL_BYTES, output: 'MobilenetV1/Logits/Conv2d_1c_1x1/BiasAdd' });
    expect(steps[0].noiseRatio).toBeCloseTo(1, 9);
    // A smaller file makes the 256-channel layers worth a step too; larger saving first.
    const more = perTensorOrder(graph, plan, 300_000);
    expect(more.map((s) => s.channels)).toEqual([1001, 256, 256, 256]);
  });

  it('leaves per channel the ops whose one scale would add more than 10 dB of rounding noise: max(s)^2 / mean(s^2)', () => {
    // One channel in ten with 10x the scale: mean(s^2) = (0.9 + 0.1 * 100) / 1 = 10.9 -> ratio 100 / 10.9 = 9.17: kept.
    // One in twenty: mean(s^2) = 0.95 + 5 = 5.95 -> ratio 16.8: not kept.
    const spread = (every: number) => (_: number, channels: number) => Array.from({ length: channels }, (_, c) => (c % every === 0 ? 10 : 1));
    const kept = perTensorOrder(...args(planWith(spread(10))));
    expect(kept.map((s) => s.channels)).toEqual([1001]);
    expect(kept[0].noiseRatio).toBeLessThanOrEqual(MAX_NOISE_RATIO);
    const expected = (10 * 10) / ((Math.ceil(1001 / 10) * 100 + (1001 - Math.ceil(1001 / 10))) / 1001);
    expect(kept[0].noiseRatio).toBeCloseTo(expected, 9);
    expect(perTensorOrder(...args(planWith(spread(20))))).toEqual([]);
  });

  it('skips int4 weights, per-tensor weights and float ops', () => {
    const { graph, plan } = planWith((_, channels) => Array.from({ length: channels }, () => 0.01));
    const logits = plan.subgraphs[0].ops.findIndex((op) => op.mode === 'quantized' && op.weights?.scales.length === 1001);
    const op = plan.subgraphs[0].ops[logits];
    if (op.mode !== 'quantized' || !op.weights) throw new Error('no logits');
    for (const change of [{ bits: 4 }, { granularity: 'per-tensor' as const }]) {
      plan.subgraphs[0].ops[logits] = { ...op, weights: { ...op.weights, ...change } };
      expect(perTensorOrder(graph, plan, 535_440)).toEqual([]);
    }
    plan.subgraphs[0].ops[logits] = { opIndex: logits, op: op.op, mode: 'float', precision: 'float', reason: 'kept', activationBits: 32, weightBits: 32 };
    expect(perTensorOrder(graph, plan, 535_440)).toEqual([]);
  });
});

function args({ graph, plan }: ReturnType<typeof planWith>): [ReturnType<typeof readModel>, QuantizationPlan, number] {
  return [graph, plan, 535_440];
}
