/**
 * The loss of a batch as the plan says (softmax cross-entropy on the logits, cross-entropy on
 * probabilities, or mean squared error against the teacher), and what its accuracy compares: the
 * predicted class against the label, or against the teacher's class (agreement).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PlannedLoss } from './training-plan-types';

export interface BatchLoss {
  loss: tf.Scalar;
  predicted: tf.Tensor;
  /** Class to compare with, or null when the output is not a class (a single value). */
  reference: tf.Tensor | null;
}

/** Called inside the optimizer's tape, or for validation. */
export function batchLoss(planned: PlannedLoss, result: { outputs: tf.Tensor[]; taps: Map<number, tf.Tensor> }, target: tf.Tensor, rows: number): BatchLoss {
  const { head, kind } = planned;
  const output = result.outputs[head.output];
  if (head.logits !== null) {
    const logits = tf.reshape(result.taps.get(head.logits)!, [rows, -1]);
    const scaled = head.beta === 1 ? logits : tf.mul(logits, head.beta);
    const reference = kind === 'cross-entropy' ? target : tf.argMax(target, 1);
    const T = planned.temperature;
    if (T !== 1) {
      // softmax(z / T) of the teacher from its probabilities: p^(1/T), renormalized (1e-30 keeps 0^(1/T) finite).
      const soft = tf.pow(tf.clipByValue(target, 1e-30, 1), 1 / T);
      const teacher = tf.div(soft, tf.sum(soft, 1, true));
      return { loss: tf.mul(tf.losses.softmaxCrossEntropy(teacher, tf.div(scaled, T)), T * T) as tf.Scalar, predicted: tf.argMax(scaled, 1), reference };
    }
    const targets = kind === 'cross-entropy' ? tf.oneHot(tf.cast(target, 'int32'), scaled.shape[1]!) : target;
    return { loss: tf.losses.softmaxCrossEntropy(targets, scaled) as tf.Scalar, predicted: tf.argMax(scaled, 1), reference };
  }
  const flat = tf.reshape(output, [rows, -1]);
  if (kind === 'cross-entropy') {
    const probs = tf.clipByValue(flat, 1e-7, 1);
    const picked = tf.sum(tf.mul(tf.log(probs), tf.oneHot(tf.cast(target, 'int32'), flat.shape[1]!)), 1);
    return { loss: tf.neg(tf.mean(picked)) as tf.Scalar, predicted: tf.argMax(flat, 1), reference: target };
  }
  return { loss: tf.losses.meanSquaredError(target, flat) as tf.Scalar, predicted: tf.argMax(flat, 1), reference: flat.shape[1]! > 1 ? tf.argMax(target, 1) : null };
}

/** Number of rows whose predicted class is the reference one. */
export function hits(l: BatchLoss): tf.Tensor {
  return tf.sum(tf.cast(tf.equal(l.predicted, tf.cast(l.reference!, 'int32')), 'float32'));
}
