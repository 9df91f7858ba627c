/**
 * "Find it for me" for the page: the precision search on the session's model and data, split as
 * variants are (calibration first; the evaluation samples divided into the search split, three
 * quarters, and the check split, the last quarter, which the search never sees). What comes back is
 * plain data: the candidates, the check, and the pick's recipe, which the page adds as a variant and
 * runs like any other (so it is evaluated, timed, checked and downloadable the same way).
 */
import { WorkbenchError } from '../errors';
import type { QualityMetric, QualitySummary } from '../evaluate/quality';
import type { Target } from '../evaluate/target-check';
import type { Recipe } from '../optimize/recipe';
import { candidateRecipe, searchPrecision, type Candidate, type SearchCache, type SearchEvent, type SearchObjective } from './search/precision-search';
import type { OpPrecisionLoss } from './search/sensitivity';
import type { Session } from './session';
import { splitIndices } from './split';
import type { Split } from './worker-protocol';
import type { SparsityAsk } from './search/sparse-forms';

export interface SearchSettings {
  recipe: Recipe;
  budget: number;
  /** null: the task's default (top-1 with labels, agreement without...). */
  metric: QualityMetric | null;
  objective: SearchObjective;
  /** Where the pick must run (the wizard's target answer); see SearchRequest.target. */
  target?: Target;
  maxEvaluations?: number;
  /** Also the per-op table's pruned / clustered columns (SearchRequest.sparsity). */
  sparsity?: SparsityAsk;
}

export interface SearchOutcome {
  metric: QualityMetric;
  /** Every candidate measured, with the recipe that builds it (any can be added to the experiments). */
  candidates: (Candidate & { recipe: Recipe })[];
  pick: Candidate & { recipe: Recipe };
  check: { quality: QualitySummary; floatQuality: QualitySummary; loss: number; meets: boolean };
  floatQuality: QualitySummary;
  /** Per op, the SQNR lost at each precision the search measured. */
  sensitivity: OpPrecisionLoss[];
  /** Objective both: the size / latency front and how the pick was chosen on it. */
  front?: Candidate[];
  choice?: string;
  evaluations: number;
  samples: { calibration: number; search: number; check: number };
  notes: string[];
}

/** The search and check parts of the evaluation samples. */
export function searchAndCheck(evaluation: number[]): { search: number[]; check: number[] } {
  if (evaluation.length < 2) throw new WorkbenchError('bad-input', 'The search needs at least 2 evaluation samples: one to search on, one to confirm the pick on.');
  const checkCount = Math.max(1, Math.round(evaluation.length / 4));
  return { search: evaluation.slice(0, evaluation.length - checkCount), check: evaluation.slice(evaluation.length - checkCount) };
}

/**
 * Measurements kept per model (by its bytes, dropped with them) and per settings that change what a
 * candidate measures: data, split, recipe, metric, target. A search run again with another budget or
 * objective reuses every candidate measured before (precision-search.ts SearchRequest.cache).
 */
const caches = new WeakMap<Uint8Array, Map<string, SearchCache>>();

function cacheFor(bytes: Uint8Array, session: Session, split: Split, settings: SearchSettings): SearchCache {
  let byModel = caches.get(bytes);
  if (!byModel) caches.set(bytes, (byModel = new Map()));
  // Anchors change what a detector's candidates measure: their count and decoding are part of the key.
  const raw = session.rawDetection;
  const anchors = raw ? [raw.anchors.count, Array.from(raw.anchors.yCenter.subarray(0, 8)), raw.decoding] : null;
  const key = JSON.stringify([session.datasetFingerprint ?? null, split, settings.recipe, settings.metric, settings.target ?? 'cpu', anchors]);
  let cache = byModel.get(key);
  if (!cache) byModel.set(key, (cache = new Map()));
  return cache;
}

export async function runSearch(request: { session: Session; split: Split; settings: SearchSettings; onEvent: (event: SearchEvent) => void; signal?: AbortSignal }): Promise<SearchOutcome> {
  const { session, settings } = request;
  const { bytes } = session.requireModel();
  const dataset = session.dataset;
  if (!dataset) throw new WorkbenchError('bad-input', 'The search calibrates and measures candidates on your data: load a dataset first.');
  const indices = splitIndices(dataset, request.split);
  const { search, check } = searchAndCheck(indices.evaluation);
  const result = await searchPrecision({
    model: bytes,
    recipe: settings.recipe,
    calibration: { dataset, indices: indices.calibration },
    search: { dataset, indices: search },
    check: { dataset, indices: check },
    metric: settings.metric ?? undefined,
    rawDetection: session.rawDetection ?? undefined,
    budget: settings.budget,
    objective: settings.objective,
    target: settings.target,
    maxEvaluations: settings.maxEvaluations,
    sparsity: settings.sparsity,
    cache: cacheFor(bytes, session, request.split, settings),
    onProgress: request.onEvent,
    signal: request.signal,
  });
  const { model: _bytes, ...pick } = result.pick;
  return {
    metric: result.metric,
    candidates: result.candidates.map((c) => ({ ...c, recipe: candidateRecipe(settings.recipe, c) })),
    pick: { ...pick, recipe: result.pickRecipe },
    check: result.check,
    floatQuality: result.floatQuality,
    sensitivity: result.sensitivity,
    ...(result.front ? { front: result.front } : {}),
    ...(result.choice ? { choice: result.choice } : {}),
    evaluations: result.evaluations,
    samples: { calibration: indices.calibration.length, search: search.length, check: check.length },
    notes: result.notes,
  };
}
