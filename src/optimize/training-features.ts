/**
 * Distillation of intermediate tensors (feature distillation, the block-reconstruction idea of
 * BRECQ carried into QAT): besides the outputs, the student fits chosen inner tensors to the
 * teacher's. From a few images the logits alone give one distribution per image to match; a
 * feature map gives thousands of values per image, each close to the weights that made it.
 *
 * The student may hold a tensor rescaled per channel against the teacher (cross-layer
 * equalization, high-bias absorption: OptimizeResult.channelScales / channelShifts, reference =
 * (student + shift) * scale), so the teacher's value is mapped to the student's frame first.
 * Each tensor's squared error is divided by the teacher's mean square there, so every layer
 * weighs the same whatever its scale, and the mean over the tensors is added to the output loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import type { GraphExecutor } from '../engine/executor';
import type { ModelGraph } from '../tflite/graph';
import { elementCount } from '../tflite/shape';

export interface FeatureDistillation {
  /** Tensor names found in both the student and the teacher, with the same element count. */
  tensors: string[];
  /** Factor of the feature term beside the output loss. */
  weight: number;
  /** The teacher's tensors (by name) that the student holds divided per channel (last axis) by these. */
  channelScales?: Readonly<Record<string, ArrayLike<number>>>;
  /** ... and lowered per channel by these before that division. */
  channelShifts?: Readonly<Record<string, ArrayLike<number>>>;
}

export interface FeaturePair {
  name: string;
  student: number;
  teacher: number;
  /** The student's shape without the batch axis. */
  shape: number[];
  /** 1 / channel scale, or null. */
  inverseScale: Float32Array | null;
  shift: Float32Array | null;
}

export interface PlannedFeatures {
  pairs: FeaturePair[];
  weight: number;
}

function indexByName(graph: ModelGraph): Map<string, number> {
  const byName = new Map<string, number>();
  graph.subgraphs[0].tensors.forEach((t, i) => byName.has(t.name) || byName.set(t.name, i));
  return byName;
}

/** The tensors of `features` in both graphs, checked; a name missing from either is an error that names it. */
export function planFeatures(student: ModelGraph, teacher: ModelGraph, features: FeatureDistillation): PlannedFeatures {
  if (!(features.weight > 0)) throw new WorkbenchError('bad-input', `feature distillation: the weight must be above 0, got ${features.weight}`);
  const studentIndex = indexByName(student);
  const teacherIndex = indexByName(teacher);
  const pairs = features.tensors.map((name): FeaturePair => {
    const s = studentIndex.get(name);
    const t = teacherIndex.get(name);
    if (s === undefined || t === undefined) throw new WorkbenchError('bad-input', `feature distillation: tensor '${name}' is not in the ${s === undefined ? 'student' : 'teacher'} model`);
    const shape = student.subgraphs[0].tensors[s].shape.slice(1);
    const teacherShape = teacher.subgraphs[0].tensors[t].shape.slice(1);
    if (elementCount(shape) !== elementCount(teacherShape)) {
      throw new WorkbenchError('bad-input', `feature distillation: tensor '${name}' has shape [${shape}] in the student and [${teacherShape}] in the teacher`);
    }
    const channels = shape[shape.length - 1] ?? 1;
    const perChannel = (what: string, values: ArrayLike<number> | undefined) => {
      if (!values) return null;
      if (values.length !== channels) throw new WorkbenchError('bad-input', `feature distillation: ${values.length} channel ${what} for '${name}', whose last axis has ${channels}`);
      return Float32Array.from(values);
    };
    const scale = perChannel('scales', features.channelScales?.[name]);
    return { name, student: s, teacher: t, shape, inverseScale: scale && scale.map((v) => 1 / v), shift: perChannel('shifts', features.channelShifts?.[name]) };
  });
  return { pairs, weight: features.weight };
}

export interface TeacherFeatures {
  /** The teacher's value of each pair in the student's frame, [rows, ...shape]. */
  targets: tf.Tensor[];
  /** Mean square of each target (a scalar each): what its error is divided by. */
  powers: tf.Scalar[];
}

/** The teacher's intermediate tensors for a batch, mapped into the student's frame (kept; the caller disposes). */
export function teacherFeatures(teacher: GraphExecutor, inputs: tf.Tensor[], planned: PlannedFeatures): { outputs: tf.Tensor[]; features: TeacherFeatures } {
  return tf.tidy(() => {
    const run = teacher.run(inputs, { taps: planned.pairs.map((p) => p.teacher), freeIntermediates: true });
    const rows = inputs[0].shape[0];
    const targets = planned.pairs.map((p) => {
      let v = tf.reshape(run.taps.get(p.teacher)!, [rows, ...p.shape]);
      if (p.inverseScale) v = tf.mul(v, tf.tensor1d(p.inverseScale));
      if (p.shift) v = tf.sub(v, tf.tensor1d(p.shift));
      return v;
    });
    const powers = targets.map((v) => tf.maximum(tf.mean(tf.square(v)), 1e-12) as tf.Scalar);
    return { outputs: run.outputs, features: { targets, powers } };
  });
}

/** Mean over the pairs of each one's squared error relative to the teacher's power there (inside the tape). */
export function featureLoss(planned: PlannedFeatures, taps: ReadonlyMap<number, tf.Tensor>, features: TeacherFeatures): tf.Scalar {
  const terms = planned.pairs.map((p, k) => {
    const student = tf.reshape(taps.get(p.student)!, features.targets[k].shape);
    return tf.div(tf.mean(tf.squaredDifference(student, features.targets[k])), features.powers[k]);
  });
  return tf.mul(tf.addN(terms), planned.weight / terms.length) as tf.Scalar;
}

export function disposeFeatures(features: TeacherFeatures | undefined): void {
  if (features) tf.dispose([...features.targets, ...features.powers]);
}
