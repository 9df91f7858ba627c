/**
 * QAT's activation ranges: measured first on (up to) the first training samples with the weights as
 * they start, then tracked over the batches by a moving average; the forward pass fake-quantizes
 * every planned float activation to int8 in its current range, with straight-through gradients.
 * The batch statistics come from the activations before fake quantization (as TF's moving-average
 * quantizers observe them): the fake-quantized values are clipped to the current range, so ranges
 * tracked from them could only shrink, never follow an activation that grows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import type { GraphExecutor } from '../engine/executor';
import { fakeQuantizeSte, type FakeQuantParams } from '../engine/fake-quant';
import { lsqQuantizeActivation } from '../engine/lsq';
import { activationParams } from './quantize/params';
import { loadBatch } from './training-batches';
import type { TrainingData } from './training-types';

export type ActivationRanges = Map<number, { min: number; max: number }>;

export async function initialRanges(
  executor: GraphExecutor,
  data: TrainingData,
  samples: number[],
  batchSize: number,
  inputShapes: number[][],
  tensors: number[],
  weightMap: () => Map<number, tf.Tensor>,
  signal?: AbortSignal,
): Promise<ActivationRanges> {
  const ranges: ActivationRanges = new Map();
  const count = samples.length;
  for (let start = 0; start < count; start += batchSize) {
    if (signal?.aborted) throw new WorkbenchError('cancelled', 'Training was cancelled while measuring activation ranges.');
    const indices = samples.slice(start, Math.min(start + batchSize, count));
    const inputs = await loadBatch(data, indices, inputShapes);
    const stacked = tf.tidy(() => {
      const r = executor.run(inputs, { weights: weightMap(), taps: tensors });
      return tf.stack(tensors.map((t) => tf.stack([tf.min(r.taps.get(t)!), tf.max(r.taps.get(t)!)])));
    });
    const v = (await stacked.data()) as Float32Array;
    tf.dispose([stacked, ...inputs]);
    tensors.forEach((t, i) => {
      const r = ranges.get(t);
      ranges.set(t, { min: Math.min(r?.min ?? Infinity, v[2 * i]), max: Math.max(r?.max ?? -Infinity, v[2 * i + 1]) });
    });
  }
  return ranges;
}

/** Moves each range toward a batch's [min, max] pairs (laid out as `tensors`); non-finite ones are skipped. */
export function trackRanges(ranges: ActivationRanges, tensors: number[], minMax: Float32Array, momentum: number): void {
  tensors.forEach((t, i) => {
    const r = ranges.get(t)!;
    const lo = minMax[2 * i];
    const hi = minMax[2 * i + 1];
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
    ranges.set(t, { min: momentum * r.min + (1 - momentum) * lo, max: momentum * r.max + (1 - momentum) * hi });
  });
}

/**
 * A batch's [min, max] of each of `tensors` (values before fake quantization), stacked so that one
 * read brings them all to the CPU.
 */
export function batchMinMax(tensors: number[], observed: ReadonlyMap<number, tf.Tensor>): tf.Tensor {
  return tf.tidy(() =>
    tf.stack(
      tensors.map((t) => {
        const v = observed.get(t);
        if (!v) throw new WorkbenchError('runtime', `QAT: activation ${t} was not computed in the forward pass`);
        return tf.stack([tf.min(v), tf.max(v)]);
      }),
    ),
  );
}

/**
 * The executor's per-tensor transform: int8 fake-quantization of a float activation in its current
 * range. Each value it fake-quantizes is first put in `observed` (by tensor index), for batchMinMax.
 */
export function fakeQuantizeActivations(ranges: ActivationRanges, observed?: Map<number, tf.Tensor>, sharedScale: number[][] = []): (t: number, v: tf.Tensor) => tf.Tensor {
  const groupOf = groupIndex(sharedScale);
  return (t, v) => {
    const r = ranges.get(t);
    if (!r || v.dtype !== 'float32') return v;
    observed?.set(t, v);
    // A shared-scale group runs in the union of its members' current ranges, as the written model will.
    const group = groupOf.get(t);
    const u = group ? unionRange(ranges, group) : r;
    const p = activationParams(u.min, u.max, 8);
    const fq: FakeQuantParams = { scale: p.scale, zeroPoint: p.zeroPoint, axis: 0, qmin: -128, qmax: 127 };
    return fakeQuantizeSte(v, fq);
  };
}

function groupIndex(sharedScale: number[][]): Map<number, number[]> {
  const result = new Map<number, number[]>();
  for (const g of sharedScale) for (const t of g) result.set(t, g);
  return result;
}

function unionRange(ranges: ActivationRanges, group: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const t of group) {
    const r = ranges.get(t);
    if (!r) continue;
    min = Math.min(min, r.min);
    max = Math.max(max, r.max);
  }
  return { min, max };
}

/** Learned activation steps (LSQ) by tensor index: the step variable and the fixed zero point. */
export type ActivationSteps = Map<number, { step: tf.Variable; zeroPoint: number; perSample: number }>;

/**
 * A step variable per activation, started from its measured range's int8 scale; the zero point stays.
 * The members of a shared-scale group hold one variable (started from their union range), so what
 * training learns for them is the one scale the written model can give them.
 */
export function activationSteps(ranges: ActivationRanges, perSample: (t: number) => number, sharedScale: number[][] = []): ActivationSteps {
  const steps: ActivationSteps = new Map();
  const groupOf = groupIndex(sharedScale);
  for (const t of ranges.keys()) {
    if (steps.has(t)) continue;
    const members = (groupOf.get(t) ?? [t]).filter((m) => ranges.has(m));
    const r = unionRange(ranges, members);
    const p = activationParams(r.min, r.max, 8);
    const init = tf.tensor1d([p.scale[0]]);
    // LSQ scales a step's gradient by 1/sqrt(elements); a shared step sums its members' gradients, so
    // it takes the largest member's count.
    const step = { step: tf.variable(init, true, `astep${t}`), zeroPoint: p.zeroPoint[0], perSample: Math.max(1, ...members.map(perSample)) };
    init.dispose(); // the variable holds its own reference
    for (const m of members) steps.set(m, step);
  }
  return steps;
}

/** The executor's transform with learned steps: LSQ fake-quantization of each planned activation. */
export function learnedActivations(steps: ActivationSteps): (t: number, v: tf.Tensor) => tf.Tensor {
  return (t, v) => {
    const a = steps.get(t);
    if (!a || v.dtype !== 'float32') return v;
    return lsqQuantizeActivation(v, a.step, a.zeroPoint, -128, 127, a.perSample);
  };
}

/** The range an int8 activation with step s and zero point z covers: activationParams gives back s and z. */
export function rangeOfStep(step: number, zeroPoint: number): { min: number; max: number } {
  return { min: step * (-128 - zeroPoint), max: step * (127 - zeroPoint) };
}
