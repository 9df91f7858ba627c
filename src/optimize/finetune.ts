/**
 * Training straight from a .tflite: fine-tuning after pruning / clustering, and quantization-aware
 * training (QAT), on the engine (src/engine).
 *
 * The graph's float weights and biases become variables (engine/trainable.ts keeps pruned zeros at
 * zero and clustered weights tied to their centroids). The loss is cross-entropy on labels, or, when
 * the data has no labels (or `loss: 'distillation'`), cross-entropy against the float teacher's
 * output distribution (distillation), so QAT and fine-tuning work without labels. Models whose output
 * is not a class distribution are distilled with mean squared error.
 *
 * QAT fake-quantizes, in the forward pass, every weight as the int8 path will store it (symmetric
 * per channel for convolutions, per tensor for the rest) and every float activation to an int8 range
 * that starts from a calibration pass and then tracks the batches (moving average, momentum 0.99),
 * with straight-through gradients. The result is a float graph with trained weights: the int8 path
 * (pipeline.ts) then quantizes it as it would any float model.
 *
 * A share of the data is held out for validation; after every epoch the best weights so far (by
 * validation accuracy, else loss) are kept, and they are what is returned, also when training stops
 * early (cancel, NaN loss).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import { GraphExecutor } from '../engine/executor';
import { fakeQuantizeSte, fakeQuantizeWeightsSte, type FakeQuantParams } from '../engine/fake-quant';
import { trainableWeight, type TrainableWeight } from '../engine/trainable';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { builtinCodeOf } from '../tflite/ops';
import { isConstant, producers } from '../tflite/queries';
import { BuiltinOperator as Op, TensorType } from '../tflite/schema/generated/tflite_generated';
import { elementCount } from '../tflite/shape';
import { quantizationState } from '../tflite/summary';
import { seededRandom } from '../seeded-random';
import { activationParams } from './quantize/params';
import { dropUnused, foldConstantDequantize } from './quantize/fold-dequantize';
import { weightSites } from './quantize/weight-sites';

export interface TrainingData {
  size: number;
  /** Class index per sample, or null when unlabeled. */
  labels: readonly (number | null)[];
  /** Sample i: one real-valued Float32Array per model input. */
  sample(i: number): Promise<Float32Array[]>;
}

export type TrainingLoss = 'cross-entropy' | 'distillation';

export interface TrainingProgress {
  phase: 'calibrate' | 'train' | 'validate';
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  /** Loss and accuracy (vs labels, or agreement with the teacher) of the last batch. */
  loss: number;
  accuracy: number | null;
  /** After each epoch (and before the first, epoch 0): on the held-out split. */
  validation?: { loss: number; accuracy: number | null };
}

export interface FinetuneOptions {
  mode: 'finetune' | 'qat';
  /** The float model the candidate came from, for distillation; default: the graph itself. */
  teacher?: ModelGraph;
  /** Default: cross-entropy when every training sample has a label, else distillation. */
  loss?: TrainingLoss;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Share of the data held out to pick the best epoch (default 0.15; none below 20 samples). */
  validationFraction?: number;
  /** Keep zero weights at zero (the model was pruned). Default: true when any weight is zero. */
  keepZeros?: boolean;
  /** Weight tensors (by tensor index) that were clustered, tied to their centroids. */
  clustered?: { tensors: number[]; perChannel: boolean };
  /** QAT: weights fake-quantized per channel (convolutions, as the int8 path does by default) or per tensor. */
  weightGranularity?: 'per-channel' | 'per-tensor';
  /** Memory allowed for activations and their gradients; the batch shrinks to fit (default 1 GiB). */
  memoryBudgetBytes?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TrainingProgress) => void;
}

export interface EpochSummary {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number | null;
  validationLoss: number | null;
  validationAccuracy: number | null;
}

export interface FinetuneResult {
  /** Float graph holding the best weights. */
  graph: ModelGraph;
  loss: TrainingLoss;
  batchSize: number;
  history: EpochSummary[];
  /** Epoch whose weights were kept (0 = the weights before training). */
  bestEpoch: number;
  /** Set when training ended before its last epoch. */
  stopped?: { reason: 'cancelled' | 'nan'; message: string };
  /** QAT: the activation ranges reached, by tensor index. */
  activationRanges?: Map<number, { min: number; max: number }>;
  notes: string[];
  elapsedMs: number;
}

const DEFAULTS = { epochs: 3, batchSize: 16, learningRate: 1e-4, validationFraction: 0.15, momentum: 0.99, memoryBudget: 1 << 30 };

/** Inputs of ops that hold weights (channel axis) and biases the training updates. */
const BIAS_INPUT: Partial<Record<Op, number>> = { [Op.CONV_2D]: 2, [Op.DEPTHWISE_CONV_2D]: 2, [Op.FULLY_CONNECTED]: 2, [Op.TRANSPOSE_CONV]: 3 };
/** Weight axis QAT fake-quantizes per channel (matches integer.ts: conv per channel, FC per tensor). */
const QAT_AXIS: Partial<Record<Op, number>> = { [Op.CONV_2D]: 0, [Op.DEPTHWISE_CONV_2D]: 3, [Op.TRANSPOSE_CONV]: 0 };

export async function finetune(source: ModelGraph, data: TrainingData, options: FinetuneOptions): Promise<FinetuneResult> {
  const started = performance.now();
  const state = quantizationState(source);
  if (state !== 'float32' && state !== 'float16') {
    throw new WorkbenchError('bad-input', `Training needs float weights and this model is ${state}; start from the float model (or dequantize it first).`);
  }
  if (data.size < 2) throw new WorkbenchError('bad-input', `Training needs at least 2 samples; the data has ${data.size}.`);
  const graph = cloneGraph(source);
  if (state === 'float16') {
    foldConstantDequantize(graph);
    dropUnused(graph);
  }
  const notes: string[] = [];
  const epochs = options.epochs ?? DEFAULTS.epochs;
  const learningRate = options.learningRate ?? DEFAULTS.learningRate;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new WorkbenchError('bad-input', `epochs must be a positive integer, got ${epochs}`);
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new WorkbenchError('bad-input', `the learning rate must be a positive number, got ${learningRate}`);

  const labeled = data.labels.length === data.size && data.labels.every((l) => l !== null);
  const loss: TrainingLoss = options.loss ?? (labeled ? 'cross-entropy' : 'distillation');
  if (loss === 'cross-entropy' && !labeled) {
    const missing = data.labels.filter((l) => l === null).length + Math.max(0, data.size - data.labels.length);
    throw new WorkbenchError('bad-input', `Cross-entropy needs a label for every training sample, and ${missing} of ${data.size} have none; give labels, or train by distillation from the float model (no labels needed).`);
  }

  const blockers = gradientBlockers(graph);
  if (blockers.length) throw new WorkbenchError('unsupported', `The engine cannot train this model: ${blockers.join('; ')}.`);
  const executor = new GraphExecutor(graph, { simulateQuantization: false });
  const teacherExecutor = loss === 'distillation' ? new GraphExecutor(options.teacher ?? source, { simulateQuantization: false }) : null;
  const subgraph = graph.subgraphs[0];
  const head = classifierHead(graph);
  const weights = trainableWeights(graph, options, notes);
  if (weights.length === 0) throw new WorkbenchError('bad-input', 'The model has no float weights to train.');
  const qatAxis = (w: TrainableWeight) => (options.weightGranularity === 'per-tensor' ? null : w.axis);
  const weightMap = () => new Map(weights.map((w) => [w.tensorIndex, options.mode === 'qat' && w.role === 'weight' ? fakeQuantizeWeightsSte(w.value(), qatAxis(w)) : w.value()]));
  const variables = weights.map((w) => w.variable);

  const batchSize = fitBatch(graph, options.batchSize ?? DEFAULTS.batchSize, options.memoryBudgetBytes ?? DEFAULTS.memoryBudget, notes);
  const { train, validation } = split(data.size, options.validationFraction ?? DEFAULTS.validationFraction, options.seed ?? 0);
  const stepsPerEpoch = Math.ceil(train.length / batchSize);
  const inputShapes = subgraph.inputs.map((t) => subgraph.tensors[t].shape.slice(1));
  const report = (p: Omit<TrainingProgress, 'epochs' | 'stepsPerEpoch'>) => options.onProgress?.({ ...p, epochs, stepsPerEpoch });

  // Tensors on the loss path besides the outputs: the logits of a softmax classifier.
  const lossTaps = head.logits === null ? [] : [head.logits];
  let ranges: Map<number, { min: number; max: number }> | undefined;
  let qatTensors: number[] = [];
  if (options.mode === 'qat') {
    qatTensors = activationTensors(graph);
    ranges = await initialRanges(executor, data, train, batchSize, inputShapes, qatTensors, weightMap, options.signal);
    report({ phase: 'calibrate', epoch: 0, step: 0, loss: NaN, accuracy: null });
  }
  const transform = ranges
    ? (t: number, v: tf.Tensor) => {
        const r = ranges!.get(t);
        if (!r || v.dtype !== 'float32') return v;
        const p = activationParams(r.min, r.max, 8);
        const fq: FakeQuantParams = { scale: p.scale, zeroPoint: p.zeroPoint, axis: 0, qmin: -128, qmax: 127 };
        return fakeQuantizeSte(v, fq);
      }
    : undefined;

  const forward = (inputs: tf.Tensor[], taps: number[]) => executor.run(inputs, { weights: weightMap(), transform, taps: [...lossTaps, ...taps] });

  const teacherCache = new Map<number, Float32Array>();
  const teacherOutputs = async (indices: number[], inputs: tf.Tensor[]): Promise<tf.Tensor> => {
    const missing = indices.filter((i) => !teacherCache.has(i));
    if (missing.length) {
      const out = tf.tidy(() => {
        // A softmax classifier's output already is the distribution the student's logits are fit to.
        const r = teacherExecutor!.run(inputs, { freeIntermediates: true });
        return tf.reshape(r.outputs[head.output], [indices.length, -1]);
      });
      const values = (await out.data()) as Float32Array;
      const width = values.length / indices.length;
      indices.forEach((i, row) => teacherCache.set(i, values.slice(row * width, (row + 1) * width)));
      out.dispose();
    }
    const width = teacherCache.get(indices[0])!.length;
    const all = new Float32Array(indices.length * width);
    indices.forEach((i, row) => all.set(teacherCache.get(i)!, row * width));
    return tf.tensor2d(all, [indices.length, width]);
  };

  /** Loss and batch accuracy for a batch (called inside the optimizer's tape, or for validation). */
  const lossOf = (result: { outputs: tf.Tensor[]; taps: Map<number, tf.Tensor> }, target: tf.Tensor, rows: number): { loss: tf.Scalar; predicted: tf.Tensor; reference: tf.Tensor | null } => {
    const output = result.outputs[head.output];
    if (head.logits !== null) {
      const logits = tf.reshape(result.taps.get(head.logits)!, [rows, -1]);
      const scaled = head.beta === 1 ? logits : tf.mul(logits, head.beta);
      const targets = loss === 'cross-entropy' ? tf.oneHot(tf.cast(target, 'int32'), scaled.shape[1]!) : target;
      return { loss: tf.losses.softmaxCrossEntropy(targets, scaled) as tf.Scalar, predicted: tf.argMax(scaled, 1), reference: loss === 'cross-entropy' ? target : tf.argMax(target, 1) };
    }
    const flat = tf.reshape(output, [rows, -1]);
    if (loss === 'cross-entropy') {
      const probs = tf.clipByValue(flat, 1e-7, 1);
      const picked = tf.sum(tf.mul(tf.log(probs), tf.oneHot(tf.cast(target, 'int32'), flat.shape[1]!)), 1);
      return { loss: tf.neg(tf.mean(picked)) as tf.Scalar, predicted: tf.argMax(flat, 1), reference: target };
    }
    return { loss: tf.losses.meanSquaredError(target, flat) as tf.Scalar, predicted: tf.argMax(flat, 1), reference: flat.shape[1]! > 1 ? tf.argMax(target, 1) : null };
  };

  const batchOf = async (indices: number[]) => {
    const inputs = await loadBatch(data, indices, inputShapes);
    const target = loss === 'cross-entropy' ? tf.tensor1d(indices.map((i) => data.labels[i]!), 'float32') : await teacherOutputs(indices, inputs);
    return { inputs, target };
  };

  const evaluate = async (): Promise<{ loss: number; accuracy: number | null } | null> => {
    if (!validation.length) return null;
    let total = 0;
    let correct = 0;
    let compared = 0;
    for (let start = 0; start < validation.length; start += batchSize) {
      const indices = validation.slice(start, start + batchSize);
      const { inputs, target } = await batchOf(indices);
      const r = tf.tidy(() => {
        const l = lossOf(forward(inputs, []), target, indices.length);
        return [l.loss, l.reference ? tf.sum(tf.cast(tf.equal(l.predicted, tf.cast(l.reference, 'int32')), 'float32')) : tf.scalar(-1)];
      });
      const [lv, cv] = await Promise.all(r.map((t) => t.data()));
      total += lv[0] * indices.length;
      if (cv[0] >= 0) {
        correct += cv[0];
        compared += indices.length;
      }
      tf.dispose([...r, ...inputs, target]);
    }
    return { loss: total / validation.length, accuracy: compared ? correct / compared : null };
  };

  const optimizer = tf.train.adam(learningRate);
  const history: EpochSummary[] = [];
  let best = { epoch: 0, accuracy: -Infinity, loss: Infinity, values: await snapshot(weights) };
  let stopped: FinetuneResult['stopped'];
  const random = seededRandom(options.seed ?? 0);
  try {
    const before = await evaluate();
    if (before) {
      best = { ...best, accuracy: before.accuracy ?? -Infinity, loss: before.loss };
      history.push({ epoch: 0, trainLoss: NaN, trainAccuracy: null, validationLoss: before.loss, validationAccuracy: before.accuracy });
      report({ phase: 'validate', epoch: 0, step: 0, loss: before.loss, accuracy: before.accuracy, validation: before });
    }
    training: for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = shuffle(train, random);
      let lossSum = 0;
      let correct = 0;
      let compared = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        if (options.signal?.aborted) {
          stopped = { reason: 'cancelled', message: `Training was cancelled at epoch ${epoch}, step ${step + 1}; the best weights so far (epoch ${best.epoch}) are kept.` };
          break training;
        }
        const indices = order.slice(step * batchSize, (step + 1) * batchSize);
        const { inputs, target } = await batchOf(indices);
        let hits: tf.Tensor | null = null;
        let batchMinMax: tf.Tensor | null = null;
        const value = withGradientErrors(() => optimizer.minimize(
          () => {
            const result = forward(inputs, qatTensors);
            const l = lossOf(result, target, indices.length);
            if (l.reference) hits = tf.keep(tf.sum(tf.cast(tf.equal(l.predicted, tf.cast(l.reference, 'int32')), 'float32')));
            if (ranges) batchMinMax = tf.keep(tf.stack(qatTensors.map((t) => tf.stack([tf.min(result.taps.get(t)!), tf.max(result.taps.get(t)!)]))));
            return l.loss;
          },
          true,
          variables,
        )!);
        const [lossValue] = (await value.data()) as Float32Array;
        const hitValue = hits ? ((await (hits as tf.Tensor).data()) as Float32Array)[0] : null;
        if (batchMinMax) trackRanges(ranges!, qatTensors, (await (batchMinMax as tf.Tensor).data()) as Float32Array, DEFAULTS.momentum);
        tf.dispose([value, ...inputs, target, ...(hits ? [hits] : []), ...(batchMinMax ? [batchMinMax] : [])]);
        if (!Number.isFinite(lossValue)) {
          stopped = {
            reason: 'nan',
            message: `The loss became ${lossValue} at epoch ${epoch}, step ${step + 1} (learning rate ${learningRate} may be too high); training stopped and the best weights so far (epoch ${best.epoch}) are kept.`,
          };
          break training;
        }
        lossSum += lossValue * indices.length;
        if (hitValue !== null) {
          correct += hitValue;
          compared += indices.length;
        }
        report({ phase: 'train', epoch, step: step + 1, loss: lossValue, accuracy: hitValue === null ? null : hitValue / indices.length });
        await new Promise((resolve) => setTimeout(resolve, 0)); // let a cancel (worker message) arrive
      }
      const val = await evaluate();
      history.push({ epoch, trainLoss: lossSum / train.length, trainAccuracy: compared ? correct / compared : null, validationLoss: val?.loss ?? null, validationAccuracy: val?.accuracy ?? null });
      report({ phase: 'validate', epoch, step: stepsPerEpoch, loss: lossSum / train.length, accuracy: compared ? correct / compared : null, validation: val ?? undefined });
      const better = !val || (val.accuracy ?? -Infinity) > best.accuracy || ((val.accuracy ?? -Infinity) === best.accuracy && val.loss < best.loss);
      if (better) best = { epoch, accuracy: val?.accuracy ?? -Infinity, loss: val?.loss ?? Infinity, values: await snapshot(weights) };
    }
    const trained = writeWeights(graph, weights, best.values);
    if (stopped) notes.push(stopped.message);
    notes.push(
      `${options.mode === 'qat' ? 'quantization-aware training' : 'fine-tuning'} by ${loss}${loss === 'distillation' ? ' from the float model' : ''}: ${history.length - (history[0]?.epoch === 0 ? 1 : 0)} epoch(s) of ${stepsPerEpoch} step(s), batch ${batchSize}, Adam lr ${learningRate}, ${train.length} training / ${validation.length} validation samples; kept epoch ${best.epoch}`,
    );
    return { graph: trained, loss, batchSize, history, bestEpoch: best.epoch, stopped, activationRanges: ranges, notes, elapsedMs: performance.now() - started };
  } finally {
    optimizer.dispose();
    weights.forEach((w) => w.dispose());
    executor.dispose();
    teacherExecutor?.dispose();
  }
}

/** Ops whose gradient the engine cannot compute, as "op N (NAME): why". */
export function gradientBlockers(graph: ModelGraph): string[] {
  const result: string[] = [];
  graph.subgraphs[0]?.operators.forEach((op, i) => {
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const o = op.builtinOptions as { dilationHFactor?: number; dilationWFactor?: number } | null;
    if ((builtin === Op.CONV_2D || builtin === Op.DEPTHWISE_CONV_2D) && ((o?.dilationHFactor ?? 1) > 1 || (o?.dilationWFactor ?? 1) > 1)) {
      result.push(`op ${i} (${Op[builtin]}) is dilated (${o?.dilationHFactor}x${o?.dilationWFactor}) and dilated convolutions have no gradient in the engine`);
    }
    if (builtin === Op.TRANSPOSE_CONV) result.push(`op ${i} (TRANSPOSE_CONV) has no weight gradient on tfjs' WASM backend`);
  });
  return result;
}

/** tfjs' "gradient function not found for X" as a WorkbenchError that says what to do. */
function withGradientErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const missing = /gradient function not found for (\w+)/.exec(message) ?? /Kernel '(\w+)' not registered/.exec(message);
    if (missing) throw new WorkbenchError('unsupported', `The engine cannot train this model: tfjs has no gradient kernel "${missing[1]}" on this backend (${message}).`);
    throw e;
  }
}

/** The output the loss reads and, for softmax classifiers, the logits feeding the softmax. */
function classifierHead(graph: ModelGraph): { output: number; logits: number | null; beta: number } {
  const subgraph = graph.subgraphs[0];
  const producer = producers(subgraph);
  const outputTensor = subgraph.outputs[0];
  const op = producer[outputTensor] >= 0 ? subgraph.operators[producer[outputTensor]] : null;
  if (op && builtinCodeOf(graph.operatorCodes[op.opcodeIndex]) === Op.SOFTMAX) {
    return { output: 0, logits: op.inputs[0], beta: (op.builtinOptions as { beta?: number } | null)?.beta ?? 1 };
  }
  return { output: 0, logits: null, beta: 1 };
}

function trainableWeights(graph: ModelGraph, options: FinetuneOptions, notes: string[]): TrainableWeight[] {
  const subgraph = graph.subgraphs[0];
  const clustered = new Set(options.clustered?.tensors ?? []);
  const seen = new Set<number>();
  const bufferUse = new Map<number, number>();
  for (const t of subgraph.tensors) bufferUse.set(t.buffer, (bufferUse.get(t.buffer) ?? 0) + 1);
  const keepZerosDefault = options.keepZeros;
  const result: TrainableWeight[] = [];
  const add = (tensorIndex: number, axis: number | null, role: 'weight' | 'bias') => {
    if (seen.has(tensorIndex)) return;
    seen.add(tensorIndex);
    const tensor = subgraph.tensors[tensorIndex];
    if (tensor.type !== TensorType.FLOAT32 || !isConstant(graph, tensor)) return;
    if ((bufferUse.get(tensor.buffer) ?? 0) > 1) {
      notes.push(`"${tensor.name}" shares its stored values with another tensor; it is left as it is`);
      return;
    }
    const bytes = graph.buffers[tensor.buffer].data;
    const values = new Float32Array(bytes.slice().buffer, 0, elementCount(tensor.shape));
    const keepZeros = role === 'weight' && (keepZerosDefault ?? values.some((v) => v === 0));
    const w = trainableWeight({
      tensorIndex,
      name: tensor.name,
      shape: tensor.shape,
      values,
      axis,
      role,
      keepZeros,
      clusters: role === 'weight' && clustered.has(tensorIndex) ? { perChannel: !!options.clustered?.perChannel } : undefined,
    });
    result.push(w);
  };
  for (const site of weightSites(graph)) {
    if (site.subgraph !== 0 || site.input !== 1) continue;
    const op = subgraph.operators[site.op];
    add(site.tensor, QAT_AXIS[site.builtin] ?? null, 'weight');
    const biasInput = BIAS_INPUT[site.builtin];
    const bias = biasInput === undefined ? -1 : (op.inputs[biasInput] ?? -1);
    if (bias >= 0) add(bias, null, 'bias');
  }
  return result;
}

/** Float activations QAT fake-quantizes: model inputs and every float op output. */
function activationTensors(graph: ModelGraph): number[] {
  const subgraph = graph.subgraphs[0];
  const result = new Set<number>();
  for (const t of subgraph.inputs) if (subgraph.tensors[t].type === TensorType.FLOAT32) result.add(t);
  for (const op of subgraph.operators) for (const t of op.outputs) if (subgraph.tensors[t]?.type === TensorType.FLOAT32) result.add(t);
  return [...result];
}

/** Min/max of the QAT activations over (up to) the first 64 training samples, with the weights as they start. */
async function initialRanges(
  executor: GraphExecutor,
  data: TrainingData,
  train: number[],
  batchSize: number,
  inputShapes: number[][],
  tensors: number[],
  weightMap: () => Map<number, tf.Tensor>,
  signal?: AbortSignal,
): Promise<Map<number, { min: number; max: number }>> {
  const ranges = new Map<number, { min: number; max: number }>();
  const count = Math.min(train.length, 64);
  for (let start = 0; start < count; start += batchSize) {
    if (signal?.aborted) throw new WorkbenchError('cancelled', 'Training was cancelled while measuring activation ranges.');
    const indices = train.slice(start, Math.min(start + batchSize, count));
    const inputs = await loadBatch(data, indices, inputShapes);
    const stacked = tf.tidy(() => {
      const r = executor.run(inputs, { weights: weightMap(), taps: tensors });
      return tf.stack(tensors.map((t) => tf.stack([tf.min(r.taps.get(t)!), tf.max(r.taps.get(t)!)])));
    });
    const v = (await stacked.data()) as Float32Array;
    tf.dispose([stacked, ...inputs]);
    tensors.forEach((t, i) => {
      const r = ranges.get(t);
      ranges.set(t, { min: Math.min(r?.min ?? Infinity, v[2 * i]), max: Math.max(r?.max ?? -Infinity, v[2 * i + 1]) });
    });
  }
  return ranges;
}

function trackRanges(ranges: Map<number, { min: number; max: number }>, tensors: number[], minMax: Float32Array, momentum: number): void {
  tensors.forEach((t, i) => {
    const r = ranges.get(t)!;
    const lo = minMax[2 * i];
    const hi = minMax[2 * i + 1];
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
    ranges.set(t, { min: momentum * r.min + (1 - momentum) * lo, max: momentum * r.max + (1 - momentum) * hi });
  });
}

/**
 * The largest batch up to `wanted` whose activations (forward values, their gradients and the
 * tape's copies: ~4 floats per activation value) fit the budget.
 */
export function fitBatch(graph: ModelGraph, wanted: number, budgetBytes: number, notes: string[] = []): number {
  if (!(Number.isInteger(wanted) && wanted >= 1)) throw new WorkbenchError('bad-input', `the batch size must be a positive integer, got ${wanted}`);
  const subgraph = graph.subgraphs[0];
  let perSample = 0;
  for (const op of subgraph.operators) for (const t of op.outputs) perSample += elementCount(subgraph.tensors[t]?.shape ?? []) / Math.max(1, subgraph.tensors[t]?.shape[0] ?? 1);
  const bytesPerSample = perSample * 4 * 4;
  const fits = Math.max(1, Math.floor(budgetBytes / Math.max(1, bytesPerSample)));
  if (fits < wanted) notes.push(`batch ${wanted} would need ~${((bytesPerSample * wanted) / 2 ** 20).toFixed(0)} MiB for activations; using batch ${fits} to stay within ${(budgetBytes / 2 ** 20).toFixed(0)} MiB`);
  return Math.min(wanted, fits);
}

function split(size: number, fraction: number, seed: number): { train: number[]; validation: number[] } {
  const all = shuffle(
    Array.from({ length: size }, (_, i) => i),
    seededRandom(seed + 7919),
  );
  const held = size >= 20 ? Math.max(1, Math.round(size * fraction)) : 0;
  return { validation: all.slice(0, held).sort((a, b) => a - b), train: all.slice(held) };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

async function loadBatch(data: TrainingData, indices: number[], shapes: number[][]): Promise<tf.Tensor[]> {
  const samples = await Promise.all(indices.map((i) => data.sample(i)));
  return shapes.map((shape, input) => {
    const size = elementCount(shape);
    const buffer = new Float32Array(indices.length * size);
    samples.forEach((s, row) => {
      if (s[input]?.length !== size) throw new WorkbenchError('bad-input', `training sample ${indices[row]} input ${input} has ${s[input]?.length} values; the model takes ${size} (${shape.join('x')})`);
      buffer.set(s[input], row * size);
    });
    return tf.tensor(buffer, [indices.length, ...shape]);
  });
}

async function snapshot(weights: TrainableWeight[]): Promise<Float32Array[]> {
  return Promise.all(weights.map((w) => w.read().then((v) => v.slice())));
}

function writeWeights(graph: ModelGraph, weights: TrainableWeight[], values: Float32Array[]): ModelGraph {
  const out = cloneGraph(graph);
  const subgraph = out.subgraphs[0];
  weights.forEach((w, i) => {
    const tensor = subgraph.tensors[w.tensorIndex];
    out.buffers[tensor.buffer] = { data: new Uint8Array(values[i].slice().buffer) };
  });
  return out;
}
