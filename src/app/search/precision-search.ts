/**
 * "Find it for me": the smallest (or fastest) quantized model whose quality stays within a budget.
 *
 * 1. Quantize everything the recipe can (e.g. per-channel int8) and compare it with the float model
 *    on the search split, layer by layer: the quality of the all-quantized candidate, and the
 *    sensitivity ranking of its ops (sensitivity.ts).
 * 2. If it misses the budget, keep the most sensitive ops in float: 1, 2, 4, 8 ... of them until a
 *    candidate meets the budget, then bisect between the last miss and the first hit for the fewest
 *    float ops that meet it. Every candidate is a real model, written, run in LiteRT and measured.
 * 3. For the size objective, first give one weight scale per tensor to the ops whose channels share a
 *    range and whose per-channel scales cost 1% of the file or more (granularity-order.ts; a 1001-way
 *    classifier's are 16 KB), one op a step, each held to the budget with its noise margin.
 *    Then lower weights to int4 (W4A8 / W4A16), the fewest dB lost per byte saved
 *    first (from one per-layer comparison of the all-int4 candidate), greedily: 1, 2, 4 ... ops while
 *    the budget holds, a smaller step when it does not, and an op that misses alone stays int8; a set
 *    of ops already measured is not measured again (adaptive-greedy.ts).
 * Beside these, one candidate each measures the ops at other precisions, for the per-op table of the
 * report (sensitivity.ts precisionTable) and as candidates of their own: the whole model in 16x8
 * (int16 activations) when int8 misses, and the float ops of the pick with float16 weights (half their
 * bytes; the int4 stage builds on it when it measures no worse, i.e. within the float32-kept
 * candidate's 95% interval; its column of the table comes from one comparison of the whole model in
 * float16, counted in no evaluation). When the whole model in 16x8 measured, the ops it helps most
 * are also tried at 16x8 inside the int8 model (1, 2, 4 of them, at most MAX_16X8_OPS) before the
 * float set grows: a 16x8 op costs no weight bytes, but LiteRT.js runs 16x8 kernels far slower
 * than int8 ones, so only a few, and the float candidates still follow for the pick to weigh.
 * 4. Confirm the pick on the check split, which neither calibration nor the search saw, with its
 *    sample count and 95% interval; the pick "meets" the budget only if it does there too.
 *
 * The budget: for top-1 / top-5 / agreement / mAP / mIoU, the percentage points the pick may lose
 * against the float model (1 = one point); for SQNR and cosine, which the float model scores
 * perfectly on, the lowest value allowed (e.g. 30 dB).
 */
import { WorkbenchError } from '../../errors';
import { compareModels, type LayerComparison } from '../../evaluate/compare';
import { measureLatency } from '../../evaluate/latency';
import { isBlocking, targetCheck, TARGET_LABELS, type Target } from '../../evaluate/target-check';
import type { RawDetectionSpec } from '../../evaluate/box-decoding';
import { rawDetectionTask } from '../../evaluate/raw-detection-task';
import { defaultMetric, inferTask, RATE_METRICS, type QualityMetric, type QualitySummary } from '../../evaluate/quality';
import { boxesAt, masksAt, type Dataset } from '../../data/dataset';
import { optimizeModel, type OptimizeResult } from '../../optimize/pipeline';
import type { QuantizationPlan } from '../../optimize/quantize/plan-types';
import { defaultRecipe, recipeLabel, type Recipe } from '../../optimize/recipe';
import { ruleFor } from '../../optimize/quantize/rules';
import { BuiltinOperator } from '../../tflite/schema/generated/tflite_generated';
import type { ModelGraph } from '../../tflite/graph';
import { readModel } from '../../tflite/read';
import { samplesOf } from '../yielding-samples';
import { LATENCY_RUNS, LATENCY_WARMUP, pick, sizeLatencyFront, BOTH_LATENCY_SLACK, type SearchObjective } from './objective';
import { precisionTable, rankSensitivity, type OpPrecisionLoss, type OpSensitivity, type SensitivityColumn } from './sensitivity';
import { sparseModels, sparsityNotes, type SparsityAsk } from './sparse-forms';
import { perTensorOrder } from './granularity-order';
import { adaptiveGreedy } from './adaptive-greedy';

export { pick, type SearchObjective } from './objective';

/** Some samples of a dataset. */
export interface DataPart {
  dataset: Dataset;
  indices: number[];
}

export interface SearchRequest {
  model: Uint8Array;
  /** The quantization to search around (int8 or int16x8); the search adds float ops to it. */
  recipe: Recipe;
  /** Disjoint samples: calibration, the search split and the check split. */
  calibration: DataPart;
  search: DataPart;
  check: DataPart;
  metric?: QualityMetric;
  /** A detector with a raw head: its anchors and decoding (mAP@0.5 of the decoded boxes); the cache key must include them. */
  rawDetection?: RawDetectionSpec;
  budget: number;
  objective: SearchObjective;
  /** At most this many candidates evaluated on the search split (default 30). */
  maxEvaluations?: number;
  /** Also try one weight scale per tensor where per-channel scales buy nothing (size and both objectives; default true). */
  granularity?: boolean;
  /** Also try int4 weights once a candidate meets the budget (size and both objectives; default true). */
  int4?: boolean;
  /** Try the pick's float ops with float16 weights (size and both objectives; default true). */
  float16?: boolean;
  /**
   * Try the whole model in 16x8 when all-int8 misses, then the ops it helps most at 16x8 inside the
   * int8 model (int8 recipes, not the Edge TPU; default true).
   */
  int16x8?: boolean;
  /**
   * Where the pick must run (default 'cpu': anything LiteRT runs). 'integer' (Edge TPU / NPU) and
   * 'mcu' (TFLite Micro) allow no op kept in float, so the search only lowers bits; a candidate with
   * an op or tensor the target cannot take never meets (evaluate/target-check.ts), and for 'mcu' the
   * arena / flash limits below bound it too. Every candidate runs in LiteRT.js, so 'web' adds nothing.
   */
  target?: Target;
  /** Microcontroller limits: the TFLM-style arena estimate and the file size, in bytes. */
  limits?: { arenaBytes?: number; flashBytes?: number };
  /**
   * Measurements to reuse and add to: a later search with the same model, data, splits, recipe,
   * metric and target (the caller's key for the cache) and another budget or objective re-measures
   * no candidate it already measured (the sensitivity ranking included).
   */
  cache?: SearchCache;
  /** Also measure each op's loss with the float model's weights pruned / clustered (the per-op table's pruned and clustered columns). */
  sparsity?: SparsityAsk;
  onProgress?: (event: SearchEvent) => void;
  signal?: AbortSignal;
}

export interface Candidate {
  label: string;
  /** Ops kept in float by the search (output tensor names), beyond what the recipe excludes. */
  floatOps: string[];
  /** Ops whose weights the search lowered to int4 (output tensor names); '*' for every op that can take them. */
  int4Ops: string[];
  bytes: number;
  quality: QualitySummary;
  /** Quality lost against the float model, in points of the metric (see the file comment). */
  loss: number;
  /** Met the budget on the search split (with `noiseMargin` added to the loss), is smaller than the float model and fits the target. */
  meets: boolean;
  /** Top-1 agreement with the float model on the search split (classifiers). */
  agreement?: number;
  /**
   * Granularity and int4 stages, top-1 / top-5 against labels: one standard error, in points, of what
   * the candidate changed against the base those stages start from (stepNoise), added to the loss
   * before it is held against the budget (see the int4 stage).
   */
  noiseMargin?: number;
  smaller: boolean;
  /** Runs on the target within its limits; else `misfit` says why. */
  fits: boolean;
  misfit?: string;
  /** Microcontroller target: the TFLM-style tensor arena estimate. */
  arenaBytes?: number;
  /** Measured by an earlier search (SearchRequest.cache), not again. */
  reused?: boolean;
  /** The ops kept in float store their weights as float16 (recipe floatWeights). */
  floatWeights?: 'float16';
  /** 16: the whole model with int16 activations (16x8), tried when int8 misses. */
  activationBits?: 16;
  /** Ops run 16x8 inside the int8 model (output tensor names), tried before keeping ops in float. */
  int16Ops?: string[];
  /** Ops whose int8 weights take one scale per tensor (output tensor names): the granularity stage. */
  perTensorOps?: string[];
  /** LiteRT latency the search ranks by (objectives latency and both): the 10th percentile of the timed runs (objective.ts says why); `latency` has the median and spread. */
  latencyMs?: number;
  latency?: LatencySpread;
}

/** 10th percentile, median, min and 90th percentile of a candidate's timed runs (evaluate/latency.ts), ms. */
export interface LatencySpread {
  p10Ms: number;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  runs: number;
}

/** How a candidate departs from the recipe beside its float and int4 ops. */
export interface Variant {
  float16?: true;
  act16?: true;
  /** Ops (output tensor names) at 16x8 inside the int8 model. */
  int16Ops?: string[];
  /** Ops (output tensor names) whose int8 weights take one scale instead of one per channel. */
  perTensorOps?: string[];
}

/**
 * At most this many ops at 16x8 inside an int8 candidate: LiteRT.js runs 16x8 models far slower than
 * int8 ones (the whole of MobileNetV1 0.25 ~27x), so a candidate with many would give up most of
 * int8's speed.
 */
export const MAX_16X8_OPS = 4;
/** At most this many ops tried with one weight scale (granularity-order.ts keeps only those saving 1% or more). */
const MAX_GRANULARITY_STEPS = 4;
/** An op goes into the 16x8 order only if the whole-model 16x8 comparison says it loses this many dB less. */
const MIN_16X8_GAIN_DB = 1;

/** One candidate's (or the float model's) measurements on the search split, as the cache keeps them. */
export interface Measured {
  label: string;
  bytes: number;
  plan?: QuantizationPlan;
  quality: QualitySummary;
  perLayer?: LayerComparison[];
  fit: Pick<Candidate, 'fits' | 'misfit' | 'arenaBytes'>;
  latency?: LatencySpread;
  /** Top-1 agreement with the float model (classifiers; absent in caches from before it was kept). */
  agreement?: number;
  /** Labelled classifiers: per sample, whether its top-1 (bit 0) / top-5 (bit 1) holds the label (compare.ts keepHits). */
  hits?: Uint8Array;
}

/** Keyed by the candidate's float and int4 ops and variant ('float:search' / 'float:check' for the float model). */
export type SearchCache = Map<string, Measured>;

export type SearchEvent =
  | { kind: 'stage'; stage: 'rank' | 'int16x8' | 'int16x8-ops' | 'search' | 'float16' | 'granularity' | 'int4' | 'sparsity' | 'check'; evaluations: number; maxEvaluations: number }
  | { kind: 'candidate'; candidate: Candidate; evaluations: number; maxEvaluations: number };

export interface SearchResult {
  metric: QualityMetric;
  budget: number;
  /** The float model's quality on the search split (what the loss is counted from). */
  floatQuality: QualitySummary;
  candidates: Candidate[];
  ranking: OpSensitivity[];
  /** Per op, the loss measured at each precision tried (int4, int8, int16x8, float16). */
  sensitivity: OpPrecisionLoss[];
  /** Objective 'both': the size / latency Pareto front of the meeting candidates, and how the pick was chosen on it. */
  front?: Candidate[];
  choice?: string;
  /** The pick: the best candidate that met the budget on the search split, else the closest. */
  pick: Candidate & { model: Uint8Array };
  /** The recipe that makes the pick (the base recipe with the pick's float ops kept float). */
  pickRecipe: Recipe;
  /** The pick on the check split, with the float model's quality there. */
  check: { quality: QualitySummary; floatQuality: QualitySummary; loss: number; meets: boolean };
  evaluations: number;
  notes: string[];
}


/** Points lost: for fractions, percentage points below the float model; for SQNR / cosine, the value itself is the constraint. */
export function qualityLoss(metric: QualityMetric, floatValue: number, value: number): number {
  return RATE_METRICS.has(metric) ? 100 * (floatValue - value) : -value;
}

function meetsBudget(metric: QualityMetric, loss: number, budget: number): boolean {
  return RATE_METRICS.has(metric) ? loss <= budget + 1e-9 : -loss >= budget;
}

/**
 * One standard error, in points, of a step's effect on a label metric (top-1 / top-5): of the samples
 * the base and the step's candidate score differently (one holds the label, the other not; d of n),
 * the difference of the two paired proportions has a standard error of sqrt(d) / n (McNemar).
 * Undefined (no margin) for other metrics, or when either side's per-sample hits are unknown (a cache
 * from before they were kept).
 */
export function stepNoise(metric: QualityMetric, baseHits: Uint8Array | undefined, hits: Uint8Array | undefined): number | undefined {
  if ((metric !== 'top1' && metric !== 'top5') || !baseHits || !hits || baseHits.length !== hits.length || !hits.length) return undefined;
  const bit = metric === 'top1' ? 1 : 2;
  let discordant = 0;
  for (let i = 0; i < hits.length; i++) if ((hits[i] & bit) !== (baseHits[i] & bit)) discordant++;
  return (100 * Math.sqrt(discordant)) / hits.length;
}

/**
 * Search samples a step would need for its noise margin to fit the budget, had it the same share of
 * changed samples and the same loss: the margin is 100 sqrt(d) / n = 100 sqrt(p / n) points for a
 * share p = d / n, so loss + margin <= budget takes n >= p (100 / (budget - loss))^2. Undefined when
 * its loss alone misses the budget (no sample count helps) or it has no margin.
 */
export function samplesToCertify(candidate: Pick<Candidate, 'loss' | 'noiseMargin' | 'quality'>, budget: number): number | undefined {
  const { loss, noiseMargin } = candidate;
  const n = candidate.quality.samples;
  if (noiseMargin === undefined || !n || loss >= budget) return undefined;
  const share = (noiseMargin * noiseMargin * n) / 1e4;
  return Math.ceil(share * (100 / (budget - loss)) ** 2);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function searchPrecision(request: SearchRequest): Promise<SearchResult> {
  const { model, budget, signal } = request;
  let recipe = request.recipe;
  if (recipe.technique !== 'int8' && recipe.technique !== 'int16x8') {
    throw new WorkbenchError('bad-input', `The search varies which ops are quantized, so it needs an int8 or int16x8 recipe, not ${recipe.technique}.`);
  }
  if (!request.search.indices.length || !request.check.indices.length) throw new WorkbenchError('bad-input', 'The search needs samples for its search split and for its check split.');
  const maxEvaluations = request.maxEvaluations ?? 30;
  const target = request.target ?? 'cpu';
  const integerTarget = target === 'integer' || target === 'mcu';
  const notes: string[] = [];
  if (target === 'integer' && recipe.technique !== 'int8') {
    throw new WorkbenchError('bad-input', `${TARGET_LABELS.integer} runs int8 only: search with an int8 recipe, not ${recipe.technique}.`);
  }
  if (integerTarget && !recipe.integerOnly) {
    recipe = { ...recipe, integerOnly: true, ...(target === 'integer' && recipe.io === 'float' ? { io: 'int8' as const } : {}) };
    notes.push(`${TARGET_LABELS[target]}: every op quantized (integer only${target === 'integer' ? ', int8 inputs and outputs' : ''}); the search only lowers bits, it keeps no op in float.`);
  }
  const floatGraph = readModel(model);
  const task = request.rawDetection ? rawDetectionTask(floatGraph, request.rawDetection) : inferTask(floatGraph);
  const labelsOf = ({ dataset, indices }: DataPart) => {
    const labels = indices.map((i) => dataset.labels[i]);
    return labels.every((l) => l !== null) ? (labels as number[]) : undefined;
  };
  const searchLabels = labelsOf(request.search);
  const metric = request.metric ?? defaultMetric(task, { labels: searchLabels });
  const progress = request.onProgress ?? (() => {});
  let evaluations = 0;

  const needsLatency = request.objective !== 'size';
  const build = async (floatOps: string[], int4Ops: string[] = [], variant: Variant = {}): Promise<OptimizeResult> => {
    return optimizeModel({
      model,
      recipe: recipeWith(recipe, floatOps, int4Ops, variant),
      calibration: samplesOf(request.calibration.dataset, request.calibration.indices),
      calibrationCount: request.calibration.indices.length,
      signal,
      // Float ops are what the search asks for; a candidate that grows or does nothing is simply a bad candidate.
      allowFloatFallback: true,
    });
  };
  // Not yet given the candidates' channelScales (OptimizeResult), so an op cross-layer equalization
  // rescaled still reads a false loss in the ranking and the per-op table (MNIST's dense layer: ~31 dB
  // at int8 where it loses ~0). Passing them is one line, but on MNIST the honest ranking then leads to
  // no candidate meeting 44 dB (the ops it ranks first help least when kept in float): the ranking needs
  // rethinking first (report of branch cmpfloor).
  const measure = async (bytes: Uint8Array, part: DataPart, perLayer = false) => {
    const labels = labelsOf(part);
    // A detector's box labels and a segmenter's masks, when its data has them, are what mAP / mIoU is measured against.
    const boxes = boxesAt(part.dataset, part.indices);
    const masks = masksAt(part.dataset, part.indices);
    const truth = { ...(labels ? { labels } : {}), ...(boxes ? { boxes } : {}), ...(masks ? { masks } : {}) };
    return compareModels(model, bytes, samplesOf(part.dataset, part.indices), { labels, total: part.indices.length, perLayer, signal, keepHits: true, quality: { metric, truth, rawDetection: request.rawDetection } });
  };
  // The float model's own quality: from the labels when there are some, else 100% agreement.
  const floatOn = async (part: DataPart, name: string) => {
    const key = `float:${name}`;
    const cached = request.cache?.get(key);
    if (cached) return cached.quality;
    const quality = (await measure(model, part)).quality!;
    request.cache?.set(key, { label: 'float', bytes: model.length, quality, fit: { fits: true } });
    return quality;
  };
  const floatQuality = await floatOn(request.search, 'search');
  const floatValue = floatQuality.value;

  // One per-layer comparison of the whole model in float16 (not a candidate: it is never smaller than int8).
  const float16Layers = async (): Promise<LayerComparison[]> => {
    const cached = request.cache?.get('float16:search');
    if (cached?.perLayer) return cached.perLayer;
    const made = await optimizeModel({ model, recipe: defaultRecipe('float16'), signal, allowFloatFallback: true });
    const comparison = await measure(made.bytes, request.search, true);
    request.cache?.set('float16:search', { label: 'float16', bytes: made.bytes.length, quality: comparison.quality!, perLayer: comparison.perLayer, fit: { fits: true } });
    return comparison.perLayer ?? [];
  };

  const candidates: Candidate[] = [];
  // Per-sample hits of the candidates measured with labels, for the int4 stage's paired noise margin.
  const hitsOf = new Map<Candidate, Uint8Array>();
  const planOf = new Map<Candidate, QuantizationPlan>();
  const evaluate = async (floatOps: string[], perLayer = false, int4Ops: string[] = [], variant: Variant = {}, noiseAgainst?: Candidate) => {
    if (signal?.aborted) throw new WorkbenchError('cancelled', `The search was cancelled after ${evaluations} evaluation(s).`);
    const key = JSON.stringify(variant.float16 || variant.act16 || variant.int16Ops?.length || variant.perTensorOps?.length ? [floatOps, int4Ops, variant] : [floatOps, int4Ops]);
    let measured = request.cache?.get(key);
    const usable = measured && (!perLayer || measured.perLayer) && (!needsLatency || measured.latency !== undefined);
    if (!measured || !usable) {
      const made = await build(floatOps, int4Ops, variant);
      const comparison = await measure(made.bytes, request.search, perLayer);
      evaluations++;
      const int4Count = int4Ops[0] === '*' ? (made.plan?.subgraphs[0]?.ops ?? []).filter((op) => op.weightBits === 4).length : int4Ops.length;
      const timed = needsLatency ? await measureLatency(made.bytes, { runs: LATENCY_RUNS, warmup: LATENCY_WARMUP, signal }) : undefined;
      measured = {
        label: `${recipeLabel(variant.act16 ? { ...recipe, technique: 'int16x8' } : recipe)}${variant.int16Ops?.length ? `+${variant.int16Ops.length}int16x8` : ''}${floatOps.length ? `+${floatOps.length}float${variant.float16 ? '16' : ''}` : ''}${variant.perTensorOps?.length ? `+${variant.perTensorOps.length}per-tensor` : ''}${int4Count ? `+${int4Count}int4` : ''}`,
        bytes: made.bytes.length,
        plan: made.plan,
        quality: comparison.quality!,
        perLayer: comparison.perLayer,
        fit: fitsTarget(made.bytes, target, request.limits),
        ...(comparison.classification?.count ? { agreement: comparison.classification.agreement } : {}),
        ...(comparison.hits ? { hits: comparison.hits } : {}),
        ...(timed ? { latency: { p10Ms: lowTail(timed.timesMs), medianMs: timed.medianMs, minMs: timed.minMs, p90Ms: timed.p90Ms, runs: timed.runs } } : {}),
      };
      request.cache?.set(key, measured);
    }
    const { quality, fit } = measured;
    const loss = qualityLoss(metric, floatValue, quality.value);
    // A candidate no smaller than the float model is no answer, whatever its quality.
    const smaller = measured.bytes < model.length;
    const noiseMargin = noiseAgainst ? stepNoise(metric, hitsOf.get(noiseAgainst), measured.hits) : undefined;
    const candidate: Candidate = { label: measured.label, floatOps, int4Ops, bytes: measured.bytes, quality, loss, meets: smaller && fit.fits && meetsBudget(metric, loss + (noiseMargin ?? 0), budget), smaller, ...fit };
    if (measured.agreement !== undefined) candidate.agreement = measured.agreement;
    if (measured.hits) hitsOf.set(candidate, measured.hits);
    if (measured.plan) planOf.set(candidate, measured.plan);
    if (noiseMargin !== undefined) candidate.noiseMargin = noiseMargin;
    if (measured.latency) {
      candidate.latencyMs = measured.latency.p10Ms;
      candidate.latency = measured.latency;
    }
    if (variant.float16) candidate.floatWeights = 'float16';
    if (variant.act16) candidate.activationBits = 16;
    if (variant.int16Ops?.length) candidate.int16Ops = variant.int16Ops;
    if (variant.perTensorOps?.length) candidate.perTensorOps = variant.perTensorOps;
    if (usable) candidate.reused = true;
    candidates.push(candidate);
    progress({ kind: 'candidate', candidate, evaluations, maxEvaluations });
    return { candidate, plan: measured.plan, perLayer: measured.perLayer };
  };

  progress({ kind: 'stage', stage: 'rank', evaluations, maxEvaluations });
  const first = await evaluate([], true);
  const quantizedOps = (first.plan?.subgraphs[0]?.ops ?? []).filter((op) => op.mode === 'quantized').map((op) => op.opIndex);
  const ranking = rankSensitivity(floatGraph, first.perLayer ?? [], quantizedOps);
  // At least one op stays quantized: keeping every one in float is the float model, not a candidate.
  const order = ranking.map((r) => r.output).filter((name) => name).slice(0, Math.max(0, ranking.length - 1));
  let grow = true;
  const rankings: Partial<Record<SensitivityColumn, OpSensitivity[]>> = { [recipe.technique === 'int8' ? 'int8' : 'int16x8']: ranking };

  // The whole model in 16x8 (int16 activations, int8 weights): the step between int8 and float that
  // costs no bytes (bias int64 aside), and the per-op loss at 16 bits. Not for the Edge TPU (int8 only);
  // uint8 I/O has no 16x8 form.
  if (!first.candidate.meets && recipe.technique === 'int8' && target !== 'integer' && recipe.io !== 'uint8' && request.int16x8 !== false && evaluations < maxEvaluations) {
    progress({ kind: 'stage', stage: 'int16x8', evaluations, maxEvaluations });
    const all16 = await evaluate([], true, [], { act16: true });
    const ops16 = (all16.plan?.subgraphs[0]?.ops ?? []).filter((op) => op.mode === 'quantized').map((op) => op.opIndex);
    rankings.int16x8 = rankSensitivity(floatGraph, all16.perLayer ?? [], ops16);
    // For size, int8 with ops in float is larger than 16x8 (same weight bytes): nothing to grow.
    if (all16.candidate.meets && request.objective === 'size') {
      grow = false;
      notes.push('The whole model in 16x8 meets the budget: no int8 candidate with ops in float would be smaller, so the search keeps none in float.');
    }
  }

  // A few ops at 16x8 inside the int8 model, those the whole-model 16x8 comparison helps most first.
  const order16 = rankings.int16x8 ? int16x8Order(ranking, rankings.int16x8).slice(0, MAX_16X8_OPS) : [];
  // Also when the whole model in 16x8 met: a few 16x8 ops inside int8 are as small and run faster.
  if (!first.candidate.meets && order16.length && evaluations < maxEvaluations) {
    progress({ kind: 'stage', stage: 'int16x8-ops', evaluations, maxEvaluations });
    let met: Candidate | undefined;
    for (let k = 1; evaluations < maxEvaluations; k = Math.min(order16.length, k * 2)) {
      const { candidate } = await evaluate([], false, [], { int16Ops: order16.slice(0, k) });
      if (candidate.meets) {
        met = candidate;
        break;
      }
      if (k === order16.length) break;
    }
    notes.push(
      met
        ? `${met.int16Ops!.length} op(s) at 16x8 inside the int8 model meet the budget${request.objective === 'size' ? ': no int8 candidate with ops in float would be smaller, so none is tried' : ''}.`
        : `Up to ${order16.length} op(s) at 16x8 inside the int8 model (those the whole-model 16x8 helps most) miss the budget.`,
    );
    // For size a float op costs four times its weight bytes, a 16x8 op none.
    if (met && request.objective === 'size') grow = false;
  }

  progress({ kind: 'stage', stage: 'search', evaluations, maxEvaluations });
  if (!first.candidate.meets && integerTarget) {
    notes.push(`The all-quantized candidate ${first.candidate.fits ? 'misses the budget' : `does not fit the target (${first.candidate.misfit})`}; ${TARGET_LABELS[target]} allows no op in float, so the search cannot trade bits for quality here.`);
  } else if (!first.candidate.meets && grow) {
    // Grow the float set (1, 2, 4 ...) until the budget is met, then bisect for the fewest.
    let miss = 0;
    let hit = -1;
    for (let k = Math.min(1, order.length); k > 0 && evaluations < maxEvaluations; k = Math.min(order.length, k * 2)) {
      if ((await evaluate(order.slice(0, k))).candidate.meets) {
        hit = k;
        break;
      }
      miss = k;
      if (k === order.length) break;
    }
    while (hit > 0 && hit - miss > 1 && evaluations < maxEvaluations) {
      const middle = Math.floor((miss + hit) / 2);
      if ((await evaluate(order.slice(0, middle))).candidate.meets) hit = middle;
      else miss = middle;
    }
    if (hit < 0) {
      const all = miss === order.length ? ` even with ${miss} of the ${ranking.length} quantized ops in float` : '';
      notes.push(`No candidate met the budget within ${evaluations} evaluation(s)${all}; the pick is the closest.`);
    }
  }
  // The float ops with float16 weights: about half their bytes for compute that stays float32. Kept
  // as the base of the int4 stage when it measures no worse: meets the budget with its quality inside
  // the float32-kept candidate's 95% interval. Not for latency: the weights are the same floats once loaded.
  let base = pick(candidates, request.objective);
  if (request.objective !== 'latency' && request.float16 !== false && !integerTarget && base.floatOps.length && !base.floatWeights && evaluations < maxEvaluations) {
    progress({ kind: 'stage', stage: 'float16', evaluations, maxEvaluations });
    const half = await evaluate(base.floatOps, false, base.int4Ops, { ...variantOf(base), float16: true });
    // The float16 column of the table: every op's loss with the whole model in float16, its inputs
    // clean (inside an int8 candidate a float op's inputs carry the int8 error already).
    rankings.float16 = rankSensitivity(floatGraph, await float16Layers(), floatGraph.subgraphs[0].operators.map((_, i) => i));
    const kept32 = base;
    const noWorse = half.candidate.meets && half.candidate.quality.value >= kept32.quality.interval[0];
    if (noWorse) base = half.candidate;
    notes.push(
      noWorse
        ? `The ${kept32.floatOps.length} op(s) kept in float store their weights as float16: ${half.candidate.bytes} bytes against ${kept32.bytes} with float32, ${formatValue(metric, half.candidate.quality.value)} against ${formatValue(metric, kept32.quality.value)} (within its 95% interval).`
        : `float16 weights for the ${kept32.floatOps.length} op(s) kept in float measured worse (${formatValue(metric, half.candidate.quality.value)} against ${formatValue(metric, kept32.quality.value)}, interval from ${formatValue(metric, kept32.quality.interval[0])}${half.candidate.meets ? '' : ', misses the budget'}): they stay float32.`,
    );
  }
  // One scale instead of one per channel where the channels share a range (granularity-order.ts):
  // 16 bytes a channel, nearly nothing lost. Each step is held against the budget with its noise
  // margin against the base, as int4's are; the int4 stage then builds on what was taken, its margins
  // still counted against the same base (the whole departure from it).
  const anchor = base;
  if (request.objective !== 'latency' && request.granularity !== false && base.meets && recipe.granularity === 'per-channel' && !base.activationBits && evaluations < maxEvaluations) {
    const steps = perTensorOrder(floatGraph, planOf.get(base), base.bytes).slice(0, MAX_GRANULARITY_STEPS);
    if (steps.length) progress({ kind: 'stage', stage: 'granularity', evaluations, maxEvaluations });
    let taken: string[] = [];
    for (const step of steps) {
      if (evaluations >= maxEvaluations) break;
      const { candidate } = await evaluate(base.floatOps, false, base.int4Ops, { ...variantOf(anchor), perTensorOps: [...taken, step.output] }, anchor);
      if (candidate.meets) {
        taken = [...taken, step.output];
        base = candidate;
      }
    }
    if (steps.length) {
      notes.push(
        taken.length
          ? `${taken.length} op(s) took one weight scale in place of one per channel (${anchor.bytes - base.bytes} bytes less, ${formatValue(metric, base.quality.value)} against ${formatValue(metric, anchor.quality.value)}): their channels share a range, so the per-channel scales bought nothing measurable.`
          : `One weight scale in place of one per channel was tried on ${steps.length} op(s) and kept per channel: it did not fit the budget${metric === 'top1' || metric === 'top5' ? ' with its noise margin' : ''}.`,
      );
    }
  }
  // Smaller still: int4 weights on the ops that lose least to them (W4A8 / W4A16 where LiteRT.js runs
  // the kernel; the quantizer keeps int8 elsewhere and says why). Size and both objectives: int4
  // kernels are not faster in LiteRT.js, the size / latency front decides for 'both'.
  // Edge TPU / NPU compilers take int8 / uint8 tensors only: no int4 there.
  if (request.objective !== 'latency' && request.int4 !== false && target !== 'integer' && base.meets && recipe.weightBits === 8 && evaluations < maxEvaluations) {
    progress({ kind: 'stage', stage: 'int4', evaluations, maxEvaluations });
    const variant = variantOf(base);
    const all = await evaluate(base.floatOps, true, ['*'], variant);
    const lowered = (all.plan?.subgraphs[0]?.ops ?? []).filter((op) => op.weightBits === 4).map((op) => op.opIndex);
    const ranking4 = rankSensitivity(floatGraph, all.perLayer ?? [], lowered);
    rankings.int4 = ranking4;
    if (!all.candidate.meets) {
      const order4 = int4Order(floatGraph, ranking4).slice(0, Math.max(0, lowered.length - 1));
      // Greedy in that order with an adaptive step (adaptive-greedy.ts).
      // The stage decides many times on one split, so a step can fit the budget only because some of
      // the predictions it moved happened to turn right: the split's noise, not the model (bench:search,
      // MobileNetV1: int8 + 5 int4 ops met at 0.67 pt on the 300 search images and lost 3 pt on the 100
      // check images, where int8 alone lost 0). With labels, a step's loss therefore carries one
      // standard error of its own change against the base, paired per sample (stepNoise), before it
      // is held against the budget.
      let withinNoise = 0;
      await adaptiveGreedy(
        order4,
        async (ops) => {
          const { candidate } = await evaluate(base.floatOps, false, ops, variant, anchor);
          if (!candidate.meets && candidate.noiseMargin && candidate.smaller && candidate.fits && meetsBudget(metric, candidate.loss, budget)) withinNoise++;
          return candidate.meets;
        },
        () => evaluations < maxEvaluations,
      );
      if (withinNoise) {
        const n = base.quality.samples;
        notes.push(
          `int4: ${withinNoise} step(s) met the budget by their loss alone but not with their noise margin (one standard error of the paired change against the base, sqrt(d)/n points for d of the ${n} samples scored differently), so they were not taken: on ${n} samples they cannot be told apart from a step that breaks the budget. More search samples narrow the margin.`,
        );
      }
    }
  }
  // The pruned / clustered columns, where asked: one per-layer comparison per weight tensor and form,
  // not candidates (sparse-forms.ts says why one tensor at a time).
  const sparse = sparseModels(model, request.sparsity);
  if (sparse.length) progress({ kind: 'stage', stage: 'sparsity', evaluations, maxEvaluations });
  for (const { form, tensor, bytes } of sparse) {
    if (signal?.aborted) throw new WorkbenchError('cancelled', `The search was cancelled after ${evaluations} evaluation(s).`);
    const key = `${form}:${JSON.stringify(request.sparsity)}:${tensor}:search`;
    let layers = request.cache?.get(key)?.perLayer;
    if (!layers) {
      const written = bytes();
      const comparison = await measure(written, request.search, true);
      layers = comparison.perLayer ?? [];
      request.cache?.set(key, { label: `${form} ${tensor}`, bytes: written.length, quality: comparison.quality!, perLayer: layers, fit: { fits: true } });
    }
    const readers = floatGraph.subgraphs[0].operators.flatMap((op, i) => (op.inputs.some((t) => t >= 0 && floatGraph.subgraphs[0].tensors[t]?.name === tensor) ? [i] : []));
    rankings[form] = [...(rankings[form] ?? []), ...rankSensitivity(floatGraph, layers, readers)];
  }
  notes.push(...sparsityNotes(request.sparsity));
  const pickCandidate = pick(candidates, request.objective);
  // What more data would buy: the smallest candidate whose loss alone is under the budget but not with
  // its margin, and the search samples that would certify a step like it.
  const uncertified = candidates
    .filter((c) => !c.meets && c.smaller && c.fits && RATE_METRICS.has(metric) && samplesToCertify(c, budget) !== undefined)
    .sort((a, b) => a.bytes - b.bytes)[0];
  const needed = uncertified ? samplesToCertify(uncertified, budget) : undefined;
  if (uncertified && needed && uncertified.bytes < pickCandidate.bytes) {
    notes.push(
      `The smallest candidate whose loss alone is under the budget, ${uncertified.label} (${uncertified.bytes} bytes, loss ${uncertified.loss.toFixed(2)} + ${uncertified.noiseMargin!.toFixed(2)} margin), would be taken with about ${needed} search samples scoring as these did (${uncertified.quality.samples} now).`,
    );
  }
  const front = request.objective === 'both' ? sizeLatencyFront(candidates) : undefined;
  const choice =
    request.objective === 'both'
      ? front?.length
        ? `objective both: of the ${front.length} candidate(s) on the size / latency front, the smallest whose latency (10th percentile of ${LATENCY_RUNS} runs) is within ${100 * BOTH_LATENCY_SLACK}% of the fastest meeting candidate's (${Math.min(...front.map((c) => c.latencyMs!)).toFixed(2)} ms)`
        : 'objective both: no candidate met the budget, so there is no front; the pick is the closest'
      : undefined;
  if (choice) notes.push(`The pick: ${choice}.`);

  progress({ kind: 'stage', stage: 'check', evaluations, maxEvaluations });
  // Candidates are rebuilt rather than kept: building is deterministic, and a large model's
  // candidates would not all fit in memory.
  const pickModel = (await build(pickCandidate.floatOps, pickCandidate.int4Ops, variantOf(pickCandidate))).bytes;
  const checkQuality = (await measure(pickModel, request.check)).quality!;
  const floatCheck = await floatOn(request.check, 'check');
  const checkLoss = qualityLoss(metric, floatCheck.value, checkQuality.value);
  return {
    metric,
    budget,
    floatQuality,
    candidates,
    ranking,
    sensitivity: precisionTable(rankings),
    ...(front ? { front } : {}),
    ...(choice ? { choice } : {}),
    pick: { ...pickCandidate, model: pickModel },
    pickRecipe: recipeWith(recipe, pickCandidate.floatOps, pickCandidate.int4Ops, variantOf(pickCandidate)),
    check: { quality: checkQuality, floatQuality: floatCheck, loss: checkLoss, meets: pickCandidate.fits && meetsBudget(metric, checkLoss, budget) },
    evaluations,
    notes,
  };
}

/** How a candidate departs from the recipe (float16 weights for its float ops, 16x8 for the whole model or some ops). */
function variantOf(c: Candidate): Variant {
  return {
    ...(c.floatWeights === 'float16' ? { float16: true as const } : {}),
    ...(c.activationBits === 16 ? { act16: true as const } : {}),
    ...(c.int16Ops?.length ? { int16Ops: c.int16Ops } : {}),
    ...(c.perTensorOps?.length ? { perTensorOps: c.perTensorOps } : {}),
  };
}

/**
 * The ops to try at 16x8 inside the int8 model: by the dB the whole-model 16x8 comparison says each
 * loses less than at int8, most first, only those gaining MIN_16X8_GAIN_DB or more.
 */
export function int16x8Order(int8: OpSensitivity[], int16: OpSensitivity[]): string[] {
  const at16 = new Map(int16.map((r) => [r.opIndex, r.lossDb]));
  // Ops that only move data follow the width of the op they share a scale with (quantize/group-widths.ts).
  const moves = (op: string) => !!ruleFor(BuiltinOperator[op as keyof typeof BuiltinOperator])?.sameScale;
  return int8
    .filter((r) => r.output && at16.has(r.opIndex) && !moves(r.op))
    .map((r) => ({ output: r.output, gain: r.lossDb - at16.get(r.opIndex)! }))
    .filter((r) => r.gain >= MIN_16X8_GAIN_DB)
    .sort((a, b) => b.gain - a.gain)
    .map((r) => r.output);
}

/** Nearest-rank 10th percentile of the timed runs. */
const lowTail = (times: number[]) => [...times].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.1 * times.length) - 1)];

const formatValue = (metric: QualityMetric, value: number) => (RATE_METRICS.has(metric) ? `${(100 * value).toFixed(2)}%` : value.toFixed(2));

/**
 * The base recipe with these ops (by output tensor name) kept in float, and these given int4 weights
 * ('*': all that can); float16: the float ops store float16 weights; act16: the whole model in 16x8;
 * int16Ops: these ops at 16x8 inside the int8 model.
 */
/** The recipe that builds a candidate from the search's starting recipe (what "add it to the experiments" runs). */
export function candidateRecipe(recipe: Recipe, candidate: Candidate): Recipe {
  return recipeWith(recipe, candidate.floatOps, candidate.int4Ops, variantOf(candidate));
}

export function recipeWith(recipe: Recipe, floatOps: string[], int4Ops: string[] = [], variant: Variant = {}): Recipe {
  const names = (ops: string[]) => `^(${ops.map(escapeRegex).join('|')})$`;
  let result = recipe;
  if (variant.act16) result = { ...result, technique: 'int16x8' };
  if (variant.float16) result = { ...result, floatWeights: 'float16' };
  if (variant.int16Ops?.length) result = { ...result, activationBitsByScope: [...(result.activationBitsByScope ?? []), { tensorNamePattern: names(variant.int16Ops), bits: 16 }] };
  if (variant.perTensorOps?.length) result = { ...result, granularityByScope: [...(result.granularityByScope ?? []), { tensorNamePattern: names(variant.perTensorOps), granularity: 'per-tensor' }] };
  if (floatOps.length) result = { ...result, keepFloat: [...result.keepFloat, { tensorNamePattern: names(floatOps) }] };
  // '*': every op that can, the smallest too (their int4 loss ranks them; the int4 stage then weighs it against the bytes they save).
  if (int4Ops[0] === '*') result = { ...result, weightBits: 4, smallInt4Layers: 'int4' };
  else if (int4Ops.length) result = { ...result, weightBitsByScope: [...result.weightBitsByScope, { tensorNamePattern: names(int4Ops), bits: 4 }] };
  return result;
}

/** The elements of an op's weight tensor (its second input), 0 when it has none. */
export function weightCount(floatGraph: ModelGraph, opIndex: number): number {
  const subgraph = floatGraph.subgraphs[0];
  const w = subgraph.operators[opIndex]?.inputs[1];
  return w === undefined || w < 0 ? 0 : subgraph.tensors[w].shape.reduce((n, d) => n * d, 1);
}

/**
 * Below this an op's measured int4 loss is taken as this: the all-int4 comparison cannot resolve it
 * (an op whose output is no noisier than its input reads 0.00 dB, yet MobileNetV2's #3 alone moved 7
 * of 300 predictions), so such ops go by the bytes they save, largest first, not by op index.
 */
export const INT4_LOSS_FLOOR_DB = 0.01;

/**
 * The order int4 weights are tried in: the fewest dB lost (in the all-int4 comparison) per weight
 * byte saved first, so a large layer that tolerates 4 bits comes before a small one that barely
 * matters for the size (MobileNetV1's 1001-way classifier holds 55% of its weights).
 */
export function int4Order(floatGraph: ModelGraph, ranking: OpSensitivity[]): string[] {
  return ranking
    .filter((r) => r.output)
    .map((r) => ({ output: r.output, cost: Math.max(INT4_LOSS_FLOOR_DB, r.lossDb) / Math.max(1, weightCount(floatGraph, r.opIndex)), opIndex: r.opIndex }))
    .sort((a, b) => a.cost - b.cost || a.opIndex - b.opIndex)
    .map((r) => r.output);
}

/**
 * Whether a candidate runs on the target: no blocking issue the search could have avoided (a dynamic
 * input or several subgraphs belong to the model, not to the candidate), within the MCU limits.
 */
export function fitsTarget(bytes: Uint8Array, target: Target, limits: SearchRequest['limits'] = {}): Pick<Candidate, 'fits' | 'misfit' | 'arenaBytes'> {
  if (target === 'cpu' || target === 'web' || target === 'gpu') return { fits: true };
  const check = targetCheck(readModel(bytes), target, bytes.length);
  const blocking = check.issues.filter((i) => isBlocking(i) && i.kind !== 'dynamic-shape' && i.kind !== 'subgraphs');
  const arenaBytes = check.mcu?.arenaBytes;
  let misfit = blocking.length ? `${blocking.length} issue(s), first: ${blocking[0].message}` : undefined;
  if (!misfit && limits.arenaBytes !== undefined && arenaBytes !== undefined && arenaBytes > limits.arenaBytes) misfit = `tensor arena ${arenaBytes} bytes > the ${limits.arenaBytes} allowed`;
  if (!misfit && limits.flashBytes !== undefined && bytes.length > limits.flashBytes) misfit = `${bytes.length} bytes of flash > the ${limits.flashBytes} allowed`;
  return { fits: !misfit, ...(misfit ? { misfit } : {}), ...(arenaBytes !== undefined ? { arenaBytes } : {}) };
}
