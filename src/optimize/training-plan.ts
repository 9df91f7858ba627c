/**
 * The training plan, the way quantize/plan.ts plans integer quantization: graph + data + options ->
 * plain, JSON-serializable data saying which weights train and how (free, pruned zeros masked,
 * clusters tied; QAT fake-quant axis), which activations QAT fake-quantizes, the loss and why, the
 * epochs, the batch that fits memory, the learning rate and the train / validation split. It runs no
 * tensors, so it is testable alone; finetune.ts carries it out. What cannot train is refused here,
 * with a WorkbenchError saying why; weights left as they are go in `skipped`.
 */
import { WorkbenchError } from '../errors';
import { seededRandom } from '../seeded-random';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { builtinCodeOf } from '../tflite/ops';
import { isConstant, producers } from '../tflite/queries';
import { BuiltinOperator as Op, TensorType } from '../tflite/schema/generated/tflite_generated';
import { elementCount } from '../tflite/shape';
import { quantizationState } from '../tflite/summary';
import { dropUnused, foldConstantDequantize } from './quantize/fold-dequantize';
import { ruleFor, sameScaleInputs } from './quantize/rules';
import { Groups } from './quantize/scale-groups';
import { weightSites } from './quantize/weight-sites';
import type { PlannedFakeQuant, PlannedLoss, PlannedWeight, SkippedWeight, TrainingPlan } from './training-plan-types';
import { shuffle } from './training-shuffle';
import type { FinetuneOptions, TrainingData, TrainingLoss } from './training-types';

export type * from './training-plan-types';

const DEFAULTS = { epochs: 3, batchSize: 16, learningRate: 1e-4, validationFraction: 0.15, momentum: 0.99, memoryBudget: 1 << 30, calibrationSamples: 64 };

/** Inputs of ops that hold weights (channel axis) and biases the training updates. */
const BIAS_INPUT: Partial<Record<Op, number>> = { [Op.CONV_2D]: 2, [Op.DEPTHWISE_CONV_2D]: 2, [Op.FULLY_CONNECTED]: 2, [Op.TRANSPOSE_CONV]: 3 };
/** Weight axis QAT fake-quantizes per channel (matches integer.ts: conv per channel, FC per tensor). */
const QAT_AXIS: Partial<Record<Op, number>> = { [Op.CONV_2D]: 0, [Op.DEPTHWISE_CONV_2D]: 3, [Op.TRANSPOSE_CONV]: 0 };

/** The graph that trains: a copy of the float model, float16 weights folded to float32. The plan's tensor indices refer to it. */
export function trainingGraph(source: ModelGraph): ModelGraph {
  const graph = cloneGraph(source);
  if (quantizationState(source) === 'float16') {
    foldConstantDequantize(graph);
    dropUnused(graph);
  }
  return graph;
}

export function planTraining(source: ModelGraph, data: TrainingData, options: FinetuneOptions): TrainingPlan {
  const state = quantizationState(source);
  if (state !== 'float32' && state !== 'float16') {
    throw new WorkbenchError('bad-input', `Training needs float weights and this model is ${state}; start from the float model (or dequantize it first).`);
  }
  if (data.size < 2) throw new WorkbenchError('bad-input', `Training needs at least 2 samples; the data has ${data.size}.`);
  // Planning only reads the graph, so a float32 model is planned as it is.
  const graph = state === 'float16' ? trainingGraph(source) : source;
  const epochs = options.epochs ?? DEFAULTS.epochs;
  const learningRate = options.learningRate ?? DEFAULTS.learningRate;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new WorkbenchError('bad-input', `epochs must be a positive integer, got ${epochs}`);
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new WorkbenchError('bad-input', `the learning rate must be a positive number, got ${learningRate}`);
  const lossKind = chooseLoss(data, options.loss);

  const blockers = gradientBlockers(graph);
  if (blockers.length) throw new WorkbenchError('unsupported', `The engine cannot train this model: ${blockers.join('; ')}.`);
  const { weights, skipped } = planWeights(graph, options);
  if (weights.length === 0) throw new WorkbenchError('bad-input', 'The model has no float weights to train.');
  const notes = skipped.map((s) => `"${s.name}" ${s.reason}`);

  const wanted = options.batchSize ?? DEFAULTS.batchSize;
  const budgetBytes = options.memoryBudgetBytes ?? DEFAULTS.memoryBudget;
  const batchSize = fitBatch(graph, wanted, budgetBytes, notes);
  const split = splitSamples(data.size, options.validationFraction ?? DEFAULTS.validationFraction, options.seed ?? 0);
  const form = lossForm(graph, lossKind.kind);
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new WorkbenchError('bad-input', `the temperature must be a positive number, got ${temperature}`);
  const tempered = lossKind.kind === 'distillation' && form.head.logits !== null;
  if (temperature !== 1 && !tempered) notes.push(`temperature ${temperature} ignored: it applies to distillation from a softmax classifier's logits, and this loss is ${lossKind.kind === 'distillation' ? 'a squared error on the output' : 'cross-entropy on labels'}`);
  return {
    mode: options.mode,
    foldsFloat16: state === 'float16',
    weights,
    skipped,
    loss: { ...lossKind, ...form, temperature: tempered ? temperature : 1 },
    activations: options.mode === 'qat' ? qatActivations(graph, split.train.length) : null,
    epochs,
    batch: { wanted, size: batchSize, budgetBytes },
    stepsPerEpoch: Math.ceil(split.train.length / batchSize),
    optimizer: { name: 'adam', learningRate },
    split,
    seed: options.seed ?? 0,
    notes,
  };
}

/** Cross-entropy needs a label on every sample; without them the student is distilled from the float teacher. */
function chooseLoss(data: TrainingData, asked: TrainingLoss | undefined): Pick<PlannedLoss, 'kind' | 'reason'> {
  const missing = data.labels.filter((l) => l === null).length + Math.max(0, data.size - data.labels.length);
  const labeled = data.labels.length === data.size && data.labels.every((l) => l !== null);
  if (asked === 'cross-entropy' && !labeled) {
    throw new WorkbenchError('bad-input', `Cross-entropy needs a label for every training sample, and ${missing} of ${data.size} have none; give labels, or train by distillation from the float model (no labels needed).`);
  }
  if (asked) return { kind: asked, reason: `asked for (${labeled ? 'every' : `${missing} of ${data.size}`} sample(s) ${labeled ? 'labeled' : 'without a label'})` };
  if (labeled) return { kind: 'cross-entropy', reason: `every one of the ${data.size} samples has a label` };
  return { kind: 'distillation', reason: `${missing} of ${data.size} samples have no label, so the student learns the float teacher's outputs instead` };
}

/** The output the loss reads and, for softmax classifiers, the logits feeding the softmax. */
function lossForm(graph: ModelGraph, kind: TrainingLoss): Pick<PlannedLoss, 'form' | 'head'> {
  const subgraph = graph.subgraphs[0];
  const producer = producers(subgraph);
  const op = producer[subgraph.outputs[0]] >= 0 ? subgraph.operators[producer[subgraph.outputs[0]]] : null;
  if (op && builtinCodeOf(graph.operatorCodes[op.opcodeIndex]) === Op.SOFTMAX) {
    return { form: 'softmax-cross-entropy', head: { output: 0, logits: op.inputs[0], beta: (op.builtinOptions as { beta?: number } | null)?.beta ?? 1 } };
  }
  return { form: kind === 'cross-entropy' ? 'cross-entropy' : 'mean-squared-error', head: { output: 0, logits: null, beta: 1 } };
}

/** The float constant weights (input 1) and biases of the main subgraph's weighted ops, each once. */
function planWeights(graph: ModelGraph, options: FinetuneOptions): { weights: PlannedWeight[]; skipped: SkippedWeight[] } {
  const subgraph = graph.subgraphs[0];
  const clustered = new Set(options.clustered?.tensors ?? []);
  const seen = new Set<number>();
  const bufferUse = new Map<number, number>();
  for (const t of subgraph.tensors) bufferUse.set(t.buffer, (bufferUse.get(t.buffer) ?? 0) + 1);
  const weights: PlannedWeight[] = [];
  const skipped: SkippedWeight[] = [];
  const add = (tensorIndex: number, axis: number | null, role: 'weight' | 'bias', op: Op) => {
    if (seen.has(tensorIndex)) return;
    seen.add(tensorIndex);
    const tensor = subgraph.tensors[tensorIndex];
    if (tensor.type !== TensorType.FLOAT32 || !isConstant(graph, tensor)) return;
    if ((bufferUse.get(tensor.buffer) ?? 0) > 1) {
      skipped.push({ tensorIndex, name: tensor.name, reason: 'shares its stored values with another tensor; it is left as it is' });
      return;
    }
    const bytes = graph.buffers[tensor.buffer].data;
    const values = new Float32Array(bytes.slice().buffer, 0, elementCount(tensor.shape));
    let zeros = 0;
    for (const v of values) if (v === 0) zeros++;
    const learned = role === 'weight' && options.mode === 'qat' ? learnedStep(options, tensor.name, tensor.shape, axis) : null;
    // Zeros of a rounded (PTQ) starting point are rounding results, not pruned weights: they train.
    const keepZeros = role === 'weight' && (options.keepZeros ?? (zeros > 0 && !learned));
    const clusters = role === 'weight' && clustered.has(tensorIndex) ? { perChannel: !!options.clustered?.perChannel } : undefined;
    // engine/trainable.ts: tied clusters first, else a mask when there are zeros to keep.
    const constraint = clusters ? 'clusters' : keepZeros && zeros > 0 ? 'mask' : 'free';
    const fakeQuantAxis = options.weightGranularity === 'per-tensor' ? null : axis;
    weights.push({
      tensorIndex,
      name: tensor.name,
      shape: tensor.shape.slice(),
      role,
      op: Op[op],
      axis,
      constraint,
      keepZeros,
      zeros,
      ...(clusters ? { clusters } : {}),
      ...(options.mode === 'qat' && role === 'weight'
        ? { fakeQuant: learned ?? { granularity: fakeQuantAxis === null ? 'per-tensor' : 'per-channel', axis: fakeQuantAxis, bits: 8 } }
        : {}),
    });
  };
  for (const site of weightSites(graph)) {
    if (site.subgraph !== 0 || site.input !== 1) continue;
    const op = subgraph.operators[site.op];
    add(site.tensor, QAT_AXIS[site.builtin] ?? null, 'weight', site.builtin);
    const biasInput = BIAS_INPUT[site.builtin];
    const bias = biasInput === undefined ? -1 : (op.inputs[biasInput] ?? -1);
    if (bias >= 0) add(bias, null, 'bias', site.builtin);
  }
  return { weights, skipped };
}

/**
 * The learned-step fake quantization of a weight the caller gave steps for (options.learnedSteps, by
 * tensor name): per channel along the output axis (0, or the last for a depthwise [1, kh, kw, C])
 * when there is one step per channel, else per tensor. A step count that fits neither is an error.
 */
function learnedStep(options: FinetuneOptions, name: string, shape: number[], axis: number | null): PlannedFakeQuant | null {
  const given = options.learnedSteps?.get(name);
  if (!given) return null;
  const n = given.scales.length;
  const channelAxis = axis ?? 0;
  if (n !== 1 && shape[channelAxis] !== n) {
    throw new WorkbenchError('bad-input', `learned steps for "${name}": ${n} step(s) for a weight of shape [${shape.join(', ')}] (channel axis ${channelAxis})`);
  }
  if (!given.scales.every((v) => v > 0 && Number.isFinite(v))) throw new WorkbenchError('bad-input', `learned steps for "${name}" must be positive numbers`);
  return { granularity: n === 1 ? 'per-tensor' : 'per-channel', axis: n === 1 ? null : channelAxis, bits: given.bits, learned: true };
}

function qatActivations(graph: ModelGraph, trainCount: number): NonNullable<TrainingPlan['activations']> {
  const tensors = activationTensors(graph);
  return { tensors, sharedScale: sharedScaleGroups(graph, tensors), calibrationSamples: Math.min(trainCount, DEFAULTS.calibrationSamples), momentum: DEFAULTS.momentum };
}

/** Float activations QAT fake-quantizes: model inputs and every float op output. */
function activationTensors(graph: ModelGraph): number[] {
  const subgraph = graph.subgraphs[0];
  const result = new Set<number>();
  for (const t of subgraph.inputs) if (subgraph.tensors[t].type === TensorType.FLOAT32) result.add(t);
  for (const op of subgraph.operators) for (const t of op.outputs) if (subgraph.tensors[t]?.type === TensorType.FLOAT32) result.add(t);
  return [...result];
}

/**
 * Groups of the QAT activations an int8 model keeps on one scale: an op that only moves data
 * (rules.ts sameScaleInputs) ties its float inputs to its output, as the writer's scale groups do.
 */
function sharedScaleGroups(graph: ModelGraph, tensors: number[]): number[][] {
  const subgraph = graph.subgraphs[0];
  const groups = new Groups(subgraph.tensors.length);
  for (const op of subgraph.operators) {
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    if (!ruleFor(builtin)) continue;
    for (const i of sameScaleInputs(builtin, op.inputs.length)) {
      const t = op.inputs[i];
      if (t !== undefined && t >= 0 && subgraph.tensors[t]?.type === TensorType.FLOAT32 && !isConstant(graph, subgraph.tensors[t])) groups.union(t, op.outputs[0]);
    }
  }
  const byRoot = new Map<number, number[]>();
  for (const t of tensors) byRoot.set(groups.find(t), [...(byRoot.get(groups.find(t)) ?? []), t]);
  return [...byRoot.values()].filter((g) => g.length > 1);
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

/** A seeded held-out share (none below 20 samples), so a rerun with the same seed picks the same epoch. */
function splitSamples(size: number, fraction: number, seed: number): { train: number[]; validation: number[] } {
  const all = shuffle(
    Array.from({ length: size }, (_, i) => i),
    seededRandom(seed + 7919),
  );
  const held = size >= 20 ? Math.max(1, Math.round(size * fraction)) : 0;
  return { validation: all.slice(0, held).sort((a, b) => a - b), train: all.slice(held) };
}
