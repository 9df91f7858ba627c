/**
 * The split rule: which dataset samples calibrate, which train and which evaluate a variant. One
 * seeded shuffle: calibration first, then the extra training samples, the rest evaluates. Training
 * is calibration + extra, never evaluation, so a trained variant is judged on images it never saw.
 */
import { randomIndices } from '../data/dataset';
import type { Split } from './worker-protocol';

export interface SplitIndices {
  calibration: number[];
  training: number[];
  evaluation: number[];
}

export function splitIndices(dataset: { size: number }, split: Split): SplitIndices {
  const size = dataset.size;
  const order = randomIndices(size, size, 0);
  const c = Math.max(0, Math.min(split.calibration, size));
  const t = Math.max(0, Math.min(split.training ?? 0, size - c - 1));
  const calibration = order.slice(0, c);
  const training = order.slice(0, c + t);
  let evaluation = order.slice(c + t);
  // Everything went to calibration: evaluate on the first samples again rather than on none.
  if (evaluation.length === 0) evaluation = order.slice(0, Math.min(size, split.evaluation));
  return { calibration, training, evaluation: evaluation.slice(0, Math.max(1, split.evaluation)) };
}
