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
import { defaultRecipe, needsCalibration, type Recipe } from '../optimize/recipe';
import type { DatasetInfo, PreviewItem, RunResult, RunStage, Split } from '../app/worker-protocol';
import type { TrainingPoint, TrainingUpdate, WorkerMemory } from '../app/training-progress';
import type { RawDetectionInfo, RawHead } from '../app/raw-detection';
import type { BoxCoder } from '../evaluate/box-decoding';
import { idbDelete, idbGet, idbSet } from './idb';
import { callWorker, optimizerWorker } from './optimizer-client';
import { chainOf, defaultTraining, type VariantSteps } from '../app/variant-chain';
import { DEFAULT_ANSWERS, type WizardAnswers } from './wizard/recommend';
import { withExplicitSmallLayers, withRecipeDefaults } from './workbench/recipe-options';

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
  /** Keep a result that left ops in float the recipe did not name, changed nothing or grew (the CLI's --allow-float-fallback). */
  allowFloatFallback?: boolean;
  /** What the queued / running job does: optimize and evaluate (default), or only re-evaluate the result's bytes. */
  job?: 'run' | 'reevaluate';
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

/** An anchors file as the user gave it, and the box coder chosen with it. */
export interface AnchorsSource {
  fileName: string;
  text: string;
  coder: BoxCoder;
}

export interface SessionState {
  modelName: string | null;
  modelBytes: Uint8Array | null;
  /** What the worker proposes for the first input (metadata, quantization or a guess). */
  preprocessingChoice: PreprocessingChoice | null;
  /** A detector with a raw head (box regressions and scores per anchor): its row count, else null. */
  rawHead: RawHead | null;
  /** The anchors file given for it (app/raw-detection.ts) with its text (saved with the session), or why it was refused. */
  anchors: { status: 'none' } | { status: 'ready'; info: RawDetectionInfo; source: AnchorsSource } | { status: 'error'; error: string };
  answers: WizardAnswers;
  data: DataState;
  split: Split;
  variants: Variant[];
  selected: string | null;
  restoredNote: string | null;
  /** The variant just added by "keep in float and re-run": the page scrolls to it and marks it. */
  highlighted: string | null;
  /** This session's id (its key in IndexedDB) and the other saved sessions, for the switcher. */
  sessionId: string;
  otherSessions: SessionSummary[];
}

/** A saved session as the switcher lists it. */
export interface SessionSummary {
  id: string;
  modelName: string;
  variants: number;
  done: number;
  savedAt: number;
}

export const useSession = create<SessionState>()(() => ({
  modelName: null,
  modelBytes: null,
  preprocessingChoice: null,
  rawHead: null,
  anchors: { status: 'none' },
  answers: DEFAULT_ANSWERS,
  data: { status: 'none' },
  split: { calibration: 100, evaluation: 1000, training: 0 },
  variants: [],
  selected: null,
  restoredNote: null,
  highlighted: null,
  sessionId: newSessionId(),
  otherSessions: [],
}));

function newSessionId(): string {
  return `s${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

const set = useSession.setState;
let nextId = Date.now();
const newId = () => `v${(nextId++).toString(36)}`;

function patchVariant(id: string, patch: Partial<Variant> | ((v: Variant) => Partial<Variant>)) {
  set((s) => ({ variants: s.variants.map((v) => (v.id === id ? { ...v, ...(typeof patch === 'function' ? patch(v) : patch) } : v)) }));
}

// ---------------------------------------------------------------------------------------------
// Model

/** Settles when the worker holds the current model (data and runs wait for it); never rejects. */
let modelReady: Promise<void> = Promise.resolve();

/**
 * A model was opened (not a restore): a new session starts. `modelReady` covers the whole switch from
 * this call on, saving the session before included: data picked while the old session is still being
 * written must wait for the new model, or it would go to the old one and then be cleared.
 */
export function sessionModelOpened(name: string, bytes: Uint8Array, keepVariants = false): Promise<void> {
  const before = modelReady;
  modelReady = switchModel(before, name, bytes, keepVariants);
  return modelReady;
}

async function switchModel(before: Promise<void>, name: string, bytes: Uint8Array, keepVariants: boolean): Promise<void> {
  await before;
  // A restored session's anchors go back to the worker with its model; any other model starts without.
  const anchors = keepVariants ? anchorsToRestore : null;
  anchorsToRestore = null;
  for (const v of useSession.getState().variants) if (v.status === 'running' || v.status === 'queued') cancelVariant(v.id);
  // A new model is a new session: the one before stays saved under its own id (see confirmOpen).
  if (!keepVariants) {
    await flushPersist();
    set({ sessionId: newSessionId(), highlighted: null });
  }
  set((s) => ({
    modelName: name,
    modelBytes: bytes,
    preprocessingChoice: null,
    rawHead: null,
    anchors: { status: 'none' },
    data: { status: 'none' },
    variants: keepVariants ? s.variants : [],
    selected: keepVariants ? s.selected : null,
    restoredNote: keepVariants ? s.restoredNote : null,
  }));
  if (!keepVariants) schedulePersist();
  try {
    const r = await callWorker((api) => api.setModel(bytes.slice(), name));
    if (useSession.getState().modelBytes === bytes) set({ preprocessingChoice: r.preprocessing, rawHead: r.rawHead });
  } catch (error) {
    set({ data: { status: 'error', error: toErrorInfo(error).message } });
    return;
  }
  if (anchors && useSession.getState().rawHead) await applyAnchors(anchors);
}

/** Anchors read from a saved session, given to the worker once its model is open again. */
let anchorsToRestore: AnchorsSource | null = null;

/**
 * The anchors file of a raw detection head and its box coder: checked against the model in the
 * worker; variants run after it are measured by mAP@0.5 of the decoded boxes. A refused file keeps
 * the anchors given before; null clears them.
 */
export async function setAnchorsFile(file: File | null, coder: BoxCoder): Promise<void> {
  await modelReady;
  await applyAnchors(file ? { fileName: file.name, text: await file.text(), coder } : null);
  schedulePersist();
}

/** The same anchors with another box coder (the file is not read again). */
export async function setAnchorsCoder(coder: BoxCoder): Promise<void> {
  const { anchors } = useSession.getState();
  if (anchors.status !== 'ready') return;
  await modelReady;
  await applyAnchors({ ...anchors.source, coder });
  schedulePersist();
}

async function applyAnchors(source: AnchorsSource | null): Promise<void> {
  try {
    const info = await callWorker((api) => api.setRawDetection(source?.text ?? null, source?.fileName ?? '', source?.coder ?? 'ssd'));
    set({ anchors: info && source ? { status: 'ready', info, source } : { status: 'none' } });
  } catch (error) {
    set({ anchors: { status: 'error', error: toErrorInfo(error).message } });
  }
}


// ---------------------------------------------------------------------------------------------
// Data

export async function setDataFiles(files: { file: File; path: string }[], source: string): Promise<void> {
  set({ data: { status: 'loading', source } });
  await modelReady;
  set({ data: { status: 'loading', source } }); // a model opened meanwhile reset the data
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

export async function setPreprocessing(preprocessing: Preprocessing | null, labelColumn?: string | null, maskScale?: number): Promise<void> {
  const { data } = useSession.getState();
  set({ data: { ...data, status: 'loading' } });
  try {
    const info = await callWorker((api) => api.setPreprocessing(preprocessing, labelColumn, maskScale));
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
export function setAllowFloatFallback(id: string, allow: boolean): void {
  patchVariant(id, { allowFloatFallback: allow || undefined });
}

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

/** Calibration (int8, 16x8) and training read samples: such a variant cannot run without data. */
export function needsData(v: Pick<Variant, 'recipe' | 'steps'>): boolean {
  return !!v.steps?.train || (!v.steps?.float && needsCalibration(v.recipe));
}

/** Why the variant cannot run now (no data for one that needs it), or null. */
export function cannotRun(v: Pick<Variant, 'recipe' | 'steps'>, data: DataState = useSession.getState().data): string | null {
  return needsData(v) && data.status !== 'ready' ? 'Load data to run' : null;
}

/**
 * Queues a run. A finished result stays (shown as the previous run's) until the new run replaces
 * it: a re-run that fails or is cancelled leaves it in place. A variant that needs data does not
 * start without it.
 */
export function runVariant(id: string): void {
  const v = useSession.getState().variants.find((x) => x.id === id);
  if (!v || cannotRun(v)) return;
  patchVariant(id, { status: 'queued', job: 'run', progress: {}, stage: undefined, error: undefined, training: undefined });
  void pump();
}

/**
 * Measures a finished variant's model again on the current data (or random inputs without data),
 * without optimizing it again: what "stale" results need to be compared. No data required.
 */
export function reevaluateVariant(id: string): void {
  const v = useSession.getState().variants.find((x) => x.id === id);
  if (!v?.result) return runVariant(id);
  patchVariant(id, { status: 'queued', job: 'reevaluate', progress: {}, stage: undefined, error: undefined });
  void pump();
}

export function runAll(): void {
  for (const v of useSession.getState().variants) if (v.status === 'idle' || v.status === 'error' || v.status === 'cancelled') runVariant(v.id);
}

/** Re-evaluates the given finished variants (the stale ones) on the current data. */
export function reevaluateAll(ids: string[]): void {
  for (const id of ids) reevaluateVariant(id);
}

export function clearHighlight(): void {
  set({ highlighted: null });
}

export function cancelVariant(id: string): void {
  const v = useSession.getState().variants.find((x) => x.id === id);
  if (!v) return;
  if (v.status === 'queued') patchVariant(id, v.result ? { status: 'done', error: 'Re-run cancelled before it started; the result is the previous run\'s.' } : { status: 'cancelled', error: 'Cancelled before it started.' });
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
  if (v.allowFloatFallback) setAllowFloatFallback(newIdValue, true);
  set({ highlighted: newIdValue });
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
  const previous = variant.result;
  try {
    const result = await callWorker((api) =>
      variant.job === 'reevaluate' && previous
        ? api.reevaluate(variant.id, previous, split, progress)
        : api.run(variant.id, { recipe: variant.recipe, chain: chainOf(variant.recipe, variant.steps), training: train ? { epochs: train.epochs, batchSize: train.batchSize, learningRate: train.learningRate, ...(train.augment ? { augment: train.augment } : {}) } : null, allowFloatFallback: !!variant.allowFloatFallback }, split, answers.target, progress, onTraining),
    );
    patchVariant(variant.id, (v) => ({
      status: 'done',
      result: { ...result, recipe: withExplicitSmallLayers(result.recipe) },
      stage: undefined,
      progress: Object.fromEntries(Object.entries(v.progress).map(([k, p]) => [k, { done: p!.total ?? 1, total: p!.total ?? 1 }])),
    }));
    set((s) => ({ selected: s.selected ?? variant.id }));
  } catch (error) {
    const info = toErrorInfo(error);
    patchVariant(variant.id, (v) =>
      v.result
        ? { status: 'done', job: undefined, error: `The re-run ${info.code === 'cancelled' ? 'was cancelled' : `failed: ${info.message}`}. The result shown is the previous run's.`, stage: undefined }
        : { status: info.code === 'cancelled' ? 'cancelled' : 'error', error: info.message, stage: undefined });
  }
  schedulePersist();
}

// ---------------------------------------------------------------------------------------------
// Persistence

/**
 * Every session is saved under its own key ("session:<id>"), with an index of them for the
 * switcher and the id of the one open ("active"), so opening another model never loses one. The
 * single key of earlier versions ("session") is read once and moved.
 */
const LEGACY_KEY = 'session';
const INDEX_KEY = 'sessions';
const ACTIVE_KEY = 'active-session';
const sessionKey = (id: string) => `session:${id}`;

interface Saved {
  id?: string;
  modelName: string;
  modelBytes: Uint8Array;
  answers: WizardAnswers;
  variants: Variant[];
  hadData: boolean;
  savedAt?: number;
  /** A raw detection head's anchors file and box coder (sessions saved before have none). */
  anchors?: AnchorsSource;
}

let persistTimer: ReturnType<typeof setTimeout> | null = null;
function schedulePersist(): void {
  if (persistTimer) clearTimeout(persistTimer);
  persistTimer = setTimeout(() => {
    persistTimer = null;
    void persist();
  }, 300);
}

/** Saves now what a scheduled save would have saved (before the session is switched away from). */
async function flushPersist(): Promise<void> {
  if (persistTimer) {
    clearTimeout(persistTimer);
    persistTimer = null;
  }
  await persist();
}

async function readIndex(): Promise<SessionSummary[]> {
  return (await idbGet<SessionSummary[]>(INDEX_KEY)) ?? [];
}

async function writeIndex(index: SessionSummary[]): Promise<void> {
  await idbSet(INDEX_KEY, index);
  const { sessionId } = useSession.getState();
  set({ otherSessions: index.filter((x) => x.id !== sessionId).sort((a, b) => b.savedAt - a.savedAt) });
}

let saving: Promise<void> = Promise.resolve();
function persist(): Promise<void> {
  saving = saving.then(persistNow, persistNow);
  return saving;
}

async function persistNow(): Promise<void> {
  const s = useSession.getState();
  try {
    const index = (await readIndex()).filter((x) => x.id !== s.sessionId);
    if (!s.modelBytes || !s.modelName || s.variants.length === 0) {
      await idbDelete(sessionKey(s.sessionId));
      await writeIndex(index);
      return;
    }
    const savedAt = Date.now();
    const saved: Saved = {
      id: s.sessionId,
      modelName: s.modelName,
      modelBytes: s.modelBytes,
      answers: s.answers,
      variants: s.variants.map((v) => (v.status === 'running' || v.status === 'queued' ? { ...v, status: v.result ? 'done' : 'idle', progress: {} } : v)),
      hadData: s.data.status === 'ready' || s.data.status === 'lost',
      savedAt,
      ...(s.anchors.status === 'ready' ? { anchors: s.anchors.source } : {}),
    };
    await idbSet(sessionKey(s.sessionId), saved);
    await idbSet(ACTIVE_KEY, s.sessionId);
    await writeIndex([...index, { id: s.sessionId, modelName: s.modelName, variants: s.variants.length, done: s.variants.filter((v) => v.result).length, savedAt }]);
  } catch (error) {
    console.warn('Could not save the session in IndexedDB:', error);
  }
}

/**
 * The saved session `id` (else the active one), restored into the page; returns the model to reopen.
 * `skip`: checked just before the page changes; when it says so (the user opened a model while the
 * saved session was being read), nothing is restored and the saved session stays in the switcher.
 */
export async function restoreSession(id?: string, skip?: () => boolean): Promise<{ name: string; bytes: Uint8Array } | null> {
  let saved: Saved | undefined;
  try {
    const legacy = await idbGet<Saved>(LEGACY_KEY);
    if (legacy?.modelBytes) {
      const legacyId = newSessionId();
      await idbSet(sessionKey(legacyId), { ...legacy, id: legacyId });
      await idbSet(INDEX_KEY, [...(await readIndex()), { id: legacyId, modelName: legacy.modelName, variants: legacy.variants.length, done: legacy.variants.filter((v) => v.result).length, savedAt: Date.now() }]);
      await idbSet(ACTIVE_KEY, legacyId);
      await idbDelete(LEGACY_KEY);
    }
    const wanted = id ?? (await idbGet<string>(ACTIVE_KEY));
    saved = wanted ? await idbGet<Saved>(sessionKey(wanted)) : undefined;
    if (saved && !saved.id) saved.id = wanted;
  } catch {
    return null;
  }
  if (!saved?.modelBytes || !saved.id) {
    void readIndex().then(writeIndex).catch(() => {});
    return null;
  }
  if (skip?.()) {
    void readIndex().then(writeIndex).catch(() => {});
    return null;
  }
  const withResult = saved.variants.filter((v) => v.result).length;
  const variants = saved.variants.map((v) => ({ ...v, recipe: withRecipeDefaults(v.recipe), ...(v.result ? { result: { ...v.result, recipe: withRecipeDefaults(v.result.recipe, { savedAt: saved!.savedAt }) } } : {}) }));
  // The model's name and bytes come with the variants, in one step: a file picked while the restored
  // model is still being parsed then finds a session with work and asks, instead of opening directly
  // and losing the race to the restore (or persisting a session without its model over the saved one).
  anchorsToRestore = saved.anchors ?? null;
  set({
    sessionId: saved.id,
    modelName: saved.modelName,
    modelBytes: saved.modelBytes,
    answers: saved.answers ?? DEFAULT_ANSWERS,
    variants,
    selected: saved.variants.find((v) => v.result)?.id ?? null,
    highlighted: null,
    restoredNote: `Restored ${id ? 'the session' : 'the previous session'}: ${saved.modelName}, ${saved.variants.length} variant(s), ${withResult} with results. Dataset files are not kept across reloads: drop the data again to run more variants that need it.`,
  });
  await idbSet(ACTIVE_KEY, saved.id).catch(() => {});
  await readIndex().then(writeIndex).catch(() => {});
  return { name: saved.modelName, bytes: saved.modelBytes };
}

/** Leaves this session (it stays saved) for the saved session `id`. */
export async function switchSession(id: string): Promise<{ name: string; bytes: Uint8Array } | null> {
  for (const v of useSession.getState().variants) if (v.status === 'running' || v.status === 'queued') cancelVariant(v.id);
  await flushPersist();
  return restoreSession(id);
}

/** Deletes this session from storage (its variants go); the model stays open. */
export async function clearSession(): Promise<void> {
  for (const v of useSession.getState().variants) cancelVariant(v.id);
  set({ variants: [], selected: null, restoredNote: null, highlighted: null });
  await flushPersist();
}

/** Whether opening another model now would leave a session with variants behind (ask first). */
export function sessionHasWork(): boolean {
  const s = useSession.getState();
  return !!s.modelName && s.variants.length > 0;
}
