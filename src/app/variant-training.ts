/**
 * The training step of a variant (finetune / qat): the training split as finetune's data, the
 * progress as batched chart points, and the summary the trained variant keeps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset';
import type { EngineInfo } from '../engine/backend';
import type { ChainRequest, ChainResult } from '../optimize/chain';
import type { TrainingData } from '../optimize/finetune';
import { progressBatcher, type TrainingPoint, type TrainingSummary, type WorkerMemory } from './training-progress';
import type { ProgressCallback, TrainingCallback, TrainingRequest } from './worker-protocol';

/** At most this many training messages a second reach the page (each re-renders the live chart). */
const TRAINING_MESSAGES_PER_SECOND = 4;
const DEFAULT_EPOCHS = 3;

export interface VariantTrainingRequest {
  mode: 'finetune' | 'qat';
  dataset: Dataset;
  indices: number[];
  settings?: TrainingRequest | null;
  /** Stops training only: the best weights so far go on through the rest of the chain. */
  stop: AbortSignal;
  initEngine: () => Promise<EngineInfo>;
  onProgress: ProgressCallback;
  onTraining?: TrainingCallback;
}

/** The chain's training request, and (after the chain ran) the summary; `flush` sends the last points. */
export async function variantTraining(request: VariantTrainingRequest) {
  const { settings, onProgress } = request;
  const backend = (await request.initEngine()).backend;
  let steps = 0;
  let peakHeap: number | null = null;
  let shape = { epochs: settings?.epochs ?? DEFAULT_EPOCHS, stepsPerEpoch: 0 };
  const batcher = progressBatcher((points) => {
    const memory = engineMemory();
    if (memory.tfjsHeapBytes !== null) peakHeap = Math.max(peakHeap ?? 0, memory.tfjsHeapBytes);
    request.onTraining?.({ points, ...shape, memory, backend });
  }, 1000 / TRAINING_MESSAGES_PER_SECOND);
  const chainTraining: NonNullable<ChainRequest['training']> = {
    signal: request.stop,
    data: trainingData(request.dataset, request.indices),
    options: {
      epochs: settings?.epochs,
      batchSize: settings?.batchSize,
      learningRate: settings?.learningRate,
      ...(settings?.augment === 'flip' ? { augment: 'flip' as const } : {}),
      onProgress: (p) => {
        shape = { epochs: p.epochs, stepsPerEpoch: p.stepsPerEpoch };
        if (p.phase === 'train') steps = (p.epoch - 1) * p.stepsPerEpoch + p.step;
        const point: TrainingPoint = { x: steps, epoch: p.epoch, phase: p.phase, loss: p.loss, accuracy: p.accuracy };
        if (p.validation) Object.assign(point, { validationLoss: p.validation.loss, validationAccuracy: p.validation.accuracy });
        batcher.push(point);
        onProgress('train', steps, p.epochs * p.stepsPerEpoch);
      },
    },
  };
  const summary = (t: NonNullable<ChainResult['trained']>, lsq?: ChainResult['lsq']): TrainingSummary => ({
    mode: request.mode,
    loss: t.loss,
    epochsPlanned: settings?.epochs ?? DEFAULT_EPOCHS,
    epochsDone: t.history.filter((h) => h.epoch > 0).length,
    bestEpoch: t.bestEpoch,
    batchSize: t.batchSize,
    learningRate: settings?.learningRate ?? (request.mode === 'qat' ? 1e-4 : 1e-3),
    trainSamples: request.indices.length,
    stopped: t.stopped,
    elapsedMs: t.elapsedMs,
    backend,
    peakHeapBytes: peakHeap,
    ...(lsq ? { lsq } : {}),
  });
  return { chainTraining, summary, flush: () => batcher.flush() };
}

/** The training split as finetune's TrainingData (labels only when every sample has one). */
function trainingData(d: Dataset, indices: number[]): TrainingData {
  const labels = indices.map((i) => d.labels[i] ?? null);
  return { size: indices.length, labels: labels.every((l) => l !== null) ? labels : labels.map(() => null), sample: (i) => d.sample(indices[i]) };
}

/** What this thread can see of its memory: the tfjs WASM heap, live tensors, the JS heap (Chromium). */
function engineMemory(): WorkerMemory {
  const backend = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }) : null;
  const jsHeap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  return { tfjsHeapBytes: backend?.wasm?.HEAPU8?.length ?? null, tfjsTensorBytes: tf.memory().numBytes, jsHeapBytes: jsHeap ?? null };
}
