/**
 * One layer's rounding problem: float weights, the per-channel scales the plan chose, and sampled
 * rows of the layer's input. Whatever integers q we pick, the layer computes X (s*q) instead of X W,
 * so the error to minimize per output channel c is ||X (w_c - s_c q_c)||^2 = d^T H d with
 * H = X^T X / n: the rows enter only through that Gram matrix, which is what makes GPTQ and
 * AdaRound here plain linear algebra, independent of the number of rows after H is formed.
 *
 * Layouts (TFLite): CONV_2D [O, kh, kw, I] and FULLY_CONNECTED [O, I] (axis 0) multiply whole rows
 * (im2col rows [kh, kw, I] for a convolution), so all their channels share one H; DEPTHWISE_CONV_2D
 * [1, kh, kw, I*M] (axis 3) has channel c read input channel floor(c / M) of a [kh, kw, I] patch, so
 * each input channel has its own kh*kw x kh*kw H.
 */
import { WorkbenchError } from '../../errors';

export type RoundingMethod = 'nearest' | 'gptq' | 'adaround';
export const ROUNDING_METHODS: readonly RoundingMethod[] = ['nearest', 'gptq', 'adaround'];

/** Weight widths the rounding knows: int8 narrow [-127, 127] (TFLite's weight range), int4 [-8, 7]. */
export type RoundingBits = 8 | 4;
export const INTEGER_RANGE: Record<RoundingBits, readonly [number, number]> = { 8: [-127, 127], 4: [-8, 7] };

/** Sampled inputs of one layer: `count` rows of `width` values. */
export interface LayerRows {
  rows: Float32Array;
  count: number;
  width: number;
  /** 'dense': a row is what every output channel multiplies; 'depthwise': a [kh, kw, inChannels] patch. */
  layout: 'dense' | 'depthwise';
  /** Input channels of a depthwise patch (its last dimension). */
  inChannels: number;
  /**
   * Dense layers: running moments over more rows than `rows` holds (layer-inputs.ts): count, column
   * sums and the upper triangle of X^T X (k x k). The Gram matrix comes from these when present.
   */
  moments?: { count: number; sum: Float64Array; outer: Float64Array };
}

export interface RoundingProblem {
  values: Float32Array;
  shape: number[];
  /** One scale per output channel, or one for the whole tensor. */
  scales: ArrayLike<number>;
  /** The output-channel axis: 0 for CONV_2D / FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D. */
  axis: number;
  bits: RoundingBits;
  inputs: LayerRows;
  /**
   * Use the rows' covariance instead of their second moment: when bias correction follows, the
   * mean of the output error (E[x] . d) goes into the bias, so only the centered part is left to
   * minimize (bias-correction.ts).
   */
  centered?: boolean;
}

/** Output channels that share one H, and where their weights sit in the flat tensor. */
export interface ChannelGroup {
  /** k x k, row-major, float64. */
  hessian: Float64Array;
  k: number;
  channels: number[];
  /** Flat index of weight j of channel c. */
  index: (c: number, j: number) => number;
}

export interface LayerLayout {
  outChannels: number;
  groups: ChannelGroup[];
  scaleOf: (c: number) => number;
}

/** Splits a problem into channel groups with their Gram matrices (checks the shapes on the way). */
export function layoutOf(problem: RoundingProblem): LayerLayout {
  const { values, shape, axis, inputs, scales } = problem;
  const size = shape.reduce((n, d) => n * d, 1);
  if (size !== values.length) throw new WorkbenchError('bad-input', `rounding: ${values.length} weights for shape [${shape.join(', ')}]`);
  if (inputs.rows.length < inputs.count * inputs.width || inputs.count < 1) throw new WorkbenchError('bad-input', 'rounding: no input rows for the layer');
  const outChannels = shape[axis];
  if (scales.length !== 1 && scales.length !== outChannels) throw new WorkbenchError('bad-input', `rounding: ${scales.length} scales for ${outChannels} output channels`);
  const scaleOf = scales.length === 1 ? () => scales[0] : (c: number) => scales[c];
  if (inputs.layout === 'dense') {
    const k = size / outChannels;
    if (axis !== 0 || k !== inputs.width) throw new WorkbenchError('bad-input', `rounding: rows of ${inputs.width} values do not fit weights [${shape.join(', ')}] on axis ${axis}`);
    const hessian = gram(inputs, Array.from({ length: k }, (_, j) => j), problem.centered ?? false);
    return { outChannels, scaleOf, groups: [{ hessian, k, channels: Array.from({ length: outChannels }, (_, c) => c), index: (c, j) => c * k + j }] };
  }
  const inChannels = inputs.inChannels;
  const multiplier = outChannels / inChannels;
  const k = size / outChannels;
  if (axis !== shape.length - 1 || shape[0] !== 1 || !Number.isInteger(multiplier) || k * inChannels !== inputs.width) {
    throw new WorkbenchError('bad-input', `rounding: depthwise patches of ${inputs.width} values do not fit weights [${shape.join(', ')}]`);
  }
  const hessians = depthwiseGrams(inputs, k, problem.centered ?? false);
  const groups: ChannelGroup[] = hessians.map((hessian, i) => ({
    hessian,
    k,
    channels: Array.from({ length: multiplier }, (_, m) => i * multiplier + m),
    index: (c, j) => j * outChannels + c,
  }));
  return { outChannels, scaleOf, groups };
}

/** X^T X / n over the given columns of the rows (minus mean mean^T when centered), float64. */
export function gram(inputs: LayerRows, columns: number[], centered: boolean): Float64Array {
  const { rows, count, width } = inputs;
  const k = columns.length;
  if (inputs.moments && k === width && columns.every((c, j) => c === j)) return fromMoments(inputs.moments, k, centered);
  const h = new Float64Array(k * k);
  const x = new Float64Array(k);
  const mean = new Float64Array(k);
  const contiguous = columns.every((c, j) => c === j) && k === width;
  for (let r = 0; r < count; r++) {
    const base = r * width;
    if (contiguous) for (let j = 0; j < k; j++) x[j] = rows[base + j];
    else for (let j = 0; j < k; j++) x[j] = rows[base + columns[j]];
    addOuter(h, mean, x, k);
  }
  return finishGram(h, mean, k, count, centered);
}

/** Adds x x^T (upper triangle) to h and x to mean: one row's share of gram()'s sums. */
function addOuter(h: Float64Array, mean: Float64Array, x: Float64Array, k: number): void {
  for (let i = 0; i < k; i++) {
    const xi = x[i];
    mean[i] += xi;
    if (xi === 0) continue; // post-ReLU inputs are mostly zeros
    const row = i * k;
    for (let j = i; j < k; j++) h[row + j] += xi * x[j];
  }
}

/** Sums over the rows -> X^T X / n (minus mean mean^T when centered), both triangles filled. */
function finishGram(h: Float64Array, mean: Float64Array, k: number, count: number, centered: boolean): Float64Array {
  for (let i = 0; i < k; i++) mean[i] /= count;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let v = h[i * k + j] / count;
      if (centered) v -= mean[i] * mean[j];
      h[i * k + j] = v;
      h[j * k + i] = v;
    }
  }
  return h;
}

/**
 * gram() of every input channel of depthwise patches ([kh, kw, C] rows: channel c's k values at
 * j * C + c), in one pass over the rows instead of one strided pass per channel (a cache miss per
 * value on wide layers: pose_landmark_heavy's 1632-channel 5x5 patches). Each sum adds the same
 * terms in the same row order as gram(): the same bits.
 */
function depthwiseGrams(inputs: LayerRows, k: number, centered: boolean): Float64Array[] {
  const { rows, count, width, inChannels } = inputs;
  const hessians = Array.from({ length: inChannels }, () => new Float64Array(k * k));
  const means = Array.from({ length: inChannels }, () => new Float64Array(k));
  const x = new Float64Array(k);
  for (let r = 0; r < count; r++) {
    const base = r * width;
    for (let c = 0; c < inChannels; c++) {
      for (let j = 0; j < k; j++) x[j] = rows[base + j * inChannels + c];
      addOuter(hessians[c], means[c], x, k);
    }
  }
  return hessians.map((h, c) => finishGram(h, means[c], k, count, centered));
}

/** X^T X / n (minus mean mean^T when centered) from running moments (upper triangle filled). */
function fromMoments(m: NonNullable<LayerRows['moments']>, k: number, centered: boolean): Float64Array {
  const h = new Float64Array(k * k);
  const n = m.count;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let v = m.outer[i * k + j] / n;
      if (centered) v -= (m.sum[i] / n) * (m.sum[j] / n);
      h[i * k + j] = v;
      h[j * k + i] = v;
    }
  }
  return h;
}

/** Round to nearest, clamped: the baseline, and what every method starts from. */
export function nearestInteger(w: number, scale: number, bits: RoundingBits): number {
  const [lo, hi] = INTEGER_RANGE[bits];
  const q = Math.round(w / scale);
  return q < lo ? lo : q > hi ? hi : q;
}

/** d^T H d for d = w - s q of one channel: its share of ||X (W - Wq)||^2 / n. */
export function channelError(group: ChannelGroup, values: Float32Array, c: number, scale: number, q: ArrayLike<number>): number {
  const { k, hessian } = group;
  const d = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const i = group.index(c, j);
    d[j] = values[i] - scale * q[i];
  }
  let total = 0;
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += hessian[i * k + j] * d[j];
    total += d[i] * s;
  }
  return total;
}
