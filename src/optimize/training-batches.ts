/**
 * Batches for training: the samples' inputs stacked per model input, and the loss target (labels, or
 * the teacher's outputs, computed once per sample and cached, since the teacher never changes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import type { GraphExecutor } from '../engine/executor';
import { elementCount } from '../tflite/shape';
import type { TrainingPlan } from './training-plan-types';
import type { TrainingData } from './training-types';

export async function loadBatch(data: TrainingData, indices: number[], shapes: number[][]): Promise<tf.Tensor[]> {
  const samples = await Promise.all(indices.map((i) => data.sample(i)));
  return shapes.map((shape, input) => {
    const size = elementCount(shape);
    const buffer = new Float32Array(indices.length * size);
    samples.forEach((s, row) => {
      if (s[input]?.length !== size) throw new WorkbenchError('bad-input', `training sample ${indices[row]} input ${input} has ${s[input]?.length} values; the model takes ${size} (${shape.join('x')})`);
      buffer.set(s[input], row * size);
    });
    return tf.tensor(buffer, [indices.length, ...shape]);
  });
}

export type BatchLoader = (indices: number[]) => Promise<{ inputs: tf.Tensor[]; target: tf.Tensor }>;

/** Inputs and target of a batch: class labels for cross-entropy, the teacher's outputs for distillation. */
export function batchLoader(plan: TrainingPlan, data: TrainingData, inputShapes: number[][], teacher: GraphExecutor | null): BatchLoader {
  const teacherCache = new Map<number, Float32Array>();
  const teacherOutputs = async (indices: number[], inputs: tf.Tensor[]): Promise<tf.Tensor> => {
    const missing = indices.filter((i) => !teacherCache.has(i));
    if (missing.length) {
      const out = tf.tidy(() => {
        // A softmax classifier's output already is the distribution the student's logits are fit to.
        const r = teacher!.run(inputs, { freeIntermediates: true });
        return tf.reshape(r.outputs[plan.loss.head.output], [indices.length, -1]);
      });
      const values = (await out.data()) as Float32Array;
      const width = values.length / indices.length;
      indices.forEach((i, row) => teacherCache.set(i, values.slice(row * width, (row + 1) * width)));
      out.dispose();
    }
    const width = teacherCache.get(indices[0])!.length;
    const all = new Float32Array(indices.length * width);
    indices.forEach((i, row) => all.set(teacherCache.get(i)!, row * width));
    return tf.tensor2d(all, [indices.length, width]);
  };
  return async (indices) => {
    const inputs = await loadBatch(data, indices, inputShapes);
    const target = plan.loss.kind === 'cross-entropy' ? tf.tensor1d(indices.map((i) => data.labels[i]!), 'float32') : await teacherOutputs(indices, inputs);
    return { inputs, target };
  };
}
