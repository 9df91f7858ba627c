/**
 * One QAT epoch of MobileNetV1 0.25 on N photos, the same code in Node and in a browser worker
 * (bench/browser-epoch.ts runs both): the photos as DataFiles, normalized to [-1, 1], labels from
 * the folder's labels.csv, finetune() in QAT mode for one epoch; the epoch timed from the end of the
 * validation before training to the end of the one after it, and split by part (training profile).
 */
import { openDataset, subset } from '../../src/data/dataset';
import { defaultPreprocessing, graphInputs } from '../../src/data/default-preprocessing';
import type { DataFile } from '../../src/data/files';
import { finetune, type TrainingProfile } from '../../src/optimize/finetune';
import { readModel } from '../../src/tflite/read';

export interface EpochRun {
  epochMs: number;
  /** The epoch's parts (the validation before it excluded). */
  parts: TrainingProfile;
  steps: number;
  batch: number;
}

export async function qatEpoch(model: Uint8Array, files: DataFile[], labelsCsv: string, count: number, batchSize = 16): Promise<EpochRun> {
  const graph = readModel(model);
  const dataset = await openDataset(files, graphInputs(graph), {
    preprocessing: graph.subgraphs[0].inputs.map((_, i) => ({ ...defaultPreprocessing(graph, i).preprocessing!, mean: [127.5], std: [127.5] })),
    labelsCsv: { text: labelsCsv, name: 'labels.csv', labelColumn: 'label_1001' },
  });
  const data = subset(dataset, Array.from({ length: Math.min(count, dataset.size) }, (_, i) => i));
  const profile: TrainingProfile = {};
  let before: TrainingProfile = {};
  const marks: number[] = [];
  const result = await finetune(graph, data, {
    mode: 'qat',
    epochs: 1,
    batchSize,
    profile,
    onProgress: (p) => {
      if (p.phase !== 'validate') return;
      marks[p.epoch] = performance.now();
      if (p.epoch === 0) before = { ...profile };
    },
  });
  const parts: TrainingProfile = {};
  for (const [part, ms] of Object.entries(profile)) parts[part as keyof TrainingProfile] = ms! - (before[part as keyof TrainingProfile] ?? 0);
  return { epochMs: marks[1] - marks[0], parts, steps: result.plan.stepsPerEpoch, batch: result.batchSize };
}
