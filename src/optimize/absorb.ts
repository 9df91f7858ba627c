/**
 * High-bias absorption (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
 * Correction", 2019, section 4.1.2), from measured activations rather than batch-norm statistics.
 *
 * For W1 -> RELU -> W2: if the pre-activation x_i of channel i never falls below c_i > 0, then
 * RELU(x_i - c_i) = RELU(x_i) - c_i, so subtracting c_i from the producer's bias b1_i and adding
 * W2 * c (the consumer's weights summed over every tap that reads channel i, times c_i) to its bias b2
 * computes the same function, with channel i's values c_i lower. Activations are quantized
 * asymmetrically per tensor with a range that always holds 0, so this narrows the range only where a
 * channel sits well above 0 and reaches the tensor's maximum; the pipeline measures whether it helps.
 *
 * The data-free form (c_i = beta - 3 gamma of the batch norm) cannot be exact here: TFLite models carry
 * no batch-norm statistics, and a RELU6 whose clip fires would have to move with the shift. So it is
 * only applied where the calibration data shows it exact, with a margin for images it did not see:
 * - the channel's minimum m_i after the activation is > 0 (the lower clip never fired), and c_i =
 *   m_i / margin: values down to 1 / margin of the least calibration saw still pass exactly. Default
 *   4: at 2 (the margin equalize.ts's 'measured' RELU6 keeps on the other side) MobileNetV2's
 *   absorbed float model was at 59.2 dB against the original on 400 images calibration never saw,
 *   at 4 at 65.0 dB (npm run bench:pertensor -- --models v2 --variants per-channel:exact+absorb
 *   --absorb-margin 4); the shifted channels are too few for the margin to move int8 either way;
 * - after RELU6, the channel's maximum times the clip margin stays <= 6 (the upper clip never came
 *   close; where it fires, the shifted channel would be clipped at 6 instead of 6 - c_i);
 * - the consumer is a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED that never reads a zero-padded
 *   border (a padded position would read 0 where the original read 0 too, but the bias now assumes
 *   -c_i there; SAME padding of a 1x1 kernel, or of shapes that need none, is fine);
 * - the tensor has that one reader and is not a model output (anything else would see the shift).
 * On MobileNets these leave almost nothing (1 of 2736 channels of V1 0.25, 29 of 15552 of V2: their
 * pointwise outputs feed padded 3x3 depthwise layers, and most depthwise outputs come near the RELU6
 * clip or touch 0), so the recipe's 'auto' keeps it off (recipe.ts absorptionApplies).
 */
import type { ModelGraph, Operator, Subgraph } from '../tflite/graph';
import { cloneGraph } from '../tflite/edit';
import { builtinCodeOf } from '../tflite/ops';
import { bufferUsers, consumers, isConstant } from '../tflite/queries';
import { ActivationFunctionType, BuiltinOperator, Padding, TensorType } from '../tflite/schema/generated/tflite_generated';
import { asFloat32, bytesOf } from './quantize/params';

/** Per-channel (last axis) minimum and maximum of a tensor on the calibration data. */
export interface ChannelRange {
  min: Float64Array;
  max: Float64Array;
}

export interface AbsorbOptions {
  /** Measured ranges by tensor index in subgraph 0, of the graph given (measureChannelRanges). */
  channelRanges: Map<number, ChannelRange>;
  /** c_i = measured minimum / margin (default ABSORB_MARGIN). */
  margin?: number;
  /** After RELU6, a channel is shifted only if its maximum times this stays <= 6 (default 2). */
  clipMargin?: number;
}

export interface AbsorbedPair {
  producer: number;
  consumer: number;
  /** The tensor the consumer reads. */
  tensor: number;
  /** c_i per channel (0 where not shifted): the tensor now holds the original minus c. */
  shifts: Float64Array;
}

export interface AbsorbResult {
  graph: ModelGraph;
  pairs: AbsorbedPair[];
  /** Channels shifted, and channels looked at (every channel of a weight layer's RELU / RELU6 output). */
  absorbed: number;
  channels: number;
  /** Channels not shifted, by cause; `pairs` counts the layer outputs a cause excluded as a whole. */
  skipped: Map<string, { pairs: number; channels: number }>;
  notes: string[];
}

export const ABSORB_MARGIN = 4;
const WEIGHTED = new Set([BuiltinOperator.CONV_2D, BuiltinOperator.DEPTHWISE_CONV_2D, BuiltinOperator.FULLY_CONNECTED]);

export const SKIP = {
  output: 'the tensor is a model output',
  readers: 'the tensor has several readers (each would see the shift)',
  consumer: 'read by an op other than CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED',
  padding: 'the consumer zero-pads its input (SAME padding reading the border)',
  constants: 'weights or biases not unshared float32 constants (or no bias)',
  unmeasured: 'activations not measured',
  lowerClip: 'the lower clip fired (minimum <= 0 on the calibration data)',
  upperClip: 'the RELU6 clip fired or came within the margin',
} as const;

interface Candidate {
  producer: number;
  consumer: number;
  relu6: boolean;
  tensor: number;
  channels: number;
}

/**
 * The tensors absorption looks at in subgraph 0: each weight layer's output after a fused or
 * separate RELU / RELU6. What measureChannelRanges must measure.
 */
export function absorptionTensors(graph: ModelGraph): number[] {
  return findCandidates(graph, () => {}).map((c) => c.tensor);
}

export function absorbHighBias(input: ModelGraph, options: AbsorbOptions): AbsorbResult {
  const margin = options.margin ?? ABSORB_MARGIN;
  const clipMargin = options.clipMargin ?? 2;
  const graph = cloneGraph(input);
  const subgraph = graph.subgraphs[0];
  const skipped = new Map<string, { pairs: number; channels: number }>();
  const skip = (why: string, channels: number, pairs = 1) => {
    const entry = skipped.get(why) ?? { pairs: 0, channels: 0 };
    entry.pairs += pairs;
    entry.channels += channels;
    skipped.set(why, entry);
  };
  const candidates = findCandidates(graph, skip);
  const users = bufferUsers(graph);
  const values = new Map<number, Float32Array>();
  const valuesOf = (tensor: number): Float32Array => {
    const buffer = subgraph.tensors[tensor].buffer;
    let v = values.get(buffer);
    if (!v) values.set(buffer, (v = Float32Array.from(asFloat32(graph.buffers[buffer].data))));
    return v;
  };
  const pairs: AbsorbedPair[] = [];
  let absorbed = 0;
  for (const candidate of candidates) {
    const range = options.channelRanges.get(candidate.tensor);
    if (!range || range.min.length !== candidate.channels) {
      skip(SKIP.unmeasured, candidate.channels);
      continue;
    }
    const p = subgraph.operators[candidate.producer];
    const c = subgraph.operators[candidate.consumer];
    if (!ownFloatConstant(graph, subgraph, p.inputs[2], users) || !ownFloatConstant(graph, subgraph, c.inputs[2], users) || !floatConstant(graph, subgraph, c.inputs[1])) {
      skip(SKIP.constants, candidate.channels);
      continue;
    }
    const shifts = new Float64Array(candidate.channels);
    let lower = 0;
    let upper = 0;
    for (let i = 0; i < candidate.channels; i++) {
      // The RELU6 test first: a channel whose clip fires is never shifted, whatever its minimum.
      if (candidate.relu6 && clipMargin * range.max[i] > 6 * (1 + 1e-9)) upper++;
      else if (!(range.min[i] > 0)) lower++;
      else shifts[i] = range.min[i] / margin;
    }
    if (upper) skip(SKIP.upperClip, upper, 0);
    if (lower) skip(SKIP.lowerClip, lower, 0);
    const count = candidate.channels - upper - lower;
    if (!count) continue;
    const b1 = valuesOf(p.inputs[2]);
    for (let i = 0; i < candidate.channels; i++) b1[i] -= shifts[i];
    const consumerCode = builtinCodeOf(graph.operatorCodes[c.opcodeIndex]);
    const w2 = asFloat32(graph.buffers[subgraph.tensors[c.inputs[1]].buffer].data);
    const b2 = valuesOf(c.inputs[2]);
    const added = readsOf(consumerCode, subgraph.tensors[c.inputs[1]].shape, w2, shifts);
    for (let o = 0; o < b2.length; o++) b2[o] += added[o];
    absorbed += count;
    pairs.push({ producer: candidate.producer, consumer: candidate.consumer, tensor: candidate.tensor, shifts });
  }
  for (const [buffer, v] of values) graph.buffers[buffer] = { data: bytesOf(v) };
  const channels = absorbed + [...skipped.values()].reduce((n, k) => n + k.channels, 0);
  const notes = [`high-bias absorption: ${absorbed} of ${channels} channel(s) shifted down (by their calibration minimum / ${margin}) in ${pairs.length} layer pair(s)`];
  for (const [why, { pairs: n, channels: k }] of skipped) notes.push(`high-bias absorption: ${k} channel(s) not shifted${n ? ` in ${n} layer output(s)` : ''}: ${why}`);
  return { graph, pairs, absorbed, channels, skipped, notes };
}

/**
 * W2 * c per output channel of the consumer: CONV_2D [O, kh, kw, I] sums over taps and input
 * channels; DEPTHWISE_CONV_2D [1, kh, kw, I*M] output o reads input o / M; FULLY_CONNECTED [O, I].
 */
function readsOf(code: BuiltinOperator, shape: number[], w: Float32Array, c: Float64Array): Float64Array {
  const last = shape[shape.length - 1];
  if (code === BuiltinOperator.DEPTHWISE_CONV_2D) {
    const multiplier = last / c.length;
    const out = new Float64Array(last);
    for (let k = 0; k < w.length; k++) {
      const o = k % last;
      out[o] += w[k] * c[Math.floor(o / multiplier)];
    }
    return out;
  }
  const outputs = shape[0];
  const out = new Float64Array(outputs);
  const inner = w.length / outputs;
  for (let o = 0; o < outputs; o++) {
    let sum = 0;
    for (let k = o * inner, end = k + inner; k < end; k++) sum += w[k] * c[k % last];
    out[o] = sum;
  }
  return out;
}

function floatConstant(graph: ModelGraph, subgraph: Subgraph, t: number | undefined): boolean {
  const tensor = t !== undefined && t >= 0 ? subgraph.tensors[t] : undefined;
  return !!tensor && isConstant(graph, tensor) && tensor.type === TensorType.FLOAT32 && !tensor.quantization?.scale?.length;
}

/** A float32 constant no other tensor shares (writing it must not change another op). */
function ownFloatConstant(graph: ModelGraph, subgraph: Subgraph, t: number | undefined, users: Map<number, unknown[]>): boolean {
  return floatConstant(graph, subgraph, t) && (users.get(subgraph.tensors[t!].buffer)?.length ?? 0) === 1;
}

function fusedActivation(op: Operator): ActivationFunctionType {
  return (op.builtinOptions as { fusedActivationFunction?: ActivationFunctionType } | null)?.fusedActivationFunction ?? ActivationFunctionType.NONE;
}

/**
 * Whether the consumer may read a zero-padded border: SAME padding needs
 * (out - 1) * stride + (k - 1) * dilation + 1 - in > 0 padded rows (or columns).
 * Unknown shapes count as padded.
 */
function readsPadding(code: BuiltinOperator, op: Operator, subgraph: Subgraph): boolean {
  if (code === BuiltinOperator.FULLY_CONNECTED) return false;
  const options = op.builtinOptions as { padding?: Padding; strideH?: number; strideW?: number; dilationHFactor?: number; dilationWFactor?: number } | null;
  if ((options?.padding ?? Padding.SAME) === Padding.VALID) return false;
  const input = subgraph.tensors[op.inputs[0]].shape;
  const output = subgraph.tensors[op.outputs[0]].shape;
  const kernel = subgraph.tensors[op.inputs[1]].shape;
  if (input.length !== 4 || output.length !== 4 || kernel.length !== 4) return true;
  const pad = (inSize: number, outSize: number, k: number, stride = 1, dilation = 1) =>
    inSize <= 0 || outSize <= 0 ? 1 : (outSize - 1) * stride + (k - 1) * dilation + 1 - inSize;
  return pad(input[1], output[1], kernel[1], options?.strideH, options?.dilationHFactor) > 0 || pad(input[2], output[2], kernel[2], options?.strideW, options?.dilationWFactor) > 0;
}

/** Every weight layer of subgraph 0 followed by RELU / RELU6, with the cause where its output cannot be shifted. */
function findCandidates(graph: ModelGraph, skip: (why: string, channels: number) => void): Candidate[] {
  const subgraph = graph.subgraphs[0];
  if (!subgraph) return [];
  const readers = consumers(subgraph);
  const outputs = new Set(subgraph.outputs);
  const codeOf = (o: number) => builtinCodeOf(graph.operatorCodes[subgraph.operators[o].opcodeIndex]);
  const found: Candidate[] = [];
  subgraph.operators.forEach((op, o) => {
    if (!WEIGHTED.has(codeOf(o))) return;
    let tensor = op.outputs[0];
    const channels = subgraph.tensors[tensor].shape.at(-1) ?? 0;
    if (subgraph.tensors[tensor].type !== TensorType.FLOAT32) return;
    let activation = fusedActivation(op);
    if (activation === ActivationFunctionType.NONE && !outputs.has(tensor) && readers[tensor].length === 1) {
      const next = readers[tensor][0];
      if (codeOf(next) === BuiltinOperator.RELU) activation = ActivationFunctionType.RELU;
      if (codeOf(next) === BuiltinOperator.RELU6) activation = ActivationFunctionType.RELU6;
      if (activation !== ActivationFunctionType.NONE) tensor = subgraph.operators[next].outputs[0];
    }
    if (activation !== ActivationFunctionType.RELU && activation !== ActivationFunctionType.RELU6) return;
    if (outputs.has(tensor)) return skip(SKIP.output, channels);
    if (readers[tensor].length !== 1) return skip(SKIP.readers, channels);
    const consumer = readers[tensor][0];
    const code = codeOf(consumer);
    if (!WEIGHTED.has(code) || subgraph.operators[consumer].inputs[0] !== tensor) return skip(SKIP.consumer, channels);
    if (readsPadding(code, subgraph.operators[consumer], subgraph)) return skip(SKIP.padding, channels);
    // The channel shifted must be the one both layers index: the tensor's last axis.
    const kernel = subgraph.tensors[subgraph.operators[consumer].inputs[1]]?.shape ?? [];
    const inputs = code === BuiltinOperator.DEPTHWISE_CONV_2D ? channels : kernel.at(-1);
    if (code === BuiltinOperator.DEPTHWISE_CONV_2D ? (kernel.at(-1) ?? 0) % channels !== 0 : inputs !== channels) return skip(SKIP.consumer, channels);
    found.push({ producer: o, consumer, relu6: activation === ActivationFunctionType.RELU6, tensor, channels });
  });
  return found;
}

/**
 * What absorption lowered, by tensor name: each pair's tensor holds the original's channel i minus
 * c_i (and so does the producer's own output when a separate RELU / RELU6 op sits between). For
 * compareModels (CompareOptions.channelShifts), so a per-layer comparison adds them back.
 */
export function channelShiftsOf(graph: ModelGraph, pairs: readonly AbsorbedPair[]): Record<string, number[]> {
  const subgraph = graph.subgraphs[0];
  const shifts: Record<string, number[]> = {};
  for (const pair of pairs) {
    for (const t of new Set([subgraph.operators[pair.producer].outputs[0], pair.tensor])) {
      const name = subgraph.tensors[t]?.name;
      if (name !== undefined) shifts[name] = Array.from(pair.shifts);
    }
  }
  return shifts;
}
