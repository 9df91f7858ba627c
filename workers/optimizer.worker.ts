/**
 * The optimizer worker: holds the float model and the dataset, and runs optimize + evaluate for one
 * variant at a time (the page queues runs: one worker is the pool on a 2-core machine). Exposed with
 * comlink; errors come back as ErrorInfo values; progress goes through a comlink-proxied callback.
 *
 * Files come from the page as File objects (structured-cloneable) with their dataset-relative paths
 * worked out there (a cloned File loses webkitRelativePath).
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import { initBrowserEngine } from '../src/engine/backend-browser';
import { setStatsWorkerFactory } from '../src/optimize/calibrate-stats-thread';
import { browserStatsWorker } from './calibration-stats-browser';
import type { TrainingData } from '../src/optimize/finetune';
import { progressBatcher, type TrainingPoint, type TrainingSummary, type WorkerMemory } from '../src/app/training-progress';
import { toErrorInfo, WorkbenchError } from '../src/errors';
import { openDataset, randomIndices, type Dataset } from '../src/data/dataset';
import { defaultPreprocessing, graphInputs, type PreprocessingChoice } from '../src/data/default-preprocessing';
import { filesFromFileList, filesFromZip, type DataFile } from '../src/data/files';
import type { Preprocessing } from '../src/data/preprocess';
import { toModelInput } from '../src/runtime/samples';
import { compareModels } from '../src/evaluate/compare';
import { measureLatency, type LatencyResult } from '../src/evaluate/latency';
import { modelNodeData, nodeDataJson } from '../src/evaluate/model-explorer';
import { buildReport, reportMarkdown, reportToJson } from '../src/evaluate/report';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import { probeWebGpu } from '../src/runtime/webgpu-probe';
import { compareSizes } from '../src/evaluate/size';
import type { Sample } from '../src/runtime/samples';
import { accuracyNotes } from '../src/app/chain-accuracy';
import { runChain } from '../src/optimize/chain';
import { optimizeModel, type OptimizeResult } from '../src/optimize/pipeline';
import { needsCalibration, toAeqRecipe, type Recipe } from '../src/optimize/recipe';
import { readModelMetadata } from '../src/tflite/metadata/read-metadata';
import { readModel } from '../src/tflite/read';
import type { ModelGraph } from '../src/tflite/graph';
import { chainRunLabel, variantChain } from '../src/app/variant-chain';
import type { ChainSummary, DataInput, DatasetInfo, Disagreement, PreviewItem, ProgressCallback, Result, RunResult, RunStage, Split, TrainingCallback, TrainingRequest } from '../src/app/worker-protocol';
import { targetCheck, type Target } from '../src/evaluate/target-check';

/** At most this many training messages a second reach the page (each re-renders the live chart). */
const TRAINING_MESSAGES_PER_SECOND = 4;

// Calibration here starts its calibration workers as nested module workers (the core has no browser default).
setStatsWorkerFactory(browserStatsWorker);

let modelBytes: Uint8Array | null = null;
let modelName = 'model.tflite';
let graph: ModelGraph | null = null;
let files: DataFile[] | null = null;
let dataset: Dataset | null = null;
let referenceLatency: LatencyResult | null = null;
let classNamesFromModel: string[] | undefined;
let labelColumn: string | null = null;

/** The root labels.csv with the column the user named (else the dataset reader picks one or asks). */
async function labelsCsvOption(): Promise<{ text: string; name: string; labelColumn: string } | undefined> {
  const csv = labelColumn ? files?.find((f) => f.path === 'labels.csv') : undefined;
  if (!csv || !labelColumn) return undefined;
  return { text: new TextDecoder().decode(await csv.read()), name: 'labels.csv', labelColumn };
}
/** A run: its abort, and (while it trains) an abort that stops training only, keeping the best weights. */
interface RunningRun {
  controller: AbortController;
  training: boolean;
  stopTraining: AbortController;
}
const running = new Map<string, RunningRun>();

async function wrap<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}

function info(d: Dataset): DatasetInfo {
  return {
    size: d.size,
    kind: d.kind,
    labeled: d.labels.length > 0 && d.labels.every((l) => l !== null),
    labelSource: d.labelSource,
    classNames: d.classNames,
    notes: d.notes,
    preprocessing: d.preprocessing[0] ?? null,
  };
}

function requireModel(): { bytes: Uint8Array; graph: ModelGraph } {
  if (!modelBytes || !graph) throw new WorkbenchError('bad-input', 'Open a model first.');
  return { bytes: modelBytes, graph };
}

/** Yields to the worker's event loop every few samples, so a cancel message gets through mid-run. */
async function* samplesOf(d: Dataset, indices: number[]): AsyncGenerator<Float32Array[]> {
  let n = 0;
  for (const i of indices) {
    if (++n % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    yield await d.sample(i);
  }
}

/**
 * Calibration, training and evaluation indices: one seeded shuffle, calibration first, then the
 * extra training samples, the rest evaluates. Training = calibration + extra, never evaluation.
 */
export function splitIndices(d: { size: number }, split: Split): { calibration: number[]; training: number[]; evaluation: number[] } {
  const order = randomIndices(d.size, d.size, 0);
  const c = Math.max(0, Math.min(split.calibration, d.size));
  const t = Math.max(0, Math.min(split.training ?? 0, d.size - c - 1));
  const calibration = order.slice(0, c);
  const training = order.slice(0, c + t);
  let evaluation = order.slice(c + t);
  if (evaluation.length === 0) evaluation = order.slice(0, Math.min(d.size, split.evaluation));
  return { calibration, training, evaluation: evaluation.slice(0, Math.max(1, split.evaluation)) };
}

/** The training split as finetune's TrainingData (labels only when every sample has one). */
function trainingData(d: Dataset, indices: number[]): TrainingData {
  const labels = indices.map((i) => d.labels[i] ?? null);
  return { size: indices.length, labels: labels.every((l) => l !== null) ? labels : labels.map(() => null), sample: (i) => d.sample(indices[i]) };
}

function workerMemory(): WorkerMemory {
  const backend = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }) : null;
  const jsHeap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  return { tfjsHeapBytes: backend?.wasm?.HEAPU8?.length ?? null, tfjsTensorBytes: tf.memory().numBytes, jsHeapBytes: jsHeap ?? null };
}

const api = {
  async init(pageBase: string): Promise<Result<true>> {
    return wrap(async () => {
      await initRuntime({ wasmBase: new URL('litert/', pageBase).href });
      return true as const;
    });
  },

  /** Bytes are copied (the page keeps its own). */
  async setModel(bytes: Uint8Array, name: string): Promise<Result<{ preprocessing: PreprocessingChoice | null; classNames: string[] | null }>> {
    return wrap(async () => {
      graph = readModel(bytes);
      modelBytes = bytes;
      modelName = name;
      dataset = null;
      files = null;
      referenceLatency = null;
      let choice: PreprocessingChoice | null = null;
      try {
        choice = defaultPreprocessing(graph, 0);
      } catch {
        choice = null;
      }
      try {
        classNamesFromModel = readModelMetadata(graph)?.labels;
      } catch {
        classNamesFromModel = undefined;
      }
      return { preprocessing: choice, classNames: classNamesFromModel ?? null };
    });
  },

  async setDataset(input: DataInput, preprocessing: Preprocessing | null): Promise<Result<DatasetInfo>> {
    return wrap(async () => {
      const { graph: g } = requireModel();
      const zips = input.files.filter((f) => f.path.toLowerCase().endsWith('.zip'));
      if (zips.length === 1 && input.files.length === 1) {
        files = filesFromZip(new Uint8Array(await zips[0].file.arrayBuffer()), zips[0].path);
      } else {
        files = filesFromFileList(input.files.map(({ file, path }) => ({ name: file.name, relativePath: path, size: file.size, arrayBuffer: () => file.arrayBuffer() })));
      }
      labelColumn = null;
      dataset = await openDataset(files, graphInputs(g), { preprocessing: preprocessing ?? undefined, classNames: classNamesFromModel });
      return info(dataset);
    });
  },

  /** Re-opens the same files with another preprocessing and / or labels.csv column. */
  async setPreprocessing(preprocessing: Preprocessing | null, column?: string | null): Promise<Result<DatasetInfo>> {
    return wrap(async () => {
      const { graph: g } = requireModel();
      if (!files) throw new WorkbenchError('bad-input', 'No dataset yet: drop a folder, a zip or .npy files.');
      if (column !== undefined) labelColumn = column || null;
      dataset = await openDataset(files, graphInputs(g), { preprocessing: preprocessing ?? dataset?.preprocessing ?? undefined, classNames: classNamesFromModel, labelsCsv: await labelsCsvOption() });
      return info(dataset);
    });
  },

  clearDataset(): void {
    dataset = null;
    files = null;
  },

  /** A few inputs (evenly spread over the dataset) with the float model's top-3 predictions. */
  async preview(count: number): Promise<Result<PreviewItem[]>> {
    return wrap(async () => {
      const { bytes } = requireModel();
      const d = dataset;
      if (!d) throw new WorkbenchError('bad-input', 'No dataset yet.');
      const model = await loadModel(bytes);
      try {
        const items: PreviewItem[] = [];
        const n = Math.min(count, d.size);
        for (let k = 0; k < n; k++) {
          const i = Math.floor((k * d.size) / n);
          const floats = await d.sample(i);
          const outputs = await model.run(floats.map((f, j) => toModelInput(f, d.inputs[j])));
          const scores = Array.from(outputs[0]?.data ?? []) as number[];
          const top = scores
            .map((score, index) => ({ index, score }))
            .sort((a, b) => b.score - a.score)
            .slice(0, 3)
            .map((t) => ({ ...t, name: d.classNames?.[t.index] ?? classNamesFromModel?.[t.index] ?? String(t.index) }));
          const label = d.labels[i];
          items.push({
            name: d.names[i],
            label: label === null ? null : (d.classNames?.[label] ?? String(label)),
            ...thumbnail(floats[0], d.preprocessing[0] ?? null),
            top,
          });
        }
        return items;
      } finally {
        model.delete();
      }
    });
  },

  /** While a variant trains, cancel stops training only (the best weights go on); else it aborts the run. */
  cancel(runId: string): void {
    const run = running.get(runId);
    if (!run) return;
    if (run.training) run.stopTraining.abort();
    else run.controller.abort();
  },

  /** `chain`: the variant's chain string when it has prune / cluster steps (run through runChain). */
  async run(
    runId: string,
    recipe: Recipe,
    split: Split,
    target: Target,
    onProgress: ProgressCallback,
    chainText?: string | null,
    training?: TrainingRequest | null,
    onTraining?: TrainingCallback,
  ): Promise<Result<RunResult>> {
    const controller = new AbortController();
    const run: RunningRun = { controller, training: false, stopTraining: new AbortController() };
    running.set(runId, run);
    const signal = controller.signal;
    try {
      return await wrap(async () => {
        const { bytes: reference, graph: g } = requireModel();
        const d = dataset;
        const indices = d ? splitIndices(d, split) : null;
        const chain = chainText ? variantChain(recipe, chainText) : null;
        const calibrated = chain ? !!chain.quantize && needsCalibration(chain.quantize) : needsCalibration(recipe);
        if (calibrated && (!d || !indices || indices.calibration.length === 0)) {
          throw new WorkbenchError('bad-input', `${recipe.technique} needs representative data for calibration: drop a folder of images, a zip or .npy files in the Data panel.`);
        }
        const calibration = d && indices && calibrated ? samplesOf(d, indices.calibration) : undefined;
        const stageProgress = (stage: string, done: number, total?: number) => {
          if (stage !== 'read') onProgress(stage as RunStage, done, total);
        };
        let result: Pick<OptimizeResult, 'bytes' | 'label' | 'recipe' | 'floatOps' | 'notes' | 'timings'>;
        let chainSummary: ChainSummary | undefined;
        let trainingSummary: TrainingSummary | undefined;
        if (chain) {
          let trainingRequest: Parameters<typeof runChain>[0]['training'];
          let engineBackend = '';
          let peakHeap: number | null = null;
          let flushTraining = () => {};
          if (chain.train) {
            if (!d || !indices || indices.training.length < 2) {
              throw new WorkbenchError('bad-input', `${chain.train.mode === 'qat' ? 'Quantization-aware training' : 'Fine-tuning'} needs training data: drop a folder of images, a zip or .npy files in the Data panel (labels optional: without them the float model teaches).`);
            }
            engineBackend = (await initBrowserEngine()).backend;
            let steps = 0;
            let shape = { epochs: training?.epochs ?? 3, stepsPerEpoch: 0 };
            const batcher = progressBatcher((points) => {
              const memory = workerMemory();
              if (memory.tfjsHeapBytes !== null) peakHeap = Math.max(peakHeap ?? 0, memory.tfjsHeapBytes);
              onTraining?.({ points, ...shape, memory, backend: engineBackend });
            }, 1000 / TRAINING_MESSAGES_PER_SECOND);
            flushTraining = () => batcher.flush();
            trainingRequest = {
              signal: run.stopTraining.signal,
              data: trainingData(d, indices.training),
              options: {
                epochs: training?.epochs,
                batchSize: training?.batchSize,
                learningRate: training?.learningRate,
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
          }
          const chainProgress = (stage: string, done: number, total?: number) => {
            // The chain's own train marks (0/1, 1/1) frame training; the steps come from onProgress above.
            if (stage === 'train') {
              run.training = done === 0;
              return;
            }
            stageProgress(stage, done, total);
          };
          // Evaluation below is the same as for a plain recipe (not runChainWithAccuracy's).
          const c = await runChain({
            model: reference,
            chain,
            calibration,
            calibrationCount: indices?.calibration.length,
            signal,
            onProgress: chainProgress,
            training: trainingRequest,
          });
          run.training = false;
          flushTraining();
          if (signal.aborted) throw new WorkbenchError('cancelled', 'Cancelled.');
          if (c.trained && chain.train) {
            const t = c.trained;
            trainingSummary = {
              mode: chain.train.mode,
              loss: t.loss,
              epochsPlanned: training?.epochs ?? 3,
              epochsDone: t.history.filter((h) => h.epoch > 0).length,
              bestEpoch: t.bestEpoch,
              batchSize: t.batchSize,
              learningRate: training?.learningRate ?? (chain.train.mode === 'qat' ? 1e-4 : 1e-3),
              trainSamples: indices!.training.length,
              stopped: t.stopped,
              elapsedMs: t.elapsedMs,
              backend: engineBackend,
              peakHeapBytes: peakHeap,
            };
            onProgress('train', 1, 1);
          }
          result = { bytes: c.bytes, label: chainRunLabel(chain), recipe, floatOps: c.quantized?.floatOps ?? [], notes: c.notes, timings: c.quantized?.timings ?? {} };
          chainSummary = {
            text: chain.text,
            sparsity: c.report.sparsity,
            maxDistinct: c.checks.maxDistinctClustered,
            perChannel: chain.cluster?.perChannel,
            gzipBytes: c.report.size.gzipBytes,
            checks: c.checks,
          };
        } else {
          result = await optimizeModel({ model: reference, recipe, calibration, calibrationCount: indices?.calibration.length, signal, onProgress: stageProgress });
        }
        // Evaluation: the evaluation split, or seeded random inputs when there is no data.
        let samples: AsyncIterable<Sample> | Sample[];
        let labels: number[] | undefined;
        let total: number;
        if (d && indices) {
          samples = samplesOf(d, indices.evaluation);
          total = indices.evaluation.length;
          const ls = indices.evaluation.map((i) => d.labels[i]);
          labels = ls.every((l) => l !== null) ? (ls as number[]) : undefined;
        } else {
          const loaded = await loadModel(reference);
          try {
            samples = Array.from({ length: 16 }, (_, seed) => randomInputs(loaded, seed + 1) as Sample);
          } finally {
            loaded.delete();
          }
          total = 16;
        }
        onProgress('evaluate', 0, total);
        const comparison = await compareModels(reference, result.bytes, samples, {
          labels,
          perLayer: true,
          total,
          signal,
          onProgress: (done, t) => onProgress('evaluate', done, t),
        });
        if (chain) result.notes.push(...accuracyNotes(comparison, chain));
        onProgress('latency', 0, 1);
        if (!referenceLatency) referenceLatency = await measureLatency(reference, { runs: 20, warmup: 3, signal });
        const latency = await measureLatency(result.bytes, { runs: 20, warmup: 3, signal });
        onProgress('latency', 1, 1);
        const check = targetCheck(readModel(result.bytes), target, result.bytes.length);
        // Web: measured, not guessed; cheap (a few seconds at most) and never fails the run.
        const webgpu = target === 'web' ? await probeWebGpu(result.bytes, { timeoutMs: 5000 }) : null;
        const sizes = compareSizes(result.bytes, reference);
        const variantName = `${modelName.replace(/\.tflite$/i, '')}-${result.label}.tflite`;
        const report = buildReport({
          model: { name: variantName, reference: modelName },
          recipe: chain ? { chain: chain.text, recipe: result.recipe } : result.recipe,
          sizes,
          comparison,
          latency: { reference: referenceLatency, candidate: latency },
          floatOps: result.floatOps,
          environment: { runtime: 'LiteRT.js (@litertjs/core 2.5.3, wasm CPU, in a Web Worker)', userAgent: navigator.userAgent },
          createdAt: new Date().toISOString(),
        });
        const disagreements =
          d && indices && comparison.classification.agreement < 1 ? await findDisagreements(reference, result.bytes, d, indices.evaluation, signal) : [];
        let overlayJson: string | null = null;
        if (comparison.perLayer?.length) overlayJson = nodeDataJson(modelNodeData(readModel(result.bytes), comparison.perLayer));
        void g;
        return {
          bytes: result.bytes,
          label: result.label,
          recipe: result.recipe,
          floatOps: result.floatOps,
          notes: result.notes,
          timings: result.timings as Record<string, number>,
          comparison,
          randomInputs: !d,
          sizes,
          latency,
          referenceLatency,
          targetIssues: check.issues,
          mcu: check.mcu ?? null,
          webgpu,
          disagreements,
          chain: chainSummary,
          training: trainingSummary,
          reportJson: reportToJson(report),
          reportMarkdown: reportMarkdown(report),
          overlayJson,
          aeqRecipeJson: `${JSON.stringify(toAeqRecipe(result.recipe).entries, null, 2)}\n`,
        };
      });
    } finally {
      running.delete(runId);
    }
  },
};

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Scans up to 500 evaluation samples for inputs whose top-1 differs between the two models. */
async function findDisagreements(reference: Uint8Array, candidate: Uint8Array, d: Dataset, indices: number[], signal: AbortSignal): Promise<Disagreement[]> {
  const ref = await loadModel(reference);
  const cand = await loadModel(candidate);
  const className = (i: number) => d.classNames?.[i] ?? classNamesFromModel?.[i] ?? String(i);
  const found: Disagreement[] = [];
  try {
    let n = 0;
    for (const i of indices.slice(0, 500)) {
      if (signal.aborted || found.length >= 4) break;
      if (++n % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      const floats = await d.sample(i);
      const r = await ref.run(floats.map((f, j) => toModelInput(f, d.inputs[j])));
      const c = await cand.run(floats.map((f, j) => toModelInput(f, cand.inputs[j])));
      const a = argmax(r[0].data);
      const b = argmax(c[0].data);
      if (a !== b) {
        const label = d.labels[i];
        found.push({ name: d.names[i], label: label === null ? null : className(label), ...thumbnail(floats[0], d.preprocessing[0] ?? null), reference: className(a), candidate: className(b) });
      }
    }
  } finally {
    ref.delete();
    cand.delete();
  }
  return found;
}

/** The input de-normalized back to 0..255 pixels for a canvas (grayscale or RGB, NHWC). */
function thumbnail(floats: Float32Array, p: Preprocessing | null): Pick<PreviewItem, 'rgba' | 'width' | 'height' | 'min' | 'max'> {
  let min = Infinity;
  let max = -Infinity;
  for (const v of floats) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!p || (p.layout ?? 'NHWC') !== 'NHWC') return { rgba: null, width: 0, height: 0, min, max };
  const { width, height, channels } = p;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const k = channels === 1 ? 0 : p.channelOrder === 'BGR' ? 2 - c : c;
      const mean = p.mean[k] ?? p.mean[0];
      const std = p.std[k] ?? p.std[0];
      rgba[i * 4 + c] = floats[i * channels + k] * std + mean;
    }
    rgba[i * 4 + 3] = 255;
  }
  return { rgba, width, height, min, max };
}

export type OptimizerWorkerApi = typeof api;

Comlink.expose(api);
