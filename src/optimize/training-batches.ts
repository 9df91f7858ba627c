/**
 * Batches for training: the samples' inputs stacked per model input, and the loss target (labels, or
 * the teacher's outputs, computed once per sample and cached, since the teacher never changes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import type { GraphExecutor } from '../engine/executor';
import { elementCount } from '../tflite/shape';
import { teacherFeatures, type PlannedFeatures, type TeacherFeatures } from './training-features';
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

/**
 * `training`: a batch to train on (augmented when asked, with the teacher's intermediate tensors when
 * features are distilled), not one to validate on.
 */
export type BatchLoader = (indices: number[], training?: boolean) => Promise<{ inputs: tf.Tensor[]; target: tf.Tensor; features?: TeacherFeatures }>;

/** Inputs and target of a batch: class labels for cross-entropy, the teacher's outputs for distillation. */
export function batchLoader(
  plan: TrainingPlan,
  data: TrainingData,
  inputShapes: number[][],
  teacher: GraphExecutor | null,
  augment?: { kind: 'flip'; random: () => number },
  features?: PlannedFeatures | null,
): BatchLoader {
  const teacherCache = new Map<number, Float32Array>();
  // A mirrored image is a new input: its teacher scores are computed for it, never cached.
  const teacherOf = (inputs: tf.Tensor[], rows: number): tf.Tensor =>
    tf.tidy(() => tf.reshape(teacher!.run(inputs, { freeIntermediates: true }).outputs[plan.loss.head.output], [rows, -1]));
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
  const images = inputShapes.map((shape) => shape.length === 3 && shape[0] > 1 && shape[1] > 1);
  // One teacher run gives both the target and the inner tensors (too large to cache per sample).
  const withFeatures = (inputs: tf.Tensor[], rows: number) => {
    const { outputs, features: f } = teacherFeatures(teacher!, inputs, features!);
    const target = tf.tidy(() => tf.reshape(outputs[plan.loss.head.output], [rows, -1]));
    tf.dispose(outputs);
    return { inputs, target, features: f };
  };
  return async (indices, training) => {
    const inputs = await loadBatch(data, indices, inputShapes);
    if (training && augment && plan.loss.kind === 'distillation' && images.some(Boolean)) {
      const flips = indices.map(() => augment.random() < 0.5);
      if (flips.some(Boolean)) {
        const mask = tf.tensor4d(flips.map((f) => (f ? 1 : 0)), [indices.length, 1, 1, 1]);
        const mirrored = inputs.map((x, k) => (images[k] ? tf.tidy(() => tf.where(tf.cast(tf.broadcastTo(mask, x.shape), 'bool'), tf.reverse(x, 2), x)) : x));
        mask.dispose();
        inputs.forEach((x, k) => images[k] && x.dispose());
        if (features) return withFeatures(mirrored, indices.length);
        return { inputs: mirrored, target: teacherOf(mirrored, indices.length) };
      }
    }
    if (training && features && plan.loss.kind === 'distillation') return withFeatures(inputs, indices.length);
    const target = plan.loss.kind === 'cross-entropy' ? tf.tensor1d(indices.map((i) => data.labels[i]!), 'float32') : await teacherOutputs(indices, inputs);
    return { inputs, target };
  };
}
