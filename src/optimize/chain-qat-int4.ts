/**
 * The qat step of a chain whose quantization has int4 weights (qat+int8 with --weights int4, W4A8):
 * quantization-aware training that starts from the best post-training model, not from the float one.
 *   1. PTQ: the recipe as given, with the defaults of plain W4A8 (CLE, GPTQ rounding, int4 scales
 *      searched by output error, bias correction).
 *   2. That model dequantized is the start: its int4 scales train with the weights as learned steps
 *      (LSQ, engine/lsq.ts), and so do the int8 activations' steps (finetune.ts learnedSteps).
 *   3. The kept epoch (lowest validation loss when distilling) is written as W4A8 with the learned steps
 *      as int4 scales and activation ranges: nearest rounding, no CLE, no bias correction, since the
 *      trained model computes with exactly those integers.
 * When no epoch beat the start on the held-out split (kept epoch 0) the PTQ model is the result, and a
 * note says so. npm run bench:qat-int4 measures the same steps on the ImageNet classifiers.
 */
import { WorkbenchError } from '../errors';
import { eachSample, type Sample, type Samples } from '../runtime/samples';
import type { ModelGraph } from '../tflite/graph';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { writeModel } from '../tflite/write';
import { finetune, type FinetuneOptions, type FinetuneResult, type TrainingData } from './finetune';
import { optimizeModel, type OptimizeResult, type Stage } from './pipeline';
import { dequantizeModel } from './quantize/dequantize-model';
import { QAT_INT4_LEARNING_RATE, QAT_INT4_TEMPERATURE } from './qat-defaults';
import { asksInt4, type Recipe } from './recipe';

/** Why a chain cannot train int4 weights this way, or null (parseChain and the page's editor show it). */
export function qatInt4Problem(recipe: Recipe | undefined, prunedOrClustered: boolean): string | null {
  if (!recipe || !asksInt4(recipe)) return null;
  if (prunedOrClustered) {
    return 'QAT with int4 weights starts from the W4A8 post-training model, whose rounding (GPTQ) and int4 scales would move pruned zeros and cluster centroids; use qat+int8 --weights int4 on the float model, or prune / cluster with int8 weights';
  }
  return null;
}

export interface QatInt4Request {
  /** The float graph to quantize. */
  graph: ModelGraph;
  /** The float model that teaches (distillation). */
  teacher: ModelGraph;
  /** An int8 recipe with int4 weights for some ops. */
  recipe: Recipe;
  calibration?: Samples;
  calibrationCount?: number;
  data: TrainingData;
  options?: Omit<FinetuneOptions, 'mode' | 'signal' | 'teacher' | 'clustered' | 'learnedSteps'>;
  /** Stops training only (the best weights so far go on). */
  trainingSignal?: AbortSignal;
  signal?: AbortSignal;
  onProgress?: (stage: Stage | 'train', done: number, total?: number) => void;
  skipCheck?: boolean;
  allowFloatFallback?: boolean;
  activationSummaries?: boolean;
}

export interface QatInt4Result {
  bytes: Uint8Array;
  /** The quantization that made `bytes`: the written QAT model's, or the PTQ model's when it was kept. */
  quantized: OptimizeResult;
  trained: Omit<FinetuneResult, 'graph'>;
  /** Which model is the result: the trained one, or the PTQ start (no epoch beat it on validation). */
  kept: 'qat' | 'ptq';
  /** Weight tensors the PTQ model stored as int4, whose steps trained. */
  int4Tensors: number;
  notes: string[];
}

/** The int4 weight tensors' scales in a quantized model, by tensor name: the steps LSQ starts from. */
export function int4ScalesOf(graph: ModelGraph): Map<string, { bits: 4; scales: number[] }> {
  const steps = new Map<string, { bits: 4; scales: number[] }>();
  for (const t of graph.subgraphs[0].tensors) {
    if (t.type === TensorType.INT4 && t.quantization?.scale?.length) steps.set(t.name, { bits: 4, scales: t.quantization.scale.slice() });
  }
  return steps;
}

/**
 * Output tensors (names) of the ops whose weights the steps hold: where int4 rounding errors enter,
 * the inner tensors feature distillation fits (training-features.ts).
 */
export function outputsOfSteppedOps(graph: ModelGraph, steps: ReadonlyMap<string, unknown>): string[] {
  const { tensors, operators } = graph.subgraphs[0];
  const names: string[] = [];
  for (const op of operators) {
    if (op.inputs.some((t) => t >= 0 && steps.has(tensors[t].name)) && op.outputs.length === 1) names.push(tensors[op.outputs[0]].name);
  }
  return names;
}

/** The samples as they are iterated, also pushed into `into` (a one-shot stream feeds PTQ, then the writer). */
async function* recording(samples: Samples, into: Sample[]): AsyncGenerator<Sample> {
  for await (const sample of eachSample(samples)) {
    into.push(sample);
    yield sample;
  }
}

export async function qatInt4(request: QatInt4Request): Promise<QatInt4Result> {
  const { recipe, onProgress, signal } = request;
  const recorded: Sample[] = [];
  const given = request.calibration;
  const common = { onProgress, signal, skipCheck: request.skipCheck, allowFloatFallback: request.allowFloatFallback, activationSummaries: request.activationSummaries };
  const ptq = await optimizeModel({
    ...common,
    model: writeModel(request.graph),
    recipe,
    calibration: given === undefined || Array.isArray(given) ? given : recording(given, recorded),
    calibrationCount: request.calibrationCount,
  });
  const calibration = Array.isArray(given) ? (given as readonly Sample[]) : recorded;
  const ptqGraph = readModel(ptq.bytes);
  const learnedSteps = int4ScalesOf(ptqGraph);
  if (!learnedSteps.size) {
    throw new WorkbenchError('unsupported', 'QAT with int4 weights: the post-training model stores no weight as int4 (LiteRT has no int4 kernel for these ops, or the recipe keeps them int8), so there is no int4 step to learn; use qat+int8 with int8 weights.');
  }
  onProgress?.('train', 0, 1);
  const trainedFull = await finetune(dequantizeModel(ptqGraph).graph, request.data, {
    ...request.options,
    learningRate: request.options?.learningRate ?? QAT_INT4_LEARNING_RATE,
    temperature: request.options?.temperature ?? QAT_INT4_TEMPERATURE,
    mode: 'qat',
    teacher: request.teacher,
    signal: request.trainingSignal,
    learnedSteps,
    // The start's weights are rounded: many int4 integers are 0, and they must stay free to move.
    keepZeros: false,
  });
  onProgress?.('train', 1, 1);
  const { graph: trainedGraph, ...trained } = trainedFull;
  const notes = [...trained.notes];
  const start = trained.history.find((h) => h.epoch === 0)?.validationLoss;
  const kept = trained.history.find((h) => h.epoch === trained.bestEpoch)?.validationLoss;
  if (trained.bestEpoch === 0) {
    notes.push(
      `QAT (LSQ int4) did not beat the W4A8 PTQ model on the held-out split${start === undefined || start === null ? '' : ` (validation loss ${start.toFixed(4)} before training, no epoch lower)`}: the PTQ model is kept`,
      ...ptq.notes,
    );
    return { bytes: ptq.bytes, quantized: ptq, trained, kept: 'ptq', int4Tensors: learnedSteps.size, notes };
  }
  if (signal?.aborted) throw new WorkbenchError('cancelled', 'Cancelled after training.');
  const written = await optimizeModel({
    ...common,
    model: writeModel(trainedGraph),
    recipe: { ...recipe, equalize: 'off', rounding: 'nearest' },
    calibration,
    calibrationCount: calibration.length,
    biasCorrection: false,
    int4Scales: new Map([...(trained.learnedSteps ?? [])].map(([name, s]) => [name, s.scales])),
    activationRanges: trained.learnedActivationRanges,
  });
  notes.unshift(...ptq.notes.map((n) => `PTQ start: ${n}`));
  notes.push(
    `QAT (LSQ int4) from the W4A8 PTQ model: ${learnedSteps.size} int4 weight tensor(s) with learned steps; ` +
      (start === undefined || start === null || kept === null || kept === undefined
        ? `no validation split, the last epoch (${trained.bestEpoch}) is written`
        : `validation loss ${start.toFixed(4)} before training -> ${kept.toFixed(4)} at the kept epoch ${trained.bestEpoch}`),
    ...written.notes,
  );
  return { bytes: written.bytes, quantized: written, trained, kept: 'qat', int4Tensors: learnedSteps.size, notes };
}
