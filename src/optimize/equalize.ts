/**
 * Cross-layer equalization (Nagel et al., "Data-Free Quantization Through Weight Equalization and
 * Bias Correction", 2019, section 4.1).
 *
 * For two layers W1 -> f -> W2 where f is positively homogeneous (identity or ReLU: f(x / s) = f(x) / s
 * for s > 0), dividing output channel i of W1 (and its bias) by s_i and multiplying input channel i
 * of W2 by s_i computes the same function. Choosing s_i = sqrt(r1_i / r2_i), with r the per-channel
 * weight ranges, makes both ranges sqrt(r1_i * r2_i): a per-tensor int8 scale then no longer has to
 * cover one channel 100x wider than its neighbours (MobileNet's depthwise layers), which is what makes
 * per-tensor int8 collapse on them.
 *
 * RELU6 is not homogeneous: after the scaling the clip would have to sit at 6 / s_i per channel, which
 * TFLite cannot express. `relu6: 'as-relu'` replaces it by RELU in the pairs it equalizes (what AIMET
 * does); that changes the model wherever the clip fired, so the pipeline only accepts it after
 * measuring the float model's outputs with it (see equalize-for-quantization.ts). The default skips
 * such pairs.
 *
 * `relu6: 'measured'` keeps RELU6 and equalizes through it where calibration shows it is exact: with
 * the producer's channel divided by s_i, RELU6 then the consumer's s_i compute min(max(x, 0), 6 s_i),
 * the original wherever x never reaches min(6, 6 s_i). A channel whose measured maximum m_i stays
 * under 6 / margin (its clip never came close) may take any s_i >= margin * m_i / 6; the margin is
 * for images calibration did not see. Every other channel, among them those whose clip fired,
 * keeps s_i = 1. On MobileNetV1 0.25 that frees 269 of the 2480 channels between its pairs (maxima
 * from 16 ImageNet images), enough to take its per-tensor int8 top-1 from 30% to 61% (float 62%,
 * npm run bench:pertensor).
 *
 * With measured activations, a channel that never left 0 after its RELU / RELU6 on calibration is
 * dead: its producer weights become 0 and its bias min(bias, 0), so it stays 0, and the consumer's
 * weights that read it become 0 too. The function is unchanged on the data measured; the per-tensor
 * weight scales on both sides no longer have to cover weights that only ever multiply zeros.
 */
import type { ModelGraph, Operator, Subgraph } from '../tflite/graph';
import { cloneGraph, opcodeIndex } from '../tflite/edit';
import { builtinCodeOf } from '../tflite/ops';
import { bufferUsers, consumers, isConstant } from '../tflite/queries';
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../tflite/schema/generated/tflite_generated';
import { asFloat32, bytesOf } from './quantize/params';

export type Relu6Handling = 'skip' | 'as-relu' | 'measured';

/** A channel whose weight range is under this fraction of its tensor's widest is dead, left unscaled. */
const DEAD = 1e-6;
/** Bound on a channel's total scale, so no weight moves by more than this factor either way. */
const MAX_SCALE = 1e3;

export interface EqualizeOptions {
  /** What to do with a RELU6 between two layers (default 'skip': the model stays exactly the same function). */
  relu6?: Relu6Handling;
  /** At most this many passes over the pairs (default 50); the paper iterates until the scales stop changing. */
  maxIterations?: number;
  /** Converged when every scale of a pass is within this of 1 (default 1e-4). */
  tolerance?: number;
  /**
   * Per-channel maximum (last axis) of tensors between layers on the calibration data, by tensor
   * index in subgraph 0 (measureChannelMaxima): what 'measured' RELU6 handling and dead channels read.
   */
  channelMaxima?: Map<number, Float64Array>;
  /**
   * 'measured': a channel scales only if its measured maximum times this (default 2) stays under 6,
   * and its clip then moves down to no less than that, so values up to twice what calibration saw
   * still pass it unchanged.
   */
  clipMargin?: number;
}

export type Between = 'none' | 'relu' | 'relu6';

export interface EqualizedPair {
  subgraph: number;
  /** Operator indices in the subgraph (the graph keeps its operator order). */
  producer: number;
  consumer: number;
  /** The activation between them (fused into the producer or a RELU / RELU6 op). */
  between: Between;
  channels: number;
  /** Range of the accumulated per-channel scales s (the producer's channels were divided by s). */
  scaleMin: number;
  scaleMax: number;
  /** Channels left as they were (dead on one side, or held by the RELU6 clip) or stopped at a bound: not balanced. */
  unbalanced: number[];
  /** The total scale s_i of each channel. */
  scales: Float64Array;
  /** The tensor the consumer reads (after the activation), in the subgraph. */
  tensor: number;
}

export interface EqualizeResult {
  graph: ModelGraph;
  pairs: EqualizedPair[];
  /** Passes run over the pairs. */
  iterations: number;
  /** How many RELU6 became RELU (relu6: 'as-relu'). */
  relu6Replaced: number;
  /** Channels found dead on the measured data and zeroed (channelMaxima given). */
  deadChannels: number;
  notes: string[];
}

const WEIGHTED = new Set([BuiltinOperator.CONV_2D, BuiltinOperator.DEPTHWISE_CONV_2D, BuiltinOperator.FULLY_CONNECTED]);

/** A weight layer as CLE sees it: where its output and input channels sit in the weight tensor. */
interface Layer {
  op: number;
  builtin: BuiltinOperator;
  weights: number;
  bias: number;
  shape: number[];
}

interface Pair {
  producer: Layer;
  consumer: Layer;
  between: Between;
  /** The RELU / RELU6 op between them, when not fused. */
  activationOp: number;
  /** The tensor the consumer reads (after the activation). */
  tensor: number;
  channels: number;
  scale: Float64Array;
  /** Channels found dead or stopped at MAX_SCALE in some pass. */
  unbalanced: Set<number>;
}

/**
 * Equalize every conv/depthwise/FC -> (NONE | RELU | RELU6 as chosen) -> conv/depthwise/FC chain of
 * float32 constant weights. Pure: the input graph is not changed (its buffers are shared, never
 * written). Float16 weights behind DEQUANTIZE must be folded first (foldConstantDequantize).
 */
export function equalizeCrossLayer(input: ModelGraph, options: EqualizeOptions = {}): EqualizeResult {
  const relu6 = options.relu6 ?? 'skip';
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-4;
  const graph = cloneGraph(input);
  const skipped = new Map<string, number>();
  const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1);

  const users = bufferUsers(graph);
  const pairsBySubgraph = graph.subgraphs.map((subgraph, s) => findPairs(graph, s, subgraph, users, relu6, skip, s === 0 ? options.channelMaxima : undefined));
  const all = pairsBySubgraph.flatMap((pairs, s) => pairs.map((pair) => ({ s, pair })));
  const margin = options.clipMargin ?? 2;

  // Working copies of every weight and bias we scale, written back once at the end.
  const values = new Map<number, Float32Array>();
  const valuesOf = (s: number, tensor: number): Float32Array => {
    const buffer = graph.subgraphs[s].tensors[tensor].buffer;
    let v = values.get(buffer);
    if (!v) values.set(buffer, (v = Float32Array.from(asFloat32(graph.buffers[buffer].data))));
    return v;
  };

  // Per-channel bounds on each pair's total scale (RELU6 measured), and dead channels zeroed.
  let deadChannels = 0;
  const bounds = all.map(({ s, pair }) => {
    const lo = new Float64Array(pair.channels).fill(1 / MAX_SCALE);
    const hi = new Float64Array(pair.channels).fill(MAX_SCALE);
    const maxima = s === 0 ? options.channelMaxima?.get(pair.tensor) : undefined;
    if (!maxima || pair.between === 'none') return { lo, hi };
    for (let i = 0; i < pair.channels; i++) {
      if (maxima[i] <= 0) {
        zeroChannel(pair, i, valuesOf(s, pair.producer.weights), pair.producer.bias >= 0 ? valuesOf(s, pair.producer.bias) : null, valuesOf(s, pair.consumer.weights));
        deadChannels++;
        lo[i] = hi[i] = 1;
      } else if (pair.between === 'relu6') {
        // The clip sits at 6 s_i after scaling: it must stay above what the channel reaches. Only a
        // channel that stays under 6 / margin is free: one that came closer to its clip may pass it on
        // other images, and with s_i > 1 it would no longer be clipped at 6 (on MobileNetV2 that
        // alone left the equalized float model at 26.7 dB against the original on unseen images).
        if (margin * maxima[i] >= 6) lo[i] = hi[i] = 1;
        else lo[i] = Math.max(1 / MAX_SCALE, (margin * maxima[i]) / 6);
      }
    }
    return { lo, hi };
  });

  let iterations = 0;
  while (all.length && iterations < maxIterations) {
    iterations++;
    let worst = 0;
    for (const [k, { s, pair }] of all.entries()) {
      const { lo, hi } = bounds[k];
      const w1 = valuesOf(s, pair.producer.weights);
      const w2 = valuesOf(s, pair.consumer.weights);
      const r1 = outputChannelRanges(pair.producer, w1);
      const r2 = inputChannelRanges(pair.consumer, w2, pair.channels);
      const scale = new Float64Array(pair.channels);
      // A dead channel on either side (range under DEAD of its tensor's widest) has nothing to
      // balance: scaling it by sqrt(1e-20 / r) blew vww_96's weights up by 1e10 and its int8 model
      // past what XNNPACK can requantize. The total scale of a channel stays within MAX_SCALE too.
      const dead1 = DEAD * Math.max(...r1);
      const dead2 = DEAD * Math.max(...r2);
      for (let i = 0; i < pair.channels; i++) {
        const live = r1[i] > dead1 && r2[i] > dead2;
        const wanted = live ? Math.sqrt(r1[i] / r2[i]) : 1;
        const total = Math.min(hi[i], Math.max(lo[i], pair.scale[i] * wanted));
        if (!live || total !== pair.scale[i] * wanted) pair.unbalanced.add(i);
        scale[i] = total / pair.scale[i];
        worst = Math.max(worst, Math.abs(scale[i] - 1));
        pair.scale[i] = total;
      }
      scaleOutputChannels(pair.producer, w1, scale, true);
      if (pair.producer.bias >= 0) {
        const b1 = valuesOf(s, pair.producer.bias);
        for (let i = 0; i < pair.channels; i++) b1[i] /= scale[i];
      }
      scaleInputChannels(pair.consumer, w2, scale);
    }
    if (worst < tolerance) break;
  }

  for (const [buffer, v] of values) graph.buffers[buffer] = { data: bytesOf(v) };
  let relu6Replaced = 0;
  for (const { s, pair } of all) {
    if (pair.between !== 'relu6' || relu6 !== 'as-relu') continue;
    const subgraph = graph.subgraphs[s];
    if (pair.activationOp >= 0) {
      subgraph.operators[pair.activationOp].opcodeIndex = opcodeIndex(graph, BuiltinOperator.RELU);
    } else {
      fusedOptions(subgraph.operators[pair.producer.op])!.fusedActivationFunction = ActivationFunctionType.RELU;
    }
    relu6Replaced++;
  }

  const pairs: EqualizedPair[] = all.map(({ s, pair }) => ({
    subgraph: s,
    producer: pair.producer.op,
    consumer: pair.consumer.op,
    between: pair.between,
    channels: pair.channels,
    scaleMin: Math.min(...pair.scale),
    scaleMax: Math.max(...pair.scale),
    unbalanced: [...pair.unbalanced].sort((a, b) => a - b),
    scales: pair.scale,
    tensor: pair.tensor,
  }));
  const notes = [`cross-layer equalization: ${pairs.length} layer pair(s) equalized in ${iterations} pass(es)`];
  if (deadChannels) notes.push(`cross-layer equalization: ${deadChannels} channel(s) never above 0 on the calibration data zeroed (weights on both sides)`);
  if (relu6Replaced) notes.push(`cross-layer equalization: ${relu6Replaced} RELU6 between equalized layers became RELU`);
  for (const [why, count] of skipped) notes.push(`cross-layer equalization: ${count} pair(s) skipped: ${why}`);
  return { graph, pairs, iterations, relu6Replaced, deadChannels, notes };
}

function fusedOptions(op: Operator): { fusedActivationFunction: ActivationFunctionType } | null {
  const options = op.builtinOptions as { fusedActivationFunction?: ActivationFunctionType } | null;
  return options && options.fusedActivationFunction !== undefined ? (options as { fusedActivationFunction: ActivationFunctionType }) : null;
}

/**
 * The layer of op `o` when CLE can rescale it: float32 constant weights (and bias) that no other
 * tensor shares (scaling a shared buffer would change the other user too).
 */
function layerOf(graph: ModelGraph, subgraph: Subgraph, o: number, users: Map<number, unknown[]>, skip: (why: string) => void): Layer | null {
  const op = subgraph.operators[o];
  const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
  if (!WEIGHTED.has(builtin)) return null;
  const weights = op.inputs[1];
  const bias = op.inputs[2] ?? -1;
  const w = subgraph.tensors[weights];
  if (!w || !isConstant(graph, w) || w.type !== TensorType.FLOAT32 || w.quantization?.scale?.length) return skip('weights are not float32 constants'), null;
  if (bias >= 0) {
    const b = subgraph.tensors[bias];
    if (!isConstant(graph, b) || b.type !== TensorType.FLOAT32) return skip('bias is not a float32 constant'), null;
    if ((users.get(b.buffer)?.length ?? 0) > 1) return skip('bias shared with another tensor'), null;
  }
  if ((users.get(w.buffer)?.length ?? 0) > 1) return skip('weights shared with another tensor'), null;
  if (builtin === BuiltinOperator.FULLY_CONNECTED) {
    const format = (op.builtinOptions as { weightsFormat?: number } | null)?.weightsFormat ?? 0;
    if (w.shape.length !== 2 || format !== 0) return skip('fully connected weights not in the plain [out, in] layout'), null;
  } else if (w.shape.length !== 4) return null;
  return { op: o, builtin, weights, bias, shape: w.shape };
}

function outputChannelCount(layer: Layer): number {
  return layer.builtin === BuiltinOperator.DEPTHWISE_CONV_2D ? layer.shape[3] : layer.shape[0];
}

function inputChannelCount(layer: Layer): number {
  // Depthwise: one input channel per group of `multiplier` output channels, read from the input tensor.
  return layer.builtin === BuiltinOperator.DEPTHWISE_CONV_2D ? -1 : layer.shape[layer.shape.length - 1];
}

function findPairs(
  graph: ModelGraph,
  s: number,
  subgraph: Subgraph,
  users: Map<number, unknown[]>,
  relu6: Relu6Handling,
  skip: (why: string) => void,
  measured?: Map<number, Float64Array>,
): Pair[] {
  const readers = consumers(subgraph);
  const graphOutputs = new Set(subgraph.outputs);
  const codeOf = (o: number) => builtinCodeOf(graph.operatorCodes[subgraph.operators[o].opcodeIndex]);
  /** The single op reading tensor t, or -1 when t is a graph output or has no or several readers. */
  const onlyReader = (t: number) => (graphOutputs.has(t) || readers[t].length !== 1 ? -1 : readers[t][0]);
  const pairs: Pair[] = [];
  subgraph.operators.forEach((op, o) => {
    if (!WEIGHTED.has(codeOf(o))) return;
    const fused = fusedOptions(op)?.fusedActivationFunction ?? ActivationFunctionType.NONE;
    let between: Between;
    if (fused === ActivationFunctionType.NONE) between = 'none';
    else if (fused === ActivationFunctionType.RELU) between = 'relu';
    else if (fused === ActivationFunctionType.RELU6) between = 'relu6';
    else return;
    let tensor = op.outputs[0];
    let next = onlyReader(tensor);
    if (next < 0) return;
    let activationOp = -1;
    const nextCode = codeOf(next);
    if (between === 'none' && (nextCode === BuiltinOperator.RELU || nextCode === BuiltinOperator.RELU6)) {
      between = nextCode === BuiltinOperator.RELU ? 'relu' : 'relu6';
      activationOp = next;
      tensor = subgraph.operators[next].outputs[0];
      next = onlyReader(tensor);
      if (next < 0) return;
    }
    if (!WEIGHTED.has(codeOf(next)) || subgraph.operators[next].inputs[0] !== tensor) return;
    if (between === 'relu6' && relu6 === 'skip') return skip('RELU6 between the layers (not positively homogeneous)');
    if (between === 'relu6' && relu6 === 'measured' && !measured?.has(tensor)) return skip('RELU6 between the layers, activations not measured');
    const t = subgraph.tensors[tensor];
    if (t.type !== TensorType.FLOAT32) return;
    const producer = layerOf(graph, subgraph, o, users, skip);
    const consumer = producer && layerOf(graph, subgraph, next, users, skip);
    if (!producer || !consumer) return;
    const channels = outputChannelCount(producer);
    // The channel CLE scales is the last axis of the tensor between: it must be what both layers index.
    if (t.shape.length && t.shape[t.shape.length - 1] !== channels) return skip('the tensor between the layers is not channel-last with the producer\'s channels');
    const inputs = inputChannelCount(consumer);
    if (inputs >= 0 ? inputs !== channels : outputChannelCount(consumer) % channels !== 0) return skip('channel counts do not line up');
    pairs.push({ producer, consumer, between, activationOp, tensor, channels, scale: new Float64Array(channels).fill(1), unbalanced: new Set() });
  });
  return pairs;
}

/** max |w| of each output channel (CONV_2D / FC axis 0, DEPTHWISE_CONV_2D axis 3). */
export function outputChannelRanges(layer: Pick<Layer, 'builtin' | 'shape'>, w: Float32Array): Float64Array {
  const depthwise = layer.builtin === BuiltinOperator.DEPTHWISE_CONV_2D;
  const channels = depthwise ? layer.shape[3] : layer.shape[0];
  const inner = w.length / channels;
  const r = new Float64Array(channels);
  for (let k = 0; k < w.length; k++) {
    const c = depthwise ? k % channels : Math.floor(k / inner);
    const a = Math.abs(w[k]);
    if (a > r[c]) r[c] = a;
  }
  return r;
}

/**
 * max |w| over what reads input channel i: CONV_2D / FC the last axis; DEPTHWISE_CONV_2D the
 * `multiplier` output channels i*M .. i*M+M-1.
 */
export function inputChannelRanges(layer: Pick<Layer, 'builtin' | 'shape'>, w: Float32Array, channels: number): Float64Array {
  const r = new Float64Array(channels);
  const last = layer.shape[layer.shape.length - 1];
  const multiplier = layer.builtin === BuiltinOperator.DEPTHWISE_CONV_2D ? last / channels : 1;
  for (let k = 0; k < w.length; k++) {
    const i = Math.floor((k % last) / multiplier);
    const a = Math.abs(w[k]);
    if (a > r[i]) r[i] = a;
  }
  return r;
}

function scaleOutputChannels(layer: Layer, w: Float32Array, scale: Float64Array, divide: boolean): void {
  const depthwise = layer.builtin === BuiltinOperator.DEPTHWISE_CONV_2D;
  const channels = scale.length;
  const inner = w.length / channels;
  for (let k = 0; k < w.length; k++) {
    const c = depthwise ? k % channels : Math.floor(k / inner);
    w[k] = divide ? w[k] / scale[c] : w[k] * scale[c];
  }
}

function scaleInputChannels(layer: Layer, w: Float32Array, scale: Float64Array): void {
  const last = layer.shape[layer.shape.length - 1];
  const multiplier = layer.builtin === BuiltinOperator.DEPTHWISE_CONV_2D ? last / scale.length : 1;
  for (let k = 0; k < w.length; k++) w[k] *= scale[Math.floor((k % last) / multiplier)];
}

/**
 * What equalization changes in the values a model computes inside, though not in its outputs: the
 * producer's output of each pair in subgraph 0 (and the separate RELU / RELU6 op's output, when there
 * is one) holds the original's channel i (last axis) divided by s_i. By tensor name (the float
 * model's names), for comparing those tensors with the original's (evaluate/compare.ts multiplies
 * them back); without it, a per-layer comparison reads the rescaling as error (MNIST's equalized
 * dense layer: 14 dB in int8, 16x8 and float alike).
 */
export function channelScalesOf(result: Pick<EqualizeResult, 'graph' | 'pairs'>): Record<string, number[]> {
  const subgraph = result.graph.subgraphs[0];
  const scales: Record<string, number[]> = {};
  for (const pair of result.pairs) {
    if (pair.subgraph !== 0) continue;
    const tensors = new Set([subgraph.operators[pair.producer].outputs[0], pair.tensor]);
    for (const t of tensors) {
      const name = subgraph.tensors[t]?.name;
      if (name !== undefined) scales[name] = Array.from(pair.scales);
    }
  }
  return scales;
}

/**
 * The tensors between the layers CLE would pair in subgraph 0 if RELU6 were allowed: what
 * measureChannelMaxima must measure for `relu6: 'measured'` and dead channels.
 */
export function pairTensors(graph: ModelGraph): number[] {
  const pairs = findPairs(graph, 0, graph.subgraphs[0], bufferUsers(graph), 'as-relu', () => {});
  return pairs.filter((p) => p.between !== 'none').map((p) => p.tensor);
}

/** Channel i made constant 0: the producer's weights 0 and bias <= 0 (so RELU keeps it 0), the consumer's reads of it 0. */
function zeroChannel(pair: Pair, i: number, w1: Float32Array, b1: Float32Array | null, w2: Float32Array): void {
  const one = new Float64Array(pair.channels).fill(1);
  one[i] = 0;
  scaleOutputChannels(pair.producer, w1, one, false);
  if (b1) b1[i] = Math.min(b1[i], 0);
  scaleInputChannels(pair.consumer, w2, one);
}
