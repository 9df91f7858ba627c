/**
 * Compare a candidate model (quantized, pruned, ...) with its float reference in LiteRT, on the
 * same samples: task accuracy (with labels), top-1 agreement, output error (SQNR, cosine, max abs
 * error, MSE) and, optionally, the error of every intermediate tensor (per layer).
 *
 * Samples are float, in the reference's input order. A candidate input of type int8 / uint8 / int16
 * gets them quantized with its own scale and zero point (runtime/samples.ts); quantized candidate outputs
 * and tensors are dequantized with theirs before comparing.
 *
 * Matching: inputs and outputs by name (exact, then with a quantizer suffix `_int8`, `_int16`,
 * `_uint8`, `_float` removed from either side), else by position. Per layer: a candidate tensor
 * matches the reference's float tensor of the same name, or of its name without such a suffix; each
 * reference tensor is matched once, preferring the exact name, then the quantized twin, then the
 * `_float` one, except that a candidate written by the same op type as the reference tensor's writer
 * beats one that is not (a SOFTMAX whose output went int8 behind a DEQUANTIZE still pairs with the
 * float SOFTMAX, not the DEQUANTIZE that took its name). A reference model input matched this way (e.g. the candidate's QUANTIZE output
 * `input_int8`) is compared with the sample itself. Tensors whose element counts differ, or with
 * per-channel parameters, are left out. Layers are listed in the candidate's op order.
 *
 * Rescaled tensors: cross-layer equalization divides channel i of the tensor between two layers by
 * s_i and multiplies the next layer's weights by it, so the outputs stay the same but that tensor does
 * not. Given the factors (CompareOptions.channelScales, from the optimizer), the candidate's values are
 * multiplied back before comparing; without them the rescaling reads as error that no precision removes
 * (MNIST's equalized dense layer measured 14 dB in int8, 16x8 and float alike).
 */
import { elementCount } from '../tflite/shape';
import { WorkbenchError } from '../errors';
import type { ModelGraph } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { producers } from '../tflite/queries';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import {
  addError,
  addPrediction,
  newClassificationStats,
  newErrorStats,
  summarizeClassification,
  summarizeErrors,
  topK,
  type ClassificationSummary,
  type ErrorSummary,
} from './metrics';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import type { LoadedModel, RuntimeData, RuntimeTensorInfo } from '../runtime/types';
import { cancelled, eachSample, sampleCount, toFloat, toModelInputs, type RunProgress, type Sample, type Samples } from '../runtime/samples';
import { activationSelector, inputTensorIndices, loadTapped, type TappedRunner } from '../runtime/taps';
import { newPerClassCounter, type PerClassCounter, type PerClassSummary } from './per-class';
import type { RawDetectionSpec } from './box-decoding';
import { rawDetectionTask } from './raw-detection-task';
import { defaultMetric, inferTask, newQualityAccumulator, type QualityAccumulator, type QualityMetric, type QualitySummary, type QualityTruth } from './quality';

export interface CompareOptions extends RunProgress {
  /**
   * With labels and one prediction per sample: keep, per sample, whether the candidate's top-1 (bit 0)
   * and top-5 (bit 1) hold the label (ComparisonResult.hits), for paired tests between candidates.
   */
  keepHits?: boolean;
  /** Class index per sample (in sample order), for top-1 / top-5 accuracy. */
  labels?: ArrayLike<number>;
  /** Which output holds class scores (agreement, accuracy); default 0. */
  classifierOutput?: number;
  /** Also compare every matched intermediate tensor. */
  perLayer?: boolean;
  /** Number of samples, for progress, when `samples` is an iterable without a length. */
  total?: number;
  /** Also measure the task's quality (quality.ts): the metric (default from the task) and the truth (default: the reference). */
  quality?: { metric?: QualityMetric; truth?: QualityTruth; rawDetection?: RawDetectionSpec };
  /**
   * Also count per-class figures and confusions (per-class.ts) when the reference is a classifier:
   * against `labels` when given, else the reference's top-1; names for the classes when known.
   */
  perClass?: { classNames?: ArrayLike<string> | null };
  /**
   * Per layer: reference tensors (by name) that the candidate holds divided per channel (last axis)
   * by these factors, e.g. OptimizeResult.channelScales after cross-layer equalization.
   */
  channelScales?: Readonly<Record<string, ArrayLike<number>>>;
  /**
   * Per layer: reference tensors (by name) that the candidate holds lowered per channel by these
   * amounts before any channelScales division (OptimizeResult.channelShifts, high-bias absorption):
   * the reference is (candidate + shift) * scale.
   */
  channelShifts?: Readonly<Record<string, ArrayLike<number>>>;
}

export interface OutputComparison extends ErrorSummary {
  /** The reference's output name, and the candidate's. */
  name: string;
  candidateName: string;
  shape: number[];
}

export interface LayerComparison extends ErrorSummary {
  /** Candidate op that writes the tensor (its index in the candidate's subgraph 0) and its name. */
  opIndex: number;
  op: string;
  /** The candidate tensor (index, name, element type as stored). */
  tensorIndex: number;
  tensor: string;
  dtype: string;
  /** The reference tensor it is compared with. */
  referenceTensorIndex: number;
  referenceTensor: string;
  /**
   * The reference (float model's) op that writes that tensor, its index in the reference's subgraph
   * 0 and its name; -1 and '' when the reference tensor is a model input. Op numbers shown to a user
   * are these: the variant's indices shift with every QUANTIZE / DEQUANTIZE the optimizer inserts.
   */
  referenceOpIndex: number;
  referenceOp: string;
}

export interface ComparisonResult {
  samples: number;
  outputs: OutputComparison[];
  /** Agreement and accuracy from the classifier output. */
  classification: ClassificationSummary;
  perLayer?: LayerComparison[];
  /** The task's quality measure with its interval, when asked for. */
  quality?: QualitySummary;
  /** Classifiers, when asked for: per-class recall / precision and confusions. */
  perClass?: PerClassSummary;
  /** Sample loop wall time (model loads excluded), ms. */
  elapsedMs: number;
  /** CompareOptions.keepHits: per sample, bit 0 = the candidate's top-1 is the label, bit 1 = its top-5 holds it. */
  hits?: Uint8Array;
}

const SUFFIXES = ['_int8', '_int16', '_uint8', '_float'];

/** The name without one quantizer suffix, or null when it has none. */
function baseName(name: string): string | null {
  for (const suffix of SUFFIXES) if (name.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length);
  return null;
}

/** For each of `candidates`, the index in `references` it matches (by name, then position), or -1. */
function matchByName(references: string[], candidates: string[]): number[] {
  const used = new Set<number>();
  const result = candidates.map(() => -1);
  const passes: ((r: string, c: string) => boolean)[] = [
    (r, c) => r === c,
    (r, c) => baseName(c) === r || baseName(r) === c || (baseName(r) !== null && baseName(r) === baseName(c)),
  ];
  for (const same of passes) {
    candidates.forEach((c, i) => {
      if (result[i] >= 0) return;
      const j = references.findIndex((r, k) => !used.has(k) && same(r, c));
      if (j >= 0) {
        result[i] = j;
        used.add(j);
      }
    });
  }
  candidates.forEach((_, i) => {
    if (result[i] < 0 && i < references.length && !used.has(i)) {
      result[i] = i;
      used.add(i);
    }
  });
  return result;
}


/**
 * Runs both models on every sample and compares them. The reference is usually the float model;
 * `referenceBytes` and `candidateBytes` are .tflite files.
 */
export async function compareModels(
  referenceBytes: Uint8Array,
  candidateBytes: Uint8Array,
  samples: Samples,
  options: CompareOptions = {},
): Promise<ComparisonResult> {
  const { signal, onProgress, labels } = options;
  const total = sampleCount(samples, options.total);
  if (signal?.aborted) throw cancelled('The comparison', 0, total);
  await initRuntime();
  const models = options.perLayer ? await loadTappedPair(referenceBytes, candidateBytes, options.channelScales ?? {}, options.channelShifts ?? {}) : await loadPlainPair(referenceBytes, candidateBytes);
  try {
    const { reference, candidate } = models;
    // Inputs: candidate input i takes reference input inputMap[i] of the sample.
    const inputMap = matchByName(
      reference.inputs.map((i) => i.name),
      candidate.inputs.map((i) => i.name),
    );
    if (candidate.inputs.length !== reference.inputs.length || inputMap.some((j) => j < 0)) {
      throw new WorkbenchError('bad-input', `The models take different inputs (${describe(reference.inputs)} vs ${describe(candidate.inputs)}).`);
    }
    const outputMap = matchByName(
      reference.outputs.map((o) => o.name),
      candidate.outputs.map((o) => o.name),
    );
    const pairs = candidate.outputs
      .map((info, i) => ({ candidate: i, reference: outputMap[i], info }))
      .filter((p) => p.reference >= 0 && elementCount(reference.outputs[p.reference].shape) === elementCount(p.info.shape));
    if (!pairs.length) {
      throw new WorkbenchError('bad-input', `The models have no outputs in common (${describe(reference.outputs)} vs ${describe(candidate.outputs)}).`);
    }
    const classifier = options.classifierOutput ?? 0;
    const classifierPair = pairs.find((p) => p.reference === classifier) ?? pairs[0];
    const outputErrors = pairs.map(() => newErrorStats());
    const classification = newClassificationStats();
    const layers = models.layers;
    const layerErrors = layers?.map(() => newErrorStats()) ?? [];
    const scratch = new Map<number, Float32Array>();
    const referenceGraph = options.quality || options.perClass ? readModel(referenceBytes) : null;
    const quality = options.quality ? qualityAccumulator(referenceGraph!, options.quality) : null;
    const perClass = options.perClass ? perClassCounter(referenceGraph!, labels) : null;
    // The candidate's outputs in the reference's order, for the quality measure.
    const referenceValues: Float32Array[] = [];
    const candidateValues: Float32Array[] = [];
    const hits: number[] | null = options.keepHits && labels ? [] : null;

    const started = performance.now();
    let done = 0;
    const step = async (sample: Sample) => {
      if (signal?.aborted) throw cancelled('The comparison', done, total);
      const referenceInputs = toModelInputs(sample, reference.inputs, done);
      const candidateSample = inputMap.map((j) => sample[j]);
      const candidateInputs = toModelInputs(candidateSample, candidate.inputs, done);
      const r = await models.runReference(referenceInputs);
      const c = await models.runCandidate(candidateInputs);
      pairs.forEach((pair, k) => {
        const ref = toFloat(r.outputs[pair.reference].data, reference.outputs[pair.reference].quantization);
        const cand = toFloat(c.outputs[pair.candidate].data, candidate.outputs[pair.candidate].quantization, scratch.get(k));
        scratch.set(k, cand);
        addError(outputErrors[k], ref, cand);
        referenceValues[pair.reference] = ref;
        candidateValues[pair.reference] = cand;
      });
      quality?.add(referenceValues, candidateValues);
      // Classification: one prediction per row of the classifier output (batch rows).
      const ref = toFloat(r.outputs[classifierPair.reference].data, reference.outputs[classifierPair.reference].quantization);
      const cand = toFloat(c.outputs[classifierPair.candidate].data, candidate.outputs[classifierPair.candidate].quantization);
      const shape = reference.outputs[classifierPair.reference].shape;
      const classes = shape[shape.length - 1] ?? ref.length;
      const rows = Math.max(1, Math.floor(ref.length / classes));
      for (let row = 0; row < rows; row++) {
        const label = rows === 1 && labels ? labels[done] : undefined;
        const hit = addPrediction(classification, ref.subarray(row * classes, (row + 1) * classes), cand.subarray(row * classes, (row + 1) * classes), label);
        if (hits && label !== undefined && label !== null) hits.push(hit);
      }
      if (perClass) {
        const truth = labels ? labels[done] : topK(ref, 1)[0];
        if (truth === undefined) throw new WorkbenchError('bad-input', `No label for sample ${done + 1}: the labels cover ${labels!.length} samples.`);
        perClass.add(truth, topK(cand, 1)[0]);
      }
      if (layers) {
        layers.forEach((layer, k) => {
          const refValues =
            layer.referenceTap >= 0
              ? toFloat(r.values[layer.referenceTap], null)
              : toFloat(referenceInputs[layer.referenceInput], reference.inputs[layer.referenceInput].quantization);
          let candValues = toFloat(c.values[layer.candidateTap], layer.quantization, layer.scratch);
          if (layer.channelShift) candValues = shiftChannels(candValues, layer.channelShift, layer.scratch);
          if (layer.channelScale) candValues = rescaleChannels(candValues, layer.channelScale, layer.scratch);
          layer.scratch = candValues;
          addError(layerErrors[k], refValues, candValues);
        });
      }
      done++;
      onProgress?.(done, total);
      if (signal?.aborted && (total === undefined || done < total)) throw cancelled('The comparison', done, total);
    };
    if (Array.isArray(samples)) for (const sample of samples as readonly Sample[]) await step(sample);
    else for await (const sample of eachSample(samples)) await step(sample);
    if (done === 0) throw new WorkbenchError('bad-input', 'The comparison needs at least one sample; none were given.');

    const result: ComparisonResult = {
      samples: done,
      outputs: pairs.map((pair, k) => ({
        name: reference.outputs[pair.reference].name,
        candidateName: pair.info.name,
        shape: [...pair.info.shape],
        ...summarizeErrors(outputErrors[k]),
      })),
      classification: summarizeClassification(classification),
      elapsedMs: performance.now() - started,
    };
    if (layers) result.perLayer = layers.map((layer, k) => ({ ...layer.info, ...summarizeErrors(layerErrors[k]) }));
    if (quality) result.quality = quality.summary();
    if (perClass) result.perClass = perClass.summary(options.perClass?.classNames);
    if (hits && hits.length === done) result.hits = Uint8Array.from(hits);
    return result;
  } finally {
    models.delete();
  }
}

function qualityAccumulator(graph: ModelGraph, request: NonNullable<CompareOptions['quality']>): QualityAccumulator {
  const task = request.rawDetection ? rawDetectionTask(graph, request.rawDetection) : inferTask(graph);
  const truth = request.truth ?? {};
  return newQualityAccumulator(task, request.metric ?? defaultMetric(task, truth), truth);
}

/** A counter for a classifier (one [1, C] output), else null: per-class figures mean nothing for other tasks. */
function perClassCounter(graph: ModelGraph, labels?: ArrayLike<number>): PerClassCounter | null {
  const task = inferTask(graph);
  return task.kind === 'classification' ? newPerClassCounter(task.classes, labels ? 'labels' : 'reference') : null;
}

function describe(infos: RuntimeTensorInfo[]): string {
  return infos.map((i) => `'${i.name}' ${i.dtype}[${i.shape.join(', ')}]`).join(', ') || 'none';
}

// ---------------------------------------------------------------------------------------------
// Loading the two models

interface RunResult {
  outputs: { data: RuntimeData }[];
  /** Tap values (per-layer mode only). */
  values: RuntimeData[];
}

interface Layer {
  info: Omit<LayerComparison, keyof ErrorSummary>;
  /** Index into the reference's tap values, or -1 when the reference side is a model input. */
  referenceTap: number;
  referenceInput: number;
  candidateTap: number;
  quantization: { scale: number; zeroPoint: number } | null;
  /** Factor per channel (last axis) to multiply the candidate's values by (CompareOptions.channelScales). */
  channelScale: Float32Array | null;
  /** Amount per channel to add to the candidate's values first (CompareOptions.channelShifts). */
  channelShift: Float32Array | null;
  scratch?: Float32Array;
}

/** values[i] + shift[i mod channels], into `out` when it fits (it may be `values` itself). */
function shiftChannels(values: Float32Array, shift: Float32Array, out?: Float32Array): Float32Array {
  const result = out && out.length === values.length ? out : new Float32Array(values.length);
  const channels = shift.length;
  for (let i = 0; i < values.length; i += channels) {
    for (let c = 0; c < channels; c++) result[i + c] = values[i + c] + shift[c];
  }
  return result;
}

/** values[i] * scale[i mod channels], into `out` when it fits (it may be `values` itself). */
function rescaleChannels(values: Float32Array, scale: Float32Array, out?: Float32Array): Float32Array {
  const result = out && out.length === values.length ? out : new Float32Array(values.length);
  const channels = scale.length;
  for (let i = 0; i < values.length; i += channels) {
    for (let c = 0; c < channels; c++) result[i + c] = values[i + c] * scale[c];
  }
  return result;
}

interface ModelPair {
  reference: { inputs: RuntimeTensorInfo[]; outputs: RuntimeTensorInfo[] };
  candidate: { inputs: RuntimeTensorInfo[]; outputs: RuntimeTensorInfo[] };
  layers: Layer[] | null;
  runReference(inputs: RuntimeData[]): Promise<RunResult>;
  runCandidate(inputs: RuntimeData[]): Promise<RunResult>;
  delete(): void;
}

async function loadPlainPair(referenceBytes: Uint8Array, candidateBytes: Uint8Array): Promise<ModelPair> {
  const reference = await loadModel(referenceBytes);
  let candidate: LoadedModel;
  try {
    candidate = await loadModel(candidateBytes);
  } catch (error) {
    reference.delete();
    throw error;
  }
  const wrap = (model: LoadedModel) => async (inputs: RuntimeData[]) => ({ outputs: await model.run(inputs), values: [] });
  return {
    reference,
    candidate,
    layers: null,
    runReference: wrap(reference),
    runCandidate: wrap(candidate),
    delete() {
      reference.delete();
      candidate.delete();
    },
  };
}

type PerChannel = Readonly<Record<string, ArrayLike<number>>>;

async function loadTappedPair(referenceBytes: Uint8Array, candidateBytes: Uint8Array, channelScales: PerChannel, channelShifts: PerChannel): Promise<ModelPair> {
  const referenceGraph = readModel(referenceBytes);
  const candidateGraph = readModel(candidateBytes);
  const referenceSelect = activationSelector(referenceGraph);
  const reference = await loadTapped(referenceGraph, {
    select: (t, tensor, sg, g) => tensor.type === TensorType.FLOAT32 && referenceSelect(t, tensor, sg, g),
  });
  let candidate: TappedRunner;
  try {
    candidate = await loadTapped(candidateGraph);
  } catch (error) {
    reference.delete();
    throw error;
  }
  let layers: Layer[];
  try {
    layers = matchLayers(referenceGraph, reference, candidateGraph, candidate, channelScales, channelShifts);
  } catch (error) {
    reference.delete();
    candidate.delete();
    throw error;
  }
  return {
    reference,
    candidate,
    layers,
    runReference: (inputs) => reference.run(inputs),
    runCandidate: (inputs) => candidate.run(inputs),
    delete() {
      reference.delete();
      candidate.delete();
    },
  };
}

/** Pairs candidate taps with reference taps (or reference inputs) by name; see the file comment. */
function matchLayers(
  referenceGraph: ModelGraph,
  reference: TappedRunner,
  candidateGraph: ModelGraph,
  candidate: TappedRunner,
  channelScales: PerChannel,
  channelShifts: PerChannel,
): Layer[] {
  const refSubgraph = referenceGraph.subgraphs[0];
  const candSubgraph = candidateGraph.subgraphs[0];
  // Reference tensors with values: taps, and model inputs (values = the sample).
  const refByName = new Map<string, { tap: number; input: number; tensor: number }>();
  reference.taps.forEach((tap, k) => {
    if (!refByName.has(tap.name)) refByName.set(tap.name, { tap: k, input: -1, tensor: tap.tensorIndex });
  });
  inputTensorIndices(referenceGraph, reference).forEach((t, i) => {
    const name = refSubgraph.tensors[t]?.name;
    if (name !== undefined && !refByName.has(name) && reference.inputs[i].dtype === 'float32') refByName.set(name, { tap: -1, input: i, tensor: t });
  });

  const refProducer = producers(refSubgraph);
  const candProducer = producers(candSubgraph);
  const opOf = (graph: ModelGraph, subgraph: typeof refSubgraph, producer: Int32Array, tensor: number) =>
    producer[tensor] >= 0 ? opName(graph, subgraph.operators[producer[tensor]]) : '';
  // Candidates for each reference tensor, best first: written by the same op type (0) or not (10),
  // then exact name (+0), quantized twin (+1), _float twin (+2).
  const claims = new Map<string, { rank: number; tap: number }>();
  candidate.taps.forEach((tap, k) => {
    const exact = refByName.has(tap.name) ? tap.name : null;
    const base = baseName(tap.name);
    const target = exact ?? (base !== null && refByName.has(base) ? base : null);
    if (target === null) return;
    const refOp = opOf(referenceGraph, refSubgraph, refProducer, refByName.get(target)!.tensor);
    const sameOp = refOp !== '' && refOp === opOf(candidateGraph, candSubgraph, candProducer, tap.tensorIndex);
    const rank = (sameOp ? 0 : 10) + (exact ? 0 : tap.name.endsWith('_float') ? 2 : 1);
    const existing = claims.get(target);
    if (!existing || rank < existing.rank) claims.set(target, { rank, tap: k });
  });

  const producer = candProducer;
  const layers: Layer[] = [];
  for (const [name, claim] of claims) {
    const ref = refByName.get(name)!;
    const tap = candidate.taps[claim.tap];
    const tensor = candSubgraph.tensors[tap.tensorIndex];
    const refTensor = refSubgraph.tensors[ref.tensor];
    if (elementCount(tensor.shape) !== elementCount(refTensor.shape)) continue;
    const q = tensor.quantization;
    const quantized = tensor.type !== TensorType.FLOAT32;
    if (quantized && (!q?.scale?.length || q.scale.length > 1)) continue;
    const opIndex = producer[tap.tensorIndex];
    const scale = Object.hasOwn(channelScales, name) ? channelScales[name] : undefined;
    const shift = Object.hasOwn(channelShifts, name) ? channelShifts[name] : undefined;
    for (const [what, values] of [['scales', scale], ['shifts', shift]] as const) {
      if (!values) continue;
      const channels = tensor.shape[tensor.shape.length - 1];
      if (channels !== values.length || elementCount(tensor.shape) % values.length !== 0) {
        throw new WorkbenchError('bad-input', `The channel ${what} of '${name}' have ${values.length} value(s); its tensor in the candidate has shape [${tensor.shape.join(', ')}].`);
      }
    }
    layers.push({
      info: {
        opIndex,
        op: opIndex >= 0 ? opName(candidateGraph, candSubgraph.operators[opIndex]) : '',
        tensorIndex: tap.tensorIndex,
        tensor: tensor.name,
        dtype: (TensorType[tensor.type] ?? String(tensor.type)).toLowerCase(),
        referenceTensorIndex: ref.tensor,
        referenceTensor: refTensor.name,
        referenceOpIndex: refProducer[ref.tensor],
        referenceOp: opOf(referenceGraph, refSubgraph, refProducer, ref.tensor),
      },
      referenceTap: ref.tap,
      referenceInput: ref.input,
      candidateTap: claim.tap,
      quantization: quantized ? { scale: q!.scale![0], zeroPoint: q!.zeroPoint?.[0] ?? 0 } : null,
      channelScale: scale ? Float32Array.from(scale) : null,
      channelShift: shift ? Float32Array.from(shift) : null,
    });
  }
  layers.sort((a, b) => a.info.opIndex - b.info.opIndex || a.info.tensorIndex - b.info.tensorIndex);
  return layers;
}
