/**
 * The optimization session: the float model's bytes, the wizard's answers, the dataset (held by the
 * optimizer worker; here only what it said about it), the variants and their results. Runs are
 * queued and go to the one optimizer worker one at a time. The session is saved to IndexedDB when it
 * has variants, and restored on load (dataset files cannot be: the browser does not keep them).
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import { toErrorInfo } from '../errors';
import type { PreprocessingChoice } from '../data/default-preprocessing';
import type { Preprocessing } from '../data/preprocess';
import { defaultRecipe, type Recipe } from '../optimize/recipe';
import type { DatasetInfo, PreviewItem, RunResult, RunStage, Split } from '../app/worker-protocol';
import type { TrainingPoint, TrainingUpdate, WorkerMemory } from '../app/training-progress';
import { idbDelete, idbGet, idbSet } from './idb';
import { callWorker, optimizerWorker } from './optimizer-client';
import { chainOf, defaultTraining, type VariantSteps } from '../app/variant-chain';
import { DEFAULT_ANSWERS, type WizardAnswers } from './wizard/recommend';

export type VariantStatus = 'idle' | 'queued' | 'running' | 'done' | 'error' | 'cancelled';
export const RUN_STAGES: RunStage[] = ['prune', 'cluster', 'train', 'calibrate', 'round', 'quantize', 'write', 'check', 'evaluate', 'latency'];

export interface Variant {
  id: string;
  recipe: Recipe;
  /** Optional prune / cluster steps before the technique: the variant runs as a chain. */
  steps?: VariantSteps;
  status: VariantStatus;
  progress: Partial<Record<RunStage, { done: number; total: number | undefined }>>;
  stage?: RunStage;
  result?: RunResult;
  error?: string;
  /** Live training progress (finetune / qat variants) while and after it trains. */
  training?: LiveTraining;
}

export interface LiveTraining {
  points: TrainingPoint[];
  epochs: number;
  stepsPerEpoch: number;
  memory: WorkerMemory;
  /** Largest tfjs WASM heap reported so far (bytes). */
  peakHeapBytes: number | null;
  backend: string;
  /** Cancel pressed while training: the worker stops at the next step and keeps the best weights. */
  stopping?: boolean;
}

export type DataStatus = 'none' | 'loading' | 'ready' | 'error' | 'lost';

export interface DataState {
  status: DataStatus;
  source?: string;
  info?: DatasetInfo;
  error?: string;
  preview?: PreviewItem[];
  previewError?: string;
}

export interface SessionState {
  modelName: string | null;
  modelBytes: Uint8Array | null;
  /** What the worker proposes for the first input (metadata, quantization or a guess). */
  preprocessingChoice: PreprocessingChoice | null;
  answers: WizardAnswers;
  data: DataState;
  split: Split;
  variants: Variant[];
  selected: string | null;
  restoredNote: string | null;
}

export const useSession = create<SessionState>()(() => ({
  modelName: null,
  modelBytes: null,
  preprocessingChoice: null,
  answers: DEFAULT_ANSWERS,
  data: { status: 'none' },
  split: { calibration: 100, evaluation: 1000, training: 0 },
  variants: [],
  selected: null,
  restoredNote: null,
}));

const set = useSession.setState;
let nextId = Date.now();
const newId = () => `v${(nextId++).toString(36)}`;

function patchVariant(id: string, patch: Partial<Variant> | ((v: Variant) => Partial<Variant>)) {
  set((s) => ({ variants: s.variants.map((v) => (v.id === id ? { ...v, ...(typeof patch === 'function' ? patch(v) : patch) } : v)) }));
}

// ---------------------------------------------------------------------------------------------
// Model

/** A model was opened (not a restore): a new session starts. */
export async function sessionModelOpened(name: string, bytes: Uint8Array, keepVariants = false): Promise<void> {
  for (const v of useSession.getState().variants) if (v.status === 'running' || v.status === 'queued') cancelVariant(v.id);
  set((s) => ({
    modelName: name,
    modelBytes: bytes,
    preprocessingChoice: null,
    data: { status: 'none' },
    variants: keepVariants ? s.variants : [],
    selected: keepVariants ? s.selected : null,
    restoredNote: keepVariants ? s.restoredNote : null,
  }));
  if (!keepVariants) schedulePersist();
  modelReady = (async () => {
    try {
      const r = await callWorker((api) => api.setModel(bytes.slice(), name));
      if (useSession.getState().modelBytes === bytes) set({ preprocessingChoice: r.preprocessing });
    } catch (error) {
      set({ data: { status: 'error', error: toErrorInfo(error).message } });
    }
  })();
  await modelReady;
}

/** Settles when the worker holds the current model (data and runs wait for it). */
let modelReady: Promise<void> = Promise.resolve();

// ---------------------------------------------------------------------------------------------
// Data

export async function setDataFiles(files: { file: File; path: string }[], source: string): Promise<void> {
  set({ data: { status: 'loading', source } });
  await modelReady;
  const choice = useSession.getState().preprocessingChoice;
  try {
    const info = await callWorker((api) => api.setDataset({ files }, choice?.preprocessing ?? null));
    const calibration = Math.min(100, Math.max(1, Math.floor(info.size / 2)));
    set({ data: { status: 'ready', source, info }, split: { calibration, evaluation: Math.max(1, Math.min(1000, info.size - calibration)), training: 0 } });
    void refreshPreview();
  } catch (error) {
    set({ data: { status: 'error', source, error: toErrorInfo(error).message } });
  }
}

export async function setPreprocessing(preprocessing: Preprocessing | null, labelColumn?: string | null): Promise<void> {
  const { data } = useSession.getState();
  set({ data: { ...data, status: 'loading' } });
  try {
    const info = await callWorker((api) => api.setPreprocessing(preprocessing, labelColumn));
    set({ data: { ...data, status: 'ready', info, error: undefined } });
    void refreshPreview();
  } catch (error) {
    set({ data: { ...data, status: 'error', error: toErrorInfo(error).message } });
  }
}

export async function refreshPreview(): Promise<void> {
  try {
    const preview = await callWorker((api) => api.preview(6));
    set((s) => ({ data: { ...s.data, preview, previewError: undefined } }));
  } catch (error) {
    set((s) => ({ data: { ...s.data, preview: undefined, previewError: toErrorInfo(error).message } }));
  }
}

export function setSplit(split: Split): void {
  set({ split });
}

export function setAnswers(answers: WizardAnswers): void {
  set({ answers });
  schedulePersist();
}

// ---------------------------------------------------------------------------------------------
// Variants and runs

export function addVariants(items: { recipe: Recipe; steps?: VariantSteps }[], replace = false): string[] {
  const added: Variant[] = items.map(({ recipe, steps }) => ({ id: newId(), recipe, ...(steps ? { steps } : {}), status: 'idle' as const, progress: {} }));
  set((s) => ({ variants: [...(replace ? s.variants.filter((v) => v.status !== 'idle') : s.variants), ...added] }));
  schedulePersist();
  return added.map((v) => v.id);
}

export function addTechnique(technique: Recipe['technique']): string {
  return addVariants([{ recipe: defaultRecipe(technique) }])[0];
}

/** "QAT + int8": quantization-aware training, then full int8. */
export function addQatVariant(): string {
  return addVariants([{ recipe: defaultRecipe('int8'), steps: { train: defaultTraining('qat') } }])[0];
}

export function updateRecipe(id: string, recipe: Recipe): void {
  patchVariant(id, { recipe });
  schedulePersist();
}

/** Sets (or clears, with undefined / no prune, cluster or training) a variant's steps. */
export function updateSteps(id: string, steps: VariantSteps | undefined): void {
  if (steps?.train?.mode === 'finetune' && !steps.prune && !steps.cluster) steps = { ...steps, train: undefined };
  patchVariant(id, { steps: steps && (steps.prune || steps.cluster || steps.train) ? steps : undefined });
  schedulePersist();
}

export function removeVariant(id: string): void {
  cancelVariant(id);
  set((s) => ({ variants: s.variants.filter((v) => v.id !== id), selected: s.selected === id ? null : s.selected }));
  schedulePersist();
}

export function selectVariant(id: string | null): void {
  set({ selected: id });
}

export function runVariant(id: string): void {
  patchVariant(id, { status: 'queued', progress: {}, stage: undefined, error: undefined, result: undefined, training: undefined });
  void pump();
}

export function runAll(): void {
  for (const v of useSession.getState().variants) if (v.status === 'idle' || v.status === 'error' || v.status === 'cancelled') runVariant(v.id);
}

export function cancelVariant(id: string): void {
  const v = useSession.getState().variants.find((x) => x.id === id);
  if (!v) return;
  if (v.status === 'queued') patchVariant(id, { status: 'cancelled', error: 'Cancelled before it started.' });
  if (v.status === 'running') {
    // While training, the worker only stops training: the variant goes on with the best weights.
    if (v.stage === 'train') patchVariant(id, (x) => (x.training ? { training: { ...x.training, stopping: true } } : {}));
    optimizerWorker().api.cancel(id);
  }
}

/** A copy of a variant's recipe with a change, added and run at once ("re-run with a tweak"). */
export function rerunWithTweak(id: string, tweak: (r: Recipe) => Recipe): void {
  const v = useSession.getState().variants.find((x) => x.id === id);
  if (!v) return;
  const recipe = tweak(structuredClone(v.recipe));
  const [newIdValue] = addVariants([{ recipe, steps: v.steps && structuredClone(v.steps) }]);
  runVariant(newIdValue);
}

let pumping = false;
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    for (;;) {
      const next = useSession.getState().variants.find((v) => v.status === 'queued');
      if (!next) break;
      await runOne(next);
    }
  } finally {
    pumping = false;
  }
}

async function runOne(variant: Variant): Promise<void> {
  await modelReady;
  const { split, answers } = useSession.getState();
  patchVariant(variant.id, { status: 'running' });
  let last = 0;
  const progress = Comlink.proxy((stage: RunStage, done: number, total: number | undefined) => {
    const now = performance.now();
    const finished = total !== undefined && done >= total;
    if (!finished && done !== 0 && now - last < 250) return; // at most ~4 updates a second
    last = now;
    patchVariant(variant.id, (v) => ({ stage, progress: { ...v.progress, [stage]: { done, total } } }));
  });
  // The worker already sends at most a few batches a second: each is applied as it comes.
  const onTraining = Comlink.proxy((update: TrainingUpdate) => {
    patchVariant(variant.id, (v) => {
      const heap = update.memory.tfjsHeapBytes;
      const before = v.training;
      return {
        training: {
          points: [...(before?.points ?? []), ...update.points],
          epochs: update.epochs,
          stepsPerEpoch: update.stepsPerEpoch,
          memory: update.memory,
          peakHeapBytes: heap === null ? (before?.peakHeapBytes ?? null) : Math.max(before?.peakHeapBytes ?? 0, heap),
          backend: update.backend,
          stopping: before?.stopping,
        },
      };
    });
  });
  const train = variant.steps?.train;
  try {
    const result = await callWorker((api) =>
      api.run(variant.id, { recipe: variant.recipe, chain: chainOf(variant.recipe, variant.steps), training: train ? { epochs: train.epochs, batchSize: train.batchSize, learningRate: train.learningRate } : null }, split, answers.target, progress, onTraining),
    );
    patchVariant(variant.id, (v) => ({
      status: 'done',
      result,
      stage: undefined,
      progress: Object.fromEntries(Object.entries(v.progress).map(([k, p]) => [k, { done: p!.total ?? 1, total: p!.total ?? 1 }])),
    }));
    set((s) => ({ selected: s.selected ?? variant.id }));
  } catch (error) {
    const info = toErrorInfo(error);
    patchVariant(variant.id, { status: info.code === 'cancelled' ? 'cancelled' : 'error', error: info.message, stage: undefined });
  }
  schedulePersist();
}

// ---------------------------------------------------------------------------------------------
// Persistence

const KEY = 'session';
interface Saved {
  modelName: string;
  modelBytes: Uint8Array;
  answers: WizardAnswers;
  variants: Variant[];
  hadData: boolean;
}

let persistTimer: ReturnType<typeof setTimeout> | null = null;
function schedulePersist(): void {
  if (persistTimer) clearTimeout(persistTimer);
  persistTimer = setTimeout(() => {
    persistTimer = null;
    void persist();
  }, 300);
}

async function persist(): Promise<void> {
  const s = useSession.getState();
  try {
    if (!s.modelBytes || !s.modelName || s.variants.length === 0) {
      await idbDelete(KEY);
      return;
    }
    const saved: Saved = {
      modelName: s.modelName,
      modelBytes: s.modelBytes,
      answers: s.answers,
      variants: s.variants.map((v) => (v.status === 'running' || v.status === 'queued' ? { ...v, status: 'idle', progress: {} } : v)),
      hadData: s.data.status === 'ready' || s.data.status === 'lost',
    };
    await idbSet(KEY, saved);
  } catch (error) {
    console.warn('Could not save the session in IndexedDB:', error);
  }
}

/** The saved session, if any: restores the variants and returns the model to reopen. */
export async function restoreSession(): Promise<{ name: string; bytes: Uint8Array } | null> {
  let saved: Saved | undefined;
  try {
    saved = await idbGet<Saved>(KEY);
  } catch {
    return null;
  }
  if (!saved?.modelBytes) return null;
  const done = saved.variants.filter((v) => v.status === 'done').length;
  set({
    answers: saved.answers ?? DEFAULT_ANSWERS,
    variants: saved.variants,
    selected: saved.variants.find((v) => v.status === 'done')?.id ?? null,
    restoredNote: `Restored the previous session: ${saved.modelName}, ${saved.variants.length} variant(s), ${done} with results. Dataset files are not kept across reloads: drop the data again to run more variants that need it.`,
  });
  return { name: saved.modelName, bytes: saved.modelBytes };
}

export async function clearSession(): Promise<void> {
  for (const v of useSession.getState().variants) cancelVariant(v.id);
  set({ variants: [], selected: null, restoredNote: null });
  await idbDelete(KEY).catch(() => {});
}
