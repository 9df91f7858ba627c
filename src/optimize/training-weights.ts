/**
 * The weights of a training plan as engine variables, and back: buildTrainables makes them (the
 * plan says which constraint each one trains under), weightValues is what the graph reads in a
 * forward pass (QAT: fake-quantized as the int8 path will store them), exportWeights writes the
 * kept values into a copy of the graph.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { tensor1d as tfTensor1d, variable as tfVariable } from '@tensorflow/tfjs-core';
import { fakeQuantizeWeightsSte } from '../engine/fake-quant';
import { lsqQuantize } from '../engine/lsq';
import { INT4_MAX, INT4_MIN } from './quantize/int4';
import { trainableWeight, type TrainableWeight } from '../engine/trainable';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { elementCount } from '../tflite/shape';
import type { TrainingPlan } from './training-plan-types';

/**
 * `stepRate`: weights with learned steps (QAT from a quantized start) move by about this share of
 * their channel's starting step per optimizer update, whatever the learning rate (which then
 * applies to biases and steps): at a plain rate, weights far larger than their step barely ever
 * cross a rounding boundary in the few updates a few hundred images give.
 */
export function buildTrainables(graph: ModelGraph, plan: TrainingPlan, learned?: Map<string, { scales: number[] }>, stepRate?: number): TrainableWeight[] {
  const subgraph = graph.subgraphs[0];
  return plan.weights.map((w) => {
    const tensor = subgraph.tensors[w.tensorIndex];
    const values = new Float32Array(graph.buffers[tensor.buffer].data.slice().buffer, 0, elementCount(tensor.shape));
    const scales = stepRate && w.fakeQuant?.learned && w.constraint === 'free' ? learned?.get(w.name)?.scales : undefined;
    const rate = scales ? { axis: scales.length === 1 ? null : w.fakeQuant!.axis, values: Float32Array.from(scales, (s) => (s * stepRate!) / plan.optimizer.learningRate) } : undefined;
    return trainableWeight({ tensorIndex: w.tensorIndex, name: tensor.name, shape: tensor.shape, values, axis: w.axis, role: w.role, keepZeros: w.keepZeros, clusters: w.clusters, rate });
  });
}

/** Tensor index -> the value the graph reads (call inside the training tape). */
export function weightValues(plan: TrainingPlan, weights: TrainableWeight[], steps?: StepVariables): Map<number, tf.Tensor> {
  return new Map(
    weights.map((w, i) => {
      const fakeQuant = plan.weights[i].fakeQuant;
      if (!fakeQuant) return [w.tensorIndex, w.value()];
      const step = fakeQuant.learned ? steps?.get(i) : undefined;
      if (step) {
        const [qmin, qmax] = fakeQuant.bits === 4 ? [INT4_MIN, INT4_MAX] : [-127, 127];
        return [w.tensorIndex, lsqQuantize(w.value(), step, { axis: fakeQuant.axis, qmin, qmax })];
      }
      return [w.tensorIndex, fakeQuantizeWeightsSte(w.value(), fakeQuant.axis)];
    }),
  );
}

/** The learned quantization steps (LSQ) by index into the plan's weights. */
export type StepVariables = Map<number, tf.Variable>;

/** A variable per weight the plan fake-quantizes with a learned step, started from the caller's scales. */
export function buildSteps(plan: TrainingPlan, learned: Map<string, { scales: number[] }> | undefined): StepVariables {
  const steps: StepVariables = new Map();
  plan.weights.forEach((w, i) => {
    const given = w.fakeQuant?.learned ? learned?.get(w.name) : undefined;
    if (!given) return;
    const init = tfTensor1d(given.scales);
    steps.set(i, tfVariable(init, true, `step${w.tensorIndex}`));
    init.dispose(); // the variable holds its own reference
  });
  return steps;
}

/** The steps' current values by weight tensor name, with their bits. */
export async function readSteps(plan: TrainingPlan, steps: StepVariables, values?: Map<number, Float32Array>): Promise<Map<string, { bits: 4 | 8; scales: number[] }>> {
  const out = new Map<string, { bits: 4 | 8; scales: number[] }>();
  for (const [i, v] of steps) {
    const w = plan.weights[i];
    const data = values?.get(i) ?? ((await v.data()) as Float32Array);
    out.set(w.name, { bits: w.fakeQuant!.bits, scales: Array.from(data) });
  }
  return out;
}

export async function snapshot(weights: TrainableWeight[]): Promise<Float32Array[]> {
  return Promise.all(weights.map((w) => w.read().then((v) => v.slice())));
}

/** A copy of the graph holding `values` (one array per trainable, in order). */
export function exportWeights(graph: ModelGraph, weights: TrainableWeight[], values: Float32Array[]): ModelGraph {
  const out = cloneGraph(graph);
  const subgraph = out.subgraphs[0];
  weights.forEach((w, i) => {
    const tensor = subgraph.tensors[w.tensorIndex];
    out.buffers[tensor.buffer] = { data: new Uint8Array(values[i].slice().buffer) };
  });
  return out;
}
