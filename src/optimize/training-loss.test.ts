/**
 * The distillation loss at a temperature, against the formula computed by hand in float64: the
 * teacher's softmax(t / T) taken from its probabilities, the student's log softmax(z / T), their
 * cross-entropy averaged over the rows, times T^2. T = 1 is the plain cross-entropy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeEngine } from '../engine/backend-node';
import { batchLoss } from './training-loss';
import type { PlannedLoss } from './training-plan-types';

const softmax = (z: number[], T: number) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp((v - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function byHand(student: number[][], teacherLogits: number[][], T: number): number {
  let sum = 0;
  student.forEach((z, r) => {
    const p = softmax(teacherLogits[r], T);
    const q = softmax(z, T);
    sum -= p.reduce((acc, pi, i) => acc + pi * Math.log(q[i]), 0);
  });
  return (T * T * sum) / student.length;
}

beforeAll(async () => {
  await initNodeEngine();
});

describe('distillation at a temperature', () => {
  const student = [[2.0, -1.0, 0.5, 3.0], [0.1, 0.2, -2.0, 1.5]];
  const teacherLogits = [[2.5, -0.5, 0.0, 2.0], [-1.0, 0.3, -3.0, 2.5]];
  const planned = (temperature: number): PlannedLoss => ({ kind: 'distillation', reason: '', form: 'softmax-cross-entropy', head: { output: 0, logits: 1, beta: 1 }, temperature });

  for (const T of [1, 2, 4]) {
    it(`T = ${T}: T^2 x cross-entropy of softmax(t / T) and softmax(z / T), the teacher given as its probabilities`, async () => {
      const logits = tf.tensor2d(student);
      const target = tf.tensor2d(teacherLogits.map((t) => softmax(t, 1))); // what the teacher's softmax output holds
      const l = batchLoss(planned(T), { outputs: [target], taps: new Map([[1, logits]]) }, target, 2);
      expect((await l.loss.data())[0]).toBeCloseTo(byHand(student, teacherLogits, T), 4);
      // The predicted and reference classes are the untempered argmaxes.
      expect(Array.from(await l.predicted.data())).toEqual([3, 3]);
      expect(Array.from(await l.reference!.data())).toEqual([0, 3]);
      tf.dispose([logits, target, l.loss, l.predicted, l.reference!]);
    });
  }
});
