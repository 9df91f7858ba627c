/**
 * The weights of a training plan as engine variables, and back: buildTrainables makes them (the
 * plan says which constraint each one trains under), weightValues is what the graph reads in a
 * forward pass (QAT: fake-quantized as the int8 path will store them), exportWeights writes the
 * kept values into a copy of the graph.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { fakeQuantizeWeightsSte } from '../engine/fake-quant';
import { trainableWeight, type TrainableWeight } from '../engine/trainable';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { elementCount } from '../tflite/shape';
import type { TrainingPlan } from './training-plan-types';

export function buildTrainables(graph: ModelGraph, plan: TrainingPlan): TrainableWeight[] {
  const subgraph = graph.subgraphs[0];
  return plan.weights.map((w) => {
    const tensor = subgraph.tensors[w.tensorIndex];
    const values = new Float32Array(graph.buffers[tensor.buffer].data.slice().buffer, 0, elementCount(tensor.shape));
    return trainableWeight({ tensorIndex: w.tensorIndex, name: tensor.name, shape: tensor.shape, values, axis: w.axis, role: w.role, keepZeros: w.keepZeros, clusters: w.clusters });
  });
}

/** Tensor index -> the value the graph reads (call inside the training tape). */
export function weightValues(plan: TrainingPlan, weights: TrainableWeight[]): Map<number, tf.Tensor> {
  return new Map(
    weights.map((w, i) => {
      const fakeQuant = plan.weights[i].fakeQuant;
      return [w.tensorIndex, fakeQuant ? fakeQuantizeWeightsSte(w.value(), fakeQuant.axis) : w.value()];
    }),
  );
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
