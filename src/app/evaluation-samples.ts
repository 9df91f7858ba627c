/** What a variant is evaluated on: the evaluation split (with labels when all have one), or seeded random inputs without data. */
import { boxesAt, masksAt, type ClassMask, type Dataset, type LabeledBox } from '../data/dataset';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import type { Sample } from '../runtime/samples';
import type { SplitIndices } from './split';
import { samplesOf } from './yielding-samples';

const RANDOM_SAMPLES = 16;

export interface EvaluationSamples {
  samples: AsyncIterable<Sample> | Sample[];
  labels?: number[];
  /** Detectors: the ground-truth boxes of each sample, when the data set has box labels. */
  boxes?: LabeledBox[][];
  /** Segmenters: the ground-truth class mask of each sample, when the data set has masks. */
  masks?: ClassMask[];
  total: number;
  random: boolean;
}

export async function evaluationSamples(reference: Uint8Array, d: Dataset | null, indices: SplitIndices | null): Promise<EvaluationSamples> {
  if (d && indices) {
    const labels = indices.evaluation.map((i) => d.labels[i]);
    return {
      samples: samplesOf(d, indices.evaluation),
      labels: labels.every((l) => l !== null) ? (labels as number[]) : undefined,
      boxes: boxesAt(d, indices.evaluation),
      masks: masksAt(d, indices.evaluation),
      total: indices.evaluation.length,
      random: false,
    };
  }
  const loaded = await loadModel(reference);
  try {
    return { samples: Array.from({ length: RANDOM_SAMPLES }, (_, seed) => randomInputs(loaded, seed + 1) as Sample), total: RANDOM_SAMPLES, random: true };
  } finally {
    loaded.delete();
  }
}
