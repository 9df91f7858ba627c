/**
 * One optimization run: bytes + recipe (+ calibration samples) -> optimized bytes + what happened.
 * Used alike by the CLI and the optimizer worker. The written model is loaded and run once in
 * LiteRT before it is handed back, so a model we cannot run never reaches the user silently.
 */
import { WorkbenchError } from '../errors';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { eachSample, sampleCount, type Sample, type Samples } from '../runtime/samples';
import type { ModelGraph, Operator } from '../tflite/graph';
import { readModel } from '../tflite/read';
import { quantizationState } from '../tflite/summary';
import { writeModel } from '../tflite/write';
import { summarizeActivations, type ActivationSummary } from './calibrate/activation-summary';
import { calibrate, rangesFrom } from './calibrate/calibrate';
import { outputErrorRanges } from './calibrate/output-ranges';
import { clipOutputTails, MIN_STEPS_PER_IQR } from './calibrate/output-tail';
import { dequantizeModel } from './quantize/dequantize-model';
import { quantizeDynamicRange } from './quantize/dynamic';
import { quantizeFloat16, storeFloatConstantsAsFloat16 } from './quantize/float16';
import { applyInteger, planInteger, type FloatOp, type IntegerOptions } from './quantize/integer';
import type { QuantizationPlan } from './quantize/plan';
import { rangeKey, type RangeMap } from './quantize/ranges';
import type { WeightParamsHook } from './quantize/params';
import { quantizeWeightOnly, type WeightQuantOptions } from './quantize/weight-only';
import { BuiltinOperator, TensorType } from '../tflite/schema/generated/tflite_generated';
import { isConstant } from '../tflite/queries';
import { elementCount } from '../tflite/shape';
import { absorptionApplies, asksInt4, equalizeApplies, granularityOfOp, keepsFloat, needsCalibration, opPrecisionOf, recipeLabel, SMALL_INT4_SHARE, smallInt4Ops, weightBitsOfOp, type Recipe } from './recipe';
import { equalizeForQuantization, type EqualizeStrategy } from './equalize-for-quantization';
import { channelScalesOf } from './equalize';
import { channelShiftsOf } from './absorb';
import { fallbackVerdict, FloatFallbackError, summarizeFloatOps, type FallbackVerdict } from './fallback';
import { openLayerInputs, type LayerInputCollector } from './rounding/layer-inputs';
import { layerSites } from './rounding/layer-sites';
import { calibrationMemory, checkCalibrationMemory } from './memory-budget';
import { MAX_WIDTH, roundPlannedWeights } from './rounding/round-plan';
import { OUTPUT_BIAS_SAMPLES, quantizeWithOutputBias } from './quantize/output-bias';
import { roundFromQuantizedInputs, type Int4Inputs } from './rounding/quantized-rounding';

export type Stage = 'read' | 'equalize' | 'calibrate' | 'round' | 'quantize' | 'write' | 'check';

export interface OptimizeRequest {
  model: Uint8Array;
  recipe: Recipe;
  /** Representative float samples (one Float32Array per model input each); int8/int16x8 need them. */
  calibration?: Samples;
  calibrationCount?: number;
  onProgress?: (stage: Stage, done: number, total?: number) => void;
  signal?: AbortSignal;
  /** Skip the LiteRT load-and-run check of the result (tests that check it themselves). */
  skipCheck?: boolean;
  /** Optional weight parameters for int8 weights (chains pass cluster-preserving ones); default symmetricWeightParams. */
  weightParams?: WeightParamsHook;
  /**
   * int4 weight scales by weight tensor name (QAT's learned steps, FinetuneResult.learnedSteps):
   * they replace max|w| / 7 for those tensors. Rounding is then nearest (the weights were trained
   * for these steps), as with weightParams.
   */
  int4Scales?: Map<string, number[]>;
  /** int8 activation ranges by tensor name (QAT's learned steps, FinetuneResult.learnedActivationRanges) in place of calibration's. */
  activationRanges?: Map<string, { min: number; max: number }>;
  /** Weights before pruning/clustering, by tensor name, for bias correction (see IntegerOptions). */
  referenceWeights?: Map<string, Float32Array>;
  /**
   * Empirical bias correction of int8 weights (default true). Off after QAT: the trained model
   * already computes with the rounded weights, so "correcting" towards the latent float weights
   * would undo part of what training did.
   */
  biasCorrection?: boolean;
  /**
   * Output bias correction of a full-integer model with int4 weights (quantize/output-bias.ts):
   * measure-and-correct passes (default OUTPUT_BIAS_PASSES; 0: off), which ops (default 'int4' where
   * the model can be walked from layer to layer, else the last int4 layer; see OutputBiasOptions.ops
   * and .unwalkable), and the walk's cache limit (default WALK_CACHE_BYTES).
   * Off without bias correction unless `passes` is given.
   */
  outputBias?: { passes?: number; ops?: 'last' | 'int4' | 'all'; walkCacheBytes?: number };
  /**
   * Which inputs int4 layers are rounded for (GPTQ / AdaRound and the int4 scale search): the float
   * model's, or the quantized model's (a second rounding after one quantized pass; see
   * INT4_INPUTS), with the float weights as they are ('quantized') or refitted to the float
   * outputs ('asymmetric', rounding/asymmetric-target.ts). Default INT4_INPUTS.
   */
  int4Inputs?: Int4Inputs;
  /** 'asymmetric': how many int4 layers are refitted, the last ones (default ASYMMETRIC_LAYERS). */
  int4RefitLayers?: number;
  /**
   * Hand back a result that left ops in float the recipe did not exclude, changed nothing, or grew
   * (see fallback.ts); without it such a result throws a FloatFallbackError.
   */
  allowFloatFallback?: boolean;
  /**
   * Keep a summary of each calibrated activation (histogram, range applied, clipped share) in the
   * result, for the page's op details. Percentile / MSE recipes have the histograms of every sample;
   * minmax / moving-average ones bin the first SUMMARY_SAMPLES samples in a second pass.
   */
  activationSummaries?: boolean;
  /** How CLE treats RELU6 (benches and tests); default from the recipe (equalizeStrategyOf). */
  equalizeStrategy?: EqualizeStrategy;
  /**
   * Called with a step's name as each internal step starts (finer than the stages: opening the
   * layer-input sampler, the calibration pass, the summary pass...), and with `detail` where a step
   * measured where its time went, for a bench's per-step profile.
   */
  trace?: (step: string, detail?: string) => void;
  /**
   * Bytes LiteRT's heap may take while calibrating (default LITERT_HEAP_MAX, its 2 GiB limit): a
   * model estimated over it is refused with a 'too-large' error before anything loads (memory-budget.ts).
   */
  memoryBudget?: number;
  /** High-bias absorption after CLE (benches and tests); default from the recipe (absorptionApplies). */
  biasAbsorption?: boolean;
}

export interface OptimizeResult {
  bytes: Uint8Array;
  recipe: Recipe;
  label: string;
  /** Ops left in float, with the reason (empty for techniques that keep all compute float). */
  floatOps: FloatOp[];
  /** Things the user should know, one line each. */
  notes: string[];
  timings: Partial<Record<Stage, number>>;
  /** Whether the result is a failure (float fallback, nothing done, larger than the input), and why. */
  verdict: FallbackVerdict;
  /** int8 / int16x8: how every op runs and every integer tensor's parameters (plain JSON, for the report). */
  plan?: QuantizationPlan;
  /** int8 / int16x8 with `activationSummaries`: what calibration saw of each activation. */
  activations?: ActivationSummary[];
  /**
   * int8 / int16x8 after cross-layer equalization: the float tensors whose values the result holds
   * divided per channel (last axis) by these factors, by name (equalize.ts channelScalesOf). Pass
   * them to compareModels (CompareOptions.channelScales) for a per-layer comparison with the float model.
   */
  channelScales?: Record<string, number[]>;
  /**
   * After high-bias absorption: the float tensors whose values the result holds lowered per channel
   * (before the channelScales division) by these amounts, by name (absorb.ts channelShiftsOf); for
   * compareModels (CompareOptions.channelShifts).
   */
  channelShifts?: Record<string, number[]>;
}

const QUANTIZED_STATES = new Set(['int8', 'uint8', '16x8', 'mixed', 'dynamic-range']);

/** Refuses a model that is already quantized: re-quantizing integer weights only adds error. */
export function checkStartingPoint(graph: ModelGraph): void {
  const state = quantizationState(graph);
  if (QUANTIZED_STATES.has(state)) {
    throw new WorkbenchError(
      'unsupported',
      `The model is already quantized (${state}). Start from the float model, or dequantize this one first (recipe "dequantize") and quantize the result.`,
    );
  }
  if (state === 'no-weights') {
    throw new WorkbenchError('unsupported', 'The model has no float weights to quantize (no constant float tensors).');
  }
}

export async function optimizeModel(request: OptimizeRequest): Promise<OptimizeResult> {
  const { recipe, onProgress, signal } = request;
  const timings: OptimizeResult['timings'] = {};
  const timed = async <T>(stage: Stage, work: () => T | Promise<T>): Promise<T> => {
    if (signal?.aborted) throw new WorkbenchError('cancelled', `Cancelled before ${stage}.`);
    const started = performance.now();
    onProgress?.(stage, 0, 1);
    const value = await work();
    timings[stage] = performance.now() - started;
    onProgress?.(stage, 1, 1);
    return value;
  };
  const trace = request.trace ?? (() => {});
  trace('read');
  let graph = await timed('read', () => readModel(request.model));
  checkStartingPoint(graph);
  const notes: string[] = [];
  let floatOps: FloatOp[] = [];
  let nothingDone = false;
  let plan: QuantizationPlan | undefined;
  let activations: ActivationSummary[] | undefined;
  let channelScales: Record<string, number[]> | undefined;
  let channelShifts: Record<string, number[]> | undefined;
  const skip = (s: number, o: number) => keepsFloat(recipe, graph, s, graph.subgraphs[s].operators[o]);

  let result: ModelGraph;
  if (needsCalibration(recipe)) {
    if (!request.calibration) {
      throw new WorkbenchError('bad-input', `${recipe.technique} quantization needs representative data for calibration (a folder of images, .npy arrays...).`);
    }
    const bits = recipe.technique === 'int8' ? 8 : 16;
    let calibration = request.calibration;
    if (equalizeApplies(recipe) && request.int4Scales) {
      notes.push('not equalized: the given int4 scales (trained steps) belong to the weights as they are');
    } else if (equalizeApplies(recipe)) {
      // Before calibration, so the ranges are measured on the model that will be quantized.
      const strategy = request.equalizeStrategy ?? equalizeStrategyOf(recipe);
      // 'on' falls back to what 'auto' does for the granularity when RELU in place of RELU6 is refused.
      const otherwise = recipe.granularity === 'per-tensor' ? 'measured' : 'exact';
      trace('equalize');
      const equalized = await timed('equalize', () =>
        equalizeForQuantization(graph, calibration!, {
          strategy,
          otherwise,
          absorb: request.biasAbsorption ?? absorptionApplies(recipe),
          signal,
          onProgress: (done, total) => onProgress?.('equalize', done, total),
        }),
      );
      graph = equalized.graph;
      calibration = equalized.samples;
      if (equalized.pairs.length) channelScales = channelScalesOf(equalized);
      if (equalized.absorption?.pairs.length) channelShifts = channelShiftsOf(equalized.graph, equalized.absorption.pairs);
      notes.push(...equalized.notes);
    }
    // Rounding optimization reads each layer's inputs from the same samples, as calibration pulls
    // them (the samples may be a one-shot stream). Not over pruned / clustered weights (it would
    // move zeros and centroids) nor after QAT (trained for nearest rounding): the chain asks for
    // nearest there, and a caller's weight parameters or reference weights mean the same.
    const total = request.calibrationCount ?? sampleCount(calibration);
    const rounding = request.weightParams || request.int4Scales || request.referenceWeights || request.biasCorrection === false ? 'nearest' : recipe.rounding;
    // output-mse ranges read the same sampled layer inputs (calibrate/output-ranges.ts).
    let algorithm = recipe.calibration.algorithm;
    let collector: LayerInputCollector | null = null;
    const samplesLayerInputs = rounding !== 'nearest' || algorithm === 'output-mse';
    checkCalibrationMemory(calibrationMemory(graph, samplesLayerInputs ? layerSites(graph).map((site) => site.input) : []), request.memoryBudget);
    if (samplesLayerInputs) {
      trace('open layer-input sampler');
      try {
        // The running Gram matrices serve int4 layers only (layer-inputs.ts GRAM_ROWS says why).
        collector = await openLayerInputs(graph, { total, gramRows: asksInt4(recipe) ? undefined : 0 });
      } catch (error) {
        const why = `LiteRT could not run the model with taps on the layers' inputs (${error instanceof Error ? error.message : String(error)})`;
        if (rounding !== 'nearest') notes.push(`weights rounded to nearest: ${rounding} needs the layers' inputs, and ${why}`);
        if (algorithm === 'output-mse') {
          notes.push(`mse ranges instead of output-mse: ${why}`);
          algorithm = 'mse';
        }
      }
    }
    const started = performance.now();
    // Only percentile and mse read the histograms: min/max ranges calibrate without binning (reduced
    // inside LiteRT, 2-3x faster). The page's activation summary then bins the first few samples in
    // a second, short pass (summarySampleCount; npm run bench:activation-summary).
    const rangeHistograms = !['minmax', 'moving-average'].includes(algorithm);
    // Without histograms, the first samples are also binned (a short second pass): the activation
    // summaries and the output tail rule (calibrate/output-tail.ts) read their quartiles.
    const summarySamples: Sample[] | null = !rangeHistograms ? [] : null;
    let fed: Samples = collector ? alsoInto(calibration, collector) : calibration;
    if (summarySamples) fed = keepingFirst(fed, summarySampleCount(graph), summarySamples);
    // Output bias correction (int4 weights) reads the calibration samples again: a stream's are kept.
    const biasSamples: Sample[] = [];
    if (!Array.isArray(calibration) && asksInt4(recipe)) fed = keepingFirst(fed, OUTPUT_BIAS_SAMPLES, biasSamples);
    trace('calibrate');
    const stats = await calibrate(graph, fed, {
      total,
      histograms: rangeHistograms,
      signal,
      onProgress: (done, total) => onProgress?.('calibrate', done, total),
      // The sampler's rows come out of calibration's own runs where it can (one forward pass a sample).
      rider: collector?.rider ?? undefined,
    }).finally(() => collector?.dispose());
    const t = collector?.timing;
    trace('calibrated', `${stats.samples} samples in ${(stats.elapsedMs / 1000).toFixed(1)} s (model loads excluded)` +
      (t ? `; layer-input sampler (rows by ${t.path}${t.gatherFailure ? `, gathering failed: ${t.gatherFailure}` : ''}): ${t.samples} samples, ${t.runMs ? `its own LiteRT runs ${(t.runMs / 1000).toFixed(1)} s, ` : ''}rows put in place in JS ${(t.rowsMs / 1000).toFixed(1)} s` : '') + `; statistics ${stats.statsReason}`);
    // The output tail rule reads only the model outputs' histograms: the short pass taps just those
    // unless the page asked for every activation's summary.
    if (summarySamples?.length) trace('summary pass');
    const binned = summarySamples?.length
      ? await calibrate(graph, summarySamples, { histograms: true, signal, tensors: request.activationSummaries ? undefined : graph.subgraphs[0].outputs })
      : stats;
    let ranges: RangeMap;
    let rangeNote = '';
    if (algorithm === 'output-mse') {
      const searched = outputErrorRanges(graph, stats, collector!.rows(), { bits, perChannel: recipe.granularity === 'per-channel' });
      ranges = searched.ranges;
      rangeNote = `; output-mse searched ${searched.searched} conv / FC input range(s) in ${(searched.elapsedMs / 1000).toFixed(2)} s (the others: mse, or minmax before a softmax)`;
    } else {
      ranges = rangesFrom(stats, algorithm, { bits, percentile: recipe.calibration.percentile });
    }
    for (const c of clipOutputTails(graph, binned, ranges, bits)) {
      notes.push(
        `output ${c.tensor}: heavy ${c.side} tail clipped, ${c.side === 'low' ? 'min' : 'max'} ${c.from.toFixed(2)} -> ${c.to.toFixed(2)} ` +
          `(quartiles ${c.quartiles.map((q) => q.toFixed(2)).join(', ')} on ${binned.samples} sample(s): the int8 grid over the whole range left the middle half of its values fewer than ${MIN_STEPS_PER_IQR} steps; the other side keeps its extreme)`,
      );
    }
    if (request.activationRanges?.size) {
      // QAT's learned activation steps: the ranges the trained model computed with replace calibration's.
      let given = 0;
      graph.subgraphs[0].tensors.forEach((t, i) => {
        const r = request.activationRanges!.get(t.name);
        if (r && ranges.has(rangeKey(0, i))) {
          ranges.set(rangeKey(0, i), { min: r.min, max: r.max });
          given++;
        }
      });
      notes.push(`${given} activation range(s) from the caller (QAT's learned steps) in place of calibration's`);
    }
    timings.calibrate = performance.now() - started;
    const integerOptions: IntegerOptions = {
      activationBits: bits,
      perChannel: recipe.granularity === 'per-channel',
      ...(recipe.granularityByScope?.length ? { perChannelOf: (s: number, _o: number, op: Operator, g: ModelGraph) => granularityOfOp(recipe, g, s, op) === 'per-channel' } : {}),
      weightParams: request.weightParams,
      int4Scales: request.int4Scales,
      referenceWeights: request.referenceWeights,
      io: recipe.io,
      integerOnly: recipe.integerOnly,
      channelMeans: request.biasCorrection === false ? undefined : stats.channelMeans,
      keepFloat: (s, _o, op, g) => keepsFloat(recipe, g, s, op),
      weightBits: (s, _o, op, g) => weightBitsOfOp(recipe, g, s, op),
      precision: (s, _o, op, g) => opPrecisionOf(recipe, g, s, op),
    };
    trace('plan');
    const planned = planInteger(graph, ranges, integerOptions);
    if (collector && rounding !== 'nearest') {
      if (signal?.aborted) throw new WorkbenchError('cancelled', 'Cancelled before rounding.');
      trace('round');
      const roundStarted = performance.now();
      const rounded = await roundPlannedWeights(planned.graph, planned.plan, collector.rows(), {
        method: rounding,
        centered: request.biasCorrection !== false,
        signal,
        onProgress: (done, total) => onProgress?.('round', done, total),
      });
      timings.round = performance.now() - roundStarted;
      if (rounded.layers) integerOptions.roundedWeights = rounded.weights;
      if (rounded.layers || rounded.skipped) notes.push(
        `weights rounded by ${rounding} in ${rounded.layers} layer(s)${rounded.skipped ? ` (${rounded.skipped} to nearest: no input rows or inputs wider than ${MAX_WIDTH}${rounded.failures.length ? `, or ${rounded.failures.slice(0, 3).join('; ')}` : ''})` : ''} in ${(timings.round / 1000).toFixed(2)} s; ` +
          `each layer's output error on the sampled inputs ${(100 * rounded.errorRatio).toFixed(0)}% of nearest rounding's (mean over layers)`,
      );
    }
    const int4Inputs = request.int4Inputs ?? INT4_INPUTS;
    if (collector && rounding !== 'nearest' && integerOptions.roundedWeights && int4Inputs !== 'float') {
      const againStarted = performance.now();
      const again = await roundFromQuantizedInputs(graph, planned, integerOptions, collector, Array.isArray(calibration) ? calibration : biasSamples, {
        method: rounding,
        target: int4Inputs,
        layers: request.int4RefitLayers,
        centered: request.biasCorrection !== false,
        signal,
        onProgress: (done, total) => onProgress?.('round', done, total),
      });
      const seconds = (performance.now() - againStarted) / 1000;
      timings.round = (timings.round ?? 0) + 1000 * seconds;
      if (again.layers) notes.push(`${again.note} in ${seconds.toFixed(2)} s`);
    }
    // Off by default without bias correction (after QAT), unless passes are asked for: it measures the
    // written model against the float model, so unlike weight bias correction it undoes no training.
    const outputBiasPasses = request.outputBias?.passes ?? (request.biasCorrection === false ? 0 : OUTPUT_BIAS_PASSES);
    const int4Planned = planned.plan.subgraphs.some((sp) => sp.ops.some((op) => op.mode === 'quantized' && op.weights?.bits === 4));
    trace('quantize');
    const quantized = await timed('quantize', async () => {
      // int8-only models when asked for ('all'): measured on ImageNet classifiers as an option (bench:w4a8).
      if (!outputBiasPasses || (!int4Planned && request.outputBias?.ops !== 'all')) return applyInteger(planned, integerOptions);
      const samples = Array.isArray(calibration) ? calibration.slice(0, OUTPUT_BIAS_SAMPLES) : biasSamples;
      let corrected;
      try {
        corrected = await quantizeWithOutputBias(graph, planned, integerOptions, samples, {
          passes: outputBiasPasses,
          ops: request.outputBias?.ops ?? 'int4',
          // The default corrects every int4 layer only where that is one walk of the model.
          unwalkable: request.outputBias?.ops ? 'each' : 'last',
          ...(request.outputBias?.walkCacheBytes !== undefined ? { walkCacheBytes: request.outputBias.walkCacheBytes } : {}),
          signal,
        });
      } catch (error) {
        if (error instanceof WorkbenchError && error.code === 'cancelled') throw error;
        // A model LiteRT cannot run with taps still gets its (uncorrected) result; planned is unchanged.
        notes.push(`no output bias correction: ${error instanceof Error ? error.message : String(error)}`);
        return applyInteger(planned, integerOptions);
      }
      if (!corrected.ops) {
        notes.push(`no output bias correction: no ${request.outputBias?.ops === 'all' ? 'quantized op with weights' : 'op with int4 weights'} has a bias to move`);
        return corrected.result;
      }
      notes.push(
        `output bias correction: ${corrected.ops} op(s) ${request.outputBias?.ops === 'all' ? 'with weights' : `with int4 weights${request.outputBias?.ops === 'last' || corrected.narrowed ? ' (the last)' : ''}`}, mean output error against the float model measured on ${samples.length} calibration sample(s) ` +
          `and taken out of the bias in ${corrected.measured.length} pass(es) (RMS of the per-channel means: ${corrected.measured.map((v) => v.toExponential(2)).join(' -> ')})` +
          (corrected.narrowed ? `; only the last int4 layer, as the model cannot be walked from layer to layer (${corrected.notWalked}) and a pass of the model per layer would take long` : ''),
      );
      return corrected.result;
    });
    quantized.plan.weightRounding = integerOptions.roundedWeights ? rounding : 'nearest';
    result = quantized.graph;
    plan = quantized.plan;
    if (request.activationSummaries && binned.histograms) activations = summarizeActivations(binned.tensors, ranges, plan, stats.samples);
    nothingDone = quantized.quantizedOps === 0;
    if (recipe.floatWeights === 'float16') {
      const stored = storeFloatConstantsAsFloat16(result);
      plan.floatWeights = 'float16';
      notes.push(`${stored} float32 constant(s) of the ops left in float stored as float16 (behind DEQUANTIZE)`);
    }
    floatOps = quantized.floatOps.filter((f) => f.reason !== 'no float tensors');
    notes.push(`calibrated on ${stats.samples} sample(s) with ${algorithm} ranges in ${(stats.elapsedMs / 1000).toFixed(2)} s; statistics ${stats.statsReason}${rangeNote}`);
    if (quantized.correctedBiases) notes.push(`${quantized.correctedBiases} bias(es) corrected for the weights' rounding shift`);
    if (floatOps.length) notes.push(summarizeFloatOps(floatOps));
    notes.push(...weightBitsNotes(quantized.plan), ...smallInt4Notes(recipe, graph));
    notes.push(...activationWidthNotes(quantized.plan));
    if (request.weightParams && quantized.plan.subgraphs.some((sp) => sp.ops.some((op) => op.weights?.bits === 4))) {
      notes.push("int4 weights take their own per-channel scales (max|w| / 7): the caller's weight parameters (e.g. cluster-preserving ones) apply to the int8 weights only");
    }
  } else {
    trace('quantize');
    result = await timed('quantize', () => {
      switch (recipe.technique) {
        case 'float16': {
          const r = quantizeFloat16(graph);
          notes.push(...r.notes, `${r.converted} tensor(s) stored as float16`);
          // Re-storing float16 weights as float16 changes nothing but the op order.
          nothingDone = r.converted === 0 || quantizationState(graph) === 'float16';
          return r.graph;
        }
        case 'weight-int8': {
          const r = quantizeWeightOnly(graph, weightOptions(recipe, skip, request.weightParams));
          notes.push(`${r.quantizedTensors} weight tensor(s) stored as ${bitsLabel(recipe)}`, ...r.skipped);
          nothingDone = r.quantizedTensors === 0;
          return r.graph;
        }
        case 'dynamic': {
          const r = quantizeDynamicRange(graph, weightOptions(recipe, skip, request.weightParams));
          notes.push(`${r.quantizedTensors} weight tensor(s) stored as ${bitsLabel(recipe)} for hybrid kernels`, ...r.skipped);
          nothingDone = r.quantizedTensors === 0;
          return r.graph;
        }
        default:
          throw new Error(`unhandled technique ${recipe.technique}`);
      }
    });
  }
  trace('write');
  const bytes = await timed('write', () => writeModel(result));
  const label = recipeLabel(recipe);
  const verdict = fallbackVerdict({ floatOps, nothingDone, inputBytes: request.model.length, outputBytes: bytes.length });
  if (verdict.failure) {
    if (!request.allowFloatFallback) throw new FloatFallbackError(label, verdict, floatOps);
    notes.push(`kept although it is a failure (float fallback allowed): ${verdict.failure}`);
  }
  if (!request.skipCheck) {
    trace('check');
    await timed('check', () => checkRuns(bytes));
  }
  trace('done');
  return { bytes, recipe, label, floatOps, notes, timings, verdict, plan, activations, ...(channelScales ? { channelScales } : {}), ...(channelShifts ? { channelShifts } : {}) };
}

/**
 * Calibration samples binned for the page's activation summary when the ranges need no histograms
 * (min/max, moving average): the summary's histogram and clipped shares come from these first ones.
 * The values path costs about its activation values per sample (pose_landmark_lite: 32 samples
 * added 24 s to a 22 s calibration, bench:activation-summary), so a model with many takes fewer
 * samples, SUMMARY_VALUES activation values in all, between 4 and SUMMARY_SAMPLES.
 */
export const SUMMARY_SAMPLES = 32;
export const SUMMARY_VALUES = 2e7;

export function summarySampleCount(graph: ModelGraph): number {
  const subgraph = graph.subgraphs[0];
  let perSample = 0;
  for (const t of subgraph?.tensors ?? []) if (t.type === TensorType.FLOAT32 && !isConstant(graph, t)) perSample += elementCount(t.shape);
  return Math.max(4, Math.min(SUMMARY_SAMPLES, Math.floor(SUMMARY_VALUES / Math.max(1, perSample))));
}

/** The samples as they are pulled, the first `count` also copied into `kept` (a stream may reuse its arrays). */
async function* keepingFirst(samples: Samples, count: number, kept: Sample[]) {
  for await (const sample of eachSample(samples)) {
    if (kept.length < count) kept.push(sample.map((t) => t.slice()));
    yield sample;
  }
}

/**
 * 'on' tries RELU in place of RELU6 (else what 'auto' does). 'auto': per-tensor equalizes through RELU6
 * where calibration shows the channels stay well under the clip ('measured'), which took per-tensor
 * int8 top-1 from 30.25% to 61.25% on MobileNetV1 0.25 (float 62.25%) and from 68.00% to 77.25% on
 * MobileNetV2 (float 77.00%); per-channel stays 'exact': 'measured' changed nothing there on V1
 * (18.95 -> 19.01 dB) and cost V2 1.7 dB (npm run bench:pertensor, bench/README.md).
 */
export function equalizeStrategyOf(recipe: Recipe): EqualizeStrategy {
  if (recipe.equalize === 'on') return 'try-relu';
  return recipe.granularity === 'per-tensor' ? 'measured' : 'exact';
}

/** The samples as they are pulled, each also handed to `collector` first (one pass over a stream feeds both). */
async function* alsoInto(samples: Samples, collector: LayerInputCollector) {
  for await (const sample of eachSample(samples)) {
    await collector.add(sample);
    yield sample;
  }
}

/**
 * Inputs int4 layers are rounded for by default (OptimizeRequest.int4Inputs): the float model's. The
 * quantized model's lost on both networks (npm run bench:w4a8, 100 calibration / 400 other images,
 * bench/README.md): 'quantized' took MobileNetV1 0.25 W4A8 from 54.75% / 6.82 dB to 52.25% / 6.42 dB;
 * 'asymmetric' refitting the last layer took MobileNetV2 W4A8 from 75.00% / 10.81 dB to 74.50% /
 * 8.32 dB (and its held-out layer SQNR on V1 fell, 5.62 -> 5.27 dB), refitting all from one pass 9.5% on V1.
 */
export const INT4_INPUTS: Int4Inputs = 'float';

/** Output bias correction's measure-and-correct passes by default (quantize/output-bias.ts). */
export const OUTPUT_BIAS_PASSES = 1;

/** Weight-only / dynamic options from a recipe: bit widths by op type come in by name. */
function weightOptions(recipe: Recipe, skip: WeightQuantOptions['skip'], weightParams: WeightParamsHook | undefined): WeightQuantOptions {
  const opWeightBits = Object.fromEntries(
    Object.entries(recipe.opWeightBits).map(([name, bits]) => [(BuiltinOperator as unknown as Record<string, number>)[name], bits]),
  ) as WeightQuantOptions['opWeightBits'];
  return {
    perChannel: recipe.granularity === 'per-channel',
    minElements: recipe.minWeightElements,
    skip,
    weightParams,
    weightBits: recipe.weightBits,
    opWeightBits,
    blockSize: recipe.blockSize || undefined,
  };
}

/**
 * Weight bits of a full-integer plan, one line each: how many ops got int4 and int8 weights, and the
 * ops that asked for int4 but kept int8 (no LiteRT.js kernel), by reason with their first few ops.
 */
export function weightBitsNotes(plan: QuantizationPlan): string[] {
  const ops = plan.subgraphs.flatMap((sp) => sp.ops.filter((op) => op.mode === 'quantized' && op.weights));
  if (!ops.some((op) => op.weightBits === 4 || op.weightBitsNote)) return [];
  const int4 = ops.filter((op) => op.weightBits === 4).length;
  const lines = [`weights: ${int4} op(s) int4 (packed, per channel), ${ops.length - int4} int8 (the plan lists each op's weight bits)`];
  const byReason = new Map<string, string[]>();
  for (const op of ops) if (op.weightBitsNote) byReason.set(op.weightBitsNote, [...(byReason.get(op.weightBitsNote) ?? []), `#${op.opIndex}`]);
  for (const [reason, list] of byReason) lines.push(`${list.length} op(s): ${reason} (${list.slice(0, 5).join(', ')}${list.length > 5 ? ', ...' : ''})`);
  return lines;
}

/** The ops the small-layer rule kept int8 (recipe.ts SMALL_INT4_SHARE), one line, or none. */
function smallInt4Notes(recipe: Recipe, graph: ModelGraph): string[] {
  const kept = smallInt4Ops(recipe, graph, 0);
  if (!kept.size) return [];
  const indices = graph.subgraphs[0].operators.flatMap((op, o) => (kept.has(op) ? [o] : []));
  const weights = [...kept.values()].reduce((sum, n) => sum + n, 0);
  return [
    `${kept.size} small op(s) kept int8 weights (${weights} weights, at most ${100 * SMALL_INT4_SHARE}% of the int4 ops'; int4 would save ${Math.floor(weights / 2)} bytes and costs small layers the most): ` +
      `${indices.slice(0, 6).map((o) => `#${o}`).join(', ')}${indices.length > 6 ? ', ...' : ''}; smallInt4Layers 'int4' (--small-layers int4) makes them int4`,
  ];
}

/** What runs at another activation width than the model's (16x8 ops inside int8, or int8 inside 16x8), for the notes. */
export function activationWidthNotes(plan: QuantizationPlan): string[] {
  const other = plan.subgraphs.flatMap((sp) => sp.ops.filter((op) => op.mode === 'quantized' && op.activationBits !== plan.activationBits));
  if (!other.length) return [];
  const width = other[0].precision;
  const list = other.map((op) => `#${op.opIndex} ${op.op}`);
  const following = other.filter((op) => op.precisionNote).length;
  return [
    `${other.length} op(s) run ${width} inside the ${plan.activationBits === 8 ? 'int8' : 'int16x8'} model (${list.slice(0, 8).join(', ')}${list.length > 8 ? ', ...' : ''})` +
      `${following ? `, ${following} of them because they only move data and share a scale with such an op` : ''}; QUANTIZE ops convert int8 <-> int16 at their borders`,
  ];
}

function bitsLabel(recipe: Recipe): string {
  if (recipe.weightBits === 8) return 'int8';
  return recipe.blockSize ? `int4 (blockwise ${recipe.blockSize} where a kernel reads it)` : 'int4';
}

/** Dequantize an already-quantized model into a float starting point. */
export function dequantizeBytes(model: Uint8Array): { bytes: Uint8Array; notes: string[] } {
  const { graph, notes } = dequantizeModel(readModel(model));
  return { bytes: writeModel(graph), notes };
}

/** Loads the bytes in LiteRT and runs them once, so a broken result is an error here. */
export async function checkRuns(bytes: Uint8Array): Promise<void> {
  await initRuntime();
  const model = await loadModel(bytes);
  try {
    await model.run(randomInputs(model, 1));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new WorkbenchError('runtime', `The optimized model does not run in LiteRT: ${message}`);
  } finally {
    model.delete();
  }
}
