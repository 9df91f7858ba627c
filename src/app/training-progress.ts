/**
 * Training progress as the page sees it: one point per training step (and one per epoch end, with
 * the validation figures), sent from the optimizer worker in batches, and the summary a trained
 * variant keeps. Pure (no React, no DOM): the worker and the page both use it.
 */

export interface TrainingPoint {
  /** Steps done so far over all epochs (the x axis); 0 = before training. */
  x: number;
  epoch: number;
  phase: 'calibrate' | 'train' | 'validate';
  loss: number;
  accuracy: number | null;
  validationLoss?: number;
  validationAccuracy?: number | null;
}

/** What the worker can see of its own memory (bytes), sent with each batch of points. */
export interface WorkerMemory {
  /** The tfjs WASM backend's heap (its WebAssembly.Memory), or null on another backend. */
  tfjsHeapBytes: number | null;
  /** Bytes held by live tfjs tensors. */
  tfjsTensorBytes: number;
  /** The worker's JS heap, where the browser tells (performance.memory, Chromium). */
  jsHeapBytes: number | null;
}

export interface TrainingUpdate {
  points: TrainingPoint[];
  epochs: number;
  stepsPerEpoch: number;
  memory: WorkerMemory;
  /** The engine backend training runs on ("wasm", "webgpu"). */
  backend: string;
}

export interface TrainingSummary {
  mode: 'finetune' | 'qat';
  loss: 'cross-entropy' | 'distillation';
  epochsPlanned: number;
  /** Epochs finished (fewer when stopped). */
  epochsDone: number;
  bestEpoch: number;
  batchSize: number;
  learningRate: number;
  trainSamples: number;
  stopped?: { reason: 'cancelled' | 'nan'; message: string };
  elapsedMs: number;
  backend: string;
  /** Largest tfjs WASM heap seen while training (bytes), when on WASM. */
  peakHeapBytes: number | null;
  /** QAT of int4 weights (learned steps, LSQ) from the PTQ model: its int4 tensors, and which model was kept. */
  lsq?: { int4Tensors: number; kept: 'qat' | 'ptq' };
}

/**
 * Collects points and hands them on at most once per `intervalMs` (a message per training step
 * would make the page re-render the chart ~10-50 times a second on small models); `flush` sends
 * what is left.
 */
export function progressBatcher(send: (points: TrainingPoint[]) => void, intervalMs: number, now: () => number = () => performance.now()) {
  let pending: TrainingPoint[] = [];
  let last = -Infinity;
  return {
    push(point: TrainingPoint): void {
      pending.push(point);
      const t = now();
      if (t - last >= intervalMs) {
        last = t;
        const out = pending;
        pending = [];
        send(out);
      }
    },
    flush(): void {
      if (!pending.length) return;
      last = now();
      const out = pending;
      pending = [];
      send(out);
    },
  };
}

/** "QAT: 3/3 epochs, best epoch 2, cross-entropy", "QAT LSQ int4: ..." (the results table's badge). */
export function trainingBadge(t: TrainingSummary): string {
  const what = t.mode === 'qat' ? (t.lsq ? 'QAT LSQ int4' : 'QAT') : 'fine-tuned';
  const kept = t.lsq?.kept === 'ptq' ? ' · no gain over PTQ on validation: PTQ model kept' : '';
  return `${what}: ${t.epochsDone}/${t.epochsPlanned} epoch${t.epochsPlanned === 1 ? '' : 's'}, best epoch ${t.bestEpoch}, ${t.loss}${t.stopped ? ` · stopped (${t.stopped.reason === 'cancelled' ? 'by you' : 'loss NaN'}), best checkpoint kept` : ''}${kept}`;
}
