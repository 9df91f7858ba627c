/**
 * The optimizer worker: a comlink adapter over src/app. It holds one Session (the float model and
 * the dataset) and runs one variant at a time (the page queues runs: one worker is the pool on a
 * 2-core machine). Errors come back as ErrorInfo values; progress goes through comlink-proxied callbacks.
 *
 * Files come from the page as File objects (structured-cloneable) with their dataset-relative paths
 * worked out there (a cloned File loses webkitRelativePath).
 */
import * as Comlink from 'comlink';
import { datasetName } from '../src/app/evaluation-set';
import { dataFilesFrom, datasetInfo } from '../src/app/open-dataset';
import { previewDataset } from '../src/app/preview';
import { rawHeadOf, setRawDetection, type RawDetectionInfo, type RawHead } from '../src/app/raw-detection';
import { reevaluateVariant } from '../src/app/reevaluate-variant';
import { runSearch, type SearchOutcome, type SearchSettings } from '../src/app/run-search';
import type { SearchEvent } from '../src/app/search/precision-search';
import { runVariant, type VariantSpec } from '../src/app/run-variant';
import { Runs } from '../src/app/runs';
import { Session } from '../src/app/session';
import type { DataInput, DatasetInfo, PreviewItem, ProgressCallback, Result, RunResult, Split, TrainingCallback } from '../src/app/worker-protocol';
import type { PreprocessingChoice } from '../src/data/default-preprocessing';
import type { Preprocessing } from '../src/data/preprocess';
import { initBrowserEngine } from '../src/engine/backend-browser';
import { toErrorInfo } from '../src/errors';
import type { BoxCoder } from '../src/evaluate/box-decoding';
import type { Target } from '../src/evaluate/target-check';
import { setStatsWorkerFactory } from '../src/optimize/calibrate/worker/stats-thread';
import { initRuntime } from '../src/runtime/start';
import { browserStatsWorker } from './calibration-stats-browser';

// Calibration here starts its calibration workers as nested module workers (the core has no browser default).
setStatsWorkerFactory(browserStatsWorker);

const session = new Session();
const runs = new Runs();
const ENVIRONMENT = { runtime: 'LiteRT.js (@litertjs/core 2.5.3, wasm CPU, in a Web Worker)', userAgent: navigator.userAgent };

async function wrap<T>(work: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}

const api = {
  init(pageBase: string): Promise<Result<true>> {
    return wrap(async () => {
      await initRuntime({ wasmBase: new URL('litert/', pageBase).href });
      return true as const;
    });
  },

  /** Bytes are copied (the page keeps its own). */
  setModel(bytes: Uint8Array, name: string): Promise<Result<{ preprocessing: PreprocessingChoice | null; classNames: string[] | null; rawHead: RawHead | null }>> {
    return wrap(() => {
      const model = session.openModel(bytes, name);
      return { preprocessing: model.preprocessing, classNames: model.classNames ?? null, rawHead: rawHeadOf(model.graph) };
    });
  },

  /** A raw detection head's anchors file (CSV text) and box coder; null text clears them. */
  setRawDetection(text: string | null, fileName: string, coder: BoxCoder): Promise<Result<RawDetectionInfo | null>> {
    return wrap(() => setRawDetection(session, text, fileName, coder));
  },

  setDataset(input: DataInput, preprocessing: Preprocessing | null): Promise<Result<DatasetInfo>> {
    return wrap(async () => {
      session.requireModel();
      const files = await dataFilesFrom(input);
      const dataset = await session.openDataset(files, preprocessing, datasetName(input.files));
      return datasetInfo(dataset, { name: session.datasetName, fingerprint: session.datasetFingerprint });
    });
  },

  /** Re-opens the same files with another preprocessing, labels.csv column and / or mask scale. */
  setPreprocessing(preprocessing: Preprocessing | null, column?: string | null, maskScale?: number): Promise<Result<DatasetInfo>> {
    return wrap(async () => datasetInfo(await session.reopenDataset(preprocessing, column, maskScale), { name: session.datasetName, fingerprint: session.datasetFingerprint }));
  },

  clearDataset(): void {
    session.clearDataset();
  },

  /** A few inputs (evenly spread over the dataset) with the float model's top-3 predictions. */
  preview(count: number): Promise<Result<PreviewItem[]>> {
    return wrap(() => previewDataset(session, count));
  },

  /** While a variant trains, cancel stops training only (the best weights go on); else it aborts the run. */
  cancel(runId: string): void {
    runs.cancel(runId);
  },

  /** `spec`: the recipe, and the chain of prune / cluster / train steps before it as data (null: plain). */
  run(runId: string, spec: VariantSpec, split: Split, target: Target, onProgress: ProgressCallback, onTraining?: TrainingCallback): Promise<Result<RunResult>> {
    return runs.track(runId, (control) =>
      wrap(async () => (await runVariant({ session, spec, split, target, onProgress, onTraining, ...control, initEngine: initBrowserEngine, environment: ENVIRONMENT })).result),
    );
  },

  /** The finished variant's bytes measured again on the current data (no new optimization). */
  reevaluate(runId: string, previous: RunResult, split: Split, onProgress: ProgressCallback): Promise<Result<RunResult>> {
    return runs.track(runId, ({ signal }) => wrap(() => reevaluateVariant({ session, previous, split, onProgress, signal, environment: ENVIRONMENT })));
  },

  /** "Find it for me": the precision search on the current model and data (src/app/run-search.ts); cancel(runId) stops it. */
  search(runId: string, split: Split, settings: SearchSettings, onEvent: (event: SearchEvent) => void): Promise<Result<SearchOutcome>> {
    return runs.track(runId, ({ signal }) => wrap(() => runSearch({ session, split, settings, onEvent, signal })));
  },
};

export type OptimizerWorkerApi = typeof api;

Comlink.expose(api);
