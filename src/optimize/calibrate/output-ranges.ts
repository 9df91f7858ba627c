/**
 * `output-mse` activation ranges: for a tensor that is the data input of CONV_2D /
 * DEPTHWISE_CONV_2D / FULLY_CONNECTED ops, the clipping range [lo, hi] that minimizes the
 * error it causes in those ops' outputs, ||(X - Q(X)) Wq^T||^2 over sampled input rows X
 * (rounding/layer-inputs.ts) and the nearest-rounded weights Wq, instead of the tensor's own
 * squared error (`mse`). An input channel whose weights are small (or quantize to zero) can then
 * be clipped hard; channels that matter keep their range.
 *
 * The error of one candidate, OCTAV / MSE style, split like ranges.ts's `mse`:
 *   - clipping: exact on the rows: each clipped value's residual x - clip(x) times its weight
 *     column, summed per row into the outputs (so residuals of one row add up through the
 *     weights, as they do in the op), squared;
 *   - rounding: expected, step^2 / 12 per value inside the range times its column's squared norm
 *     ||Wq[:, j]||^2 (independent zero-mean rounding errors add in square through the weights);
 *     exact zeros round to themselves (zero is on the grid) and add nothing.
 * The grid is exactly the one activationParams (quantize/params.ts) builds for the candidate (its
 * zero-point nudge included): asymmetric int8 with zero representable, symmetric int16.
 *
 * Candidates: the tensor's minmax, mse and percentile (99.9, 99.99, 99.999) ranges, then a sweep of
 * the high end (max * 0.93^k, see RATIO), of the low end with that high end (when the tensor goes
 * negative), and of the high end again; for int16 a sweep of the symmetric bound. Errors are per
 * sample: a tensor read by several such ops sums their errors (each the mean over its rows times its
 * positions); other readers (an ADD of a residual block, a pooling, the model output) pass its error
 * on as it is, so each adds the tensor's own expected squared error (ownError, from the histogram)
 * times its values per sample.
 *
 * A tensor no such op reads gets `mse` (its own error is all there is, and mse minimizes it over
 * every bin edge); one a SOFTMAX / ARG_MAX reads keeps minmax (RANKING_OPS). Tensors that must
 * share one scale (concatenation, pooling, reshape: quantize/scale-groups.ts) still get one range
 * there, the union of their members' ranges: a range searched for a pooling's output is never
 * tighter than the mse range of the pooling's input, whose clipping this error does not see.
 */
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { BuiltinOperator } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32 } from '../quantize/fold-dequantize';
import { activationParams, symmetricWeightParams } from '../quantize/params';
import type { RangeMap, TensorRange } from '../quantize/ranges';
import { rangeKey } from '../quantize/ranges';
import { layerSites, type LayerSite } from '../rounding/layer-sites';
import type { LayerRows } from '../rounding/problem';
import { percentileRange, rangeOf, rangesFrom, type StatsSource } from './ranges';
import { occupiedBins, type OccupiedBins, type TensorStats } from './statistics/histogram';

/**
 * Ops whose input keeps its minmax range: clipping the top logits of a SOFTMAX / ARG_MAX ties the
 * classes it separated (their own mse clips exactly those outliers; npm run bench:act-ranges measured
 * MobileNetV1's top-1 agreement 1 pt lower with mse there than with minmax).
 */
const RANKING_OPS = new Set([BuiltinOperator.SOFTMAX, BuiltinOperator.LOG_SOFTMAX, BuiltinOperator.ARG_MAX, BuiltinOperator.ARG_MIN]);

/** Values (rows x width) of a consumer's sampled rows the search reads at most. */
export const SEARCH_VALUES = 1 << 18;
/**
 * The sweep: clip at extreme * RATIO^k for k = 0..SWEEP_STEPS (down to ~1% of the extreme, for
 * outlier channels the weights barely read), from wide to tight, stopped once the error exceeds
 * STOP times the best so far (past the optimum it grows fast, and tight clips are the costly ones).
 */
const RATIO = 0.93;
const SWEEP_STEPS = 64;
const STOP = 4;
const PERCENTILES = [99.9, 99.99, 99.999];

/** One consumer's error model: sampled rows and the quantized weights by input column. */
export interface ConsumerError {
  rows: Float32Array;
  count: number;
  width: number;
  outputs: number;
  /** Weights of column j: `perColumn` values at j * perColumn, into outputs firstOutput[j].. */
  columns: Float64Array;
  perColumn: number;
  firstOutput: Int32Array;
  /** ||Wq[:, j]||^2. */
  columnNorm: Float64Array;
  /** Sum over the rows of columnNorm[j] for every non-zero value: what rounding noise weighs. */
  nonZeroNorm: number;
  /** Positions per sample (the error is reported per sample: mean over rows x positions). */
  positions: number;
}

export interface OutputRangeOptions {
  bits?: 8 | 16;
  /** Weights quantized per output channel (the recipe's granularity); default true. */
  perChannel?: boolean;
}

export interface OutputRangeResult {
  ranges: RangeMap;
  /** Tensors whose range was searched on their consumers' outputs, and those that kept mse. */
  searched: number;
  fellBack: number;
  elapsedMs: number;
}

/**
 * The error model of one op from its sampled input rows and float weights: dense (CONV_2D [O, kh,
 * kw, I] or FULLY_CONNECTED [O, I], rows of kh*kw*I) or depthwise ([1, kh, kw, I*M], rows [kh, kw, I]).
 */
export function consumerError(inputs: LayerRows, weights: Float32Array, shape: number[], perChannel: boolean, positions: number): ConsumerError {
  const depthwise = inputs.layout === 'depthwise';
  const axis = depthwise ? shape.length - 1 : 0;
  const { scale } = symmetricWeightParams(weights, shape, axis, perChannel);
  const outputs = shape[axis];
  const width = inputs.width;
  const count = Math.max(1, Math.min(inputs.count, Math.max(64, Math.floor(SEARCH_VALUES / width))));
  const rows = inputs.rows.subarray(0, Math.min(inputs.count, count) * width);
  const quantized = (index: number, channel: number) => {
    const s = scale.length === 1 ? scale[0] : scale[channel];
    return s * Math.max(-127, Math.min(127, Math.round(weights[index] / s)));
  };
  let columns: Float64Array;
  let perColumn: number;
  const firstOutput = new Int32Array(width);
  if (!depthwise) {
    // [O, k] row-major -> columns [k, O].
    perColumn = outputs;
    columns = new Float64Array(width * outputs);
    for (let o = 0; o < outputs; o++) for (let j = 0; j < width; j++) columns[j * outputs + o] = quantized(o * width + j, o);
  } else {
    // Patch value j = p * I + i feeds outputs i*M .. i*M+M-1 with weights [p, i*M + m].
    const inChannels = inputs.inChannels;
    perColumn = outputs / inChannels;
    columns = new Float64Array(width * perColumn);
    for (let j = 0; j < width; j++) {
      const p = Math.floor(j / inChannels);
      const i = j % inChannels;
      firstOutput[j] = i * perColumn;
      for (let m = 0; m < perColumn; m++) columns[j * perColumn + m] = quantized(p * outputs + i * perColumn + m, i * perColumn + m);
    }
  }
  const columnNorm = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    let s = 0;
    for (let m = 0; m < perColumn; m++) s += columns[j * perColumn + m] ** 2;
    columnNorm[j] = s;
  }
  let nonZeroNorm = 0;
  const n = rows.length / width;
  for (let r = 0; r < n; r++) for (let j = 0; j < width; j++) if (rows[r * width + j] !== 0) nonZeroNorm += columnNorm[j];
  return { rows, count: n, width, outputs, columns, perColumn, firstOutput, columnNorm, nonZeroNorm, positions };
}

/** The grid activationParams builds for [lo, hi]: its clipping bounds and step. */
export function gridOf(range: TensorRange, bits: 8 | 16): { lo: number; hi: number; step: number } {
  const { scale, zeroPoint } = activationParams(range.min, range.max, bits);
  const s = scale[0];
  if (bits === 16) return { lo: -32767 * s, hi: 32767 * s, step: s };
  return { lo: (-128 - zeroPoint[0]) * s, hi: (127 - zeroPoint[0]) * s, step: s };
}

/** Expected output error per sample of quantizing the consumer's input over `range` (header). */
export function outputError(model: ConsumerError, range: TensorRange, bits: 8 | 16, scratch = new Float64Array(model.outputs)): number {
  const { lo, hi, step } = gridOf(range, bits);
  const { rows, count, width, columns, perColumn, firstOutput, columnNorm } = model;
  const y = scratch;
  let clip = 0;
  let clippedNorm = 0;
  for (let r = 0; r < count; r++) {
    const base = r * width;
    let touched = false;
    for (let j = 0; j < width; j++) {
      const x = rows[base + j];
      let d: number;
      if (x > hi) d = x - hi;
      else if (x < lo) d = x - lo;
      else continue;
      touched = true;
      clippedNorm += columnNorm[j];
      const f = firstOutput[j];
      const c = j * perColumn;
      for (let m = 0; m < perColumn; m++) y[f + m] += d * columns[c + m];
    }
    if (!touched) continue;
    for (let o = 0; o < y.length; o++) {
      clip += y[o] * y[o];
      y[o] = 0;
    }
  }
  const noise = ((step * step) / 12) * Math.max(0, model.nonZeroNorm - clippedNorm);
  return ((clip + noise) / count) * model.positions;
}

/**
 * Expected squared error per value of quantizing the histogram's distribution over `range` (values
 * uniform inside each bin, exact zeros exact): what an ADD, a pooling or the model output passes on
 * of this tensor's error, per value.
 */
export function ownError(bins: OccupiedBins, range: TensorRange, bits: 8 | 16): number {
  const { lo, hi, step } = gridOf(range, bits);
  const noise = (step * step) / 12;
  /** Sum over c values uniform on [a, b] of (x - p)^2. */
  const spread = (a: number, b: number, c: number, p: number) => (c * ((a - p) ** 2 + (a - p) * (b - p) + (b - p) ** 2)) / 3;
  let total = 0;
  for (let i = 0; i < bins.count.length; i++) {
    const a = bins.lower[i];
    const b = bins.upper[i];
    const c = i === bins.zeroBin ? bins.count[i] - bins.zeros : bins.count[i];
    if (c <= 0) continue;
    const width = b - a;
    const share = (from: number, to: number) => (width > 0 ? Math.max(0, Math.min(b, to) - Math.max(a, from)) / width : from <= a && a <= to ? 1 : 0);
    const below = a < lo ? share(-Infinity, lo) : 0;
    const above = b > hi ? share(hi, Infinity) : 0;
    if (below > 0) total += spread(a, Math.min(b, lo), c * below, lo);
    if (above > 0) total += spread(Math.max(a, hi), b, c * above, hi);
    total += c * Math.max(0, 1 - below - above) * noise;
  }
  return bins.total > 0 ? total / bins.total : 0;
}

/**
 * The range among the candidates (header) with the least summed output error over the consumers,
 * plus `ownWeight` times the tensor's own expected squared error per value (ownError: consumers
 * that pass its values on, counted as values per sample).
 */
export function searchRange(stats: TensorStats, consumers: ConsumerError[], bits: 8 | 16, ownWeight = 0): TensorRange {
  const scratch = consumers.map((c) => new Float64Array(c.outputs));
  const bins = ownWeight > 0 ? occupiedBins(stats) : null;
  const errorOf = (range: TensorRange) => consumers.reduce((sum, c, i) => sum + outputError(c, range, bits, scratch[i]), bins ? ownWeight * ownError(bins, range, bits) : 0);
  const mse = rangeOf(stats, 'mse', bits);
  let best = mse;
  let bestError = errorOf(mse);
  /** Its error (Infinity for an empty range); keeps it when best. */
  const consider = (range: TensorRange) => {
    if (!(range.max >= range.min)) return Infinity;
    const error = errorOf(range);
    if (error < bestError) {
      best = range;
      bestError = error;
    }
    return error;
  };
  consider({ min: stats.min, max: stats.max });
  for (const p of PERCENTILES) consider(percentileRange(stats, p));
  const sweep = (extreme: number, make: (v: number) => TensorRange) => {
    if (extreme === 0) return;
    for (let k = 0; k <= SWEEP_STEPS; k++) if (consider(make(extreme * RATIO ** k)) > STOP * bestError) break;
  };
  if (bits === 16) {
    const bound = Math.max(-stats.min, stats.max);
    sweep(bound, (b) => ({ min: Math.max(stats.min, -b), max: Math.min(stats.max, b) }));
    return best;
  }
  const lowOf = () => best.min;
  const highOf = () => best.max;
  if (stats.max > 0) {
    const lo = lowOf();
    sweep(stats.max, (hi) => ({ min: lo, max: hi }));
  }
  if (stats.min < 0) {
    const hi = highOf();
    sweep(stats.min, (lo) => ({ min: lo, max: hi }));
    if (stats.max > 0) {
      const lo = lowOf();
      sweep(stats.max, (hi) => ({ min: lo, max: hi }));
    }
  }
  return best;
}

/**
 * output-mse ranges for a calibrated graph: `mse` for every tensor, replaced by the searched range
 * where the tensor is read only as the data input of ops whose rows were sampled (`rows`, keyed by
 * rangeKey of the op's output as openLayerInputs gives them).
 */
export function outputErrorRanges(graph: ModelGraph, stats: StatsSource, rows: Map<string, LayerRows>, options: OutputRangeOptions = {}): OutputRangeResult {
  const started = performance.now();
  const bits = options.bits ?? 8;
  const perChannel = options.perChannel ?? true;
  const ranges = rangesFrom(stats, 'mse', { bits });
  const subgraph = graph.subgraphs[0];
  const sites = new Map<number, LayerSite>(layerSites(graph).map((s) => [s.opIndex, s]));
  const consumersOf = new Map<number, number[]>();
  subgraph.operators.forEach((op, o) => {
    for (const t of op.inputs) if (t >= 0) consumersOf.set(t, [...(consumersOf.get(t) ?? []), o]);
  });
  let searched = 0;
  let fellBack = 0;
  for (const [key, tensorStats] of stats.tensors) {
    if (tensorStats.count === 0 || tensorStats.subgraph !== 0) continue;
    const t = tensorStats.tensorIndex;
    const ops = [...new Set(consumersOf.get(t) ?? [])];
    if (ops.some((o) => RANKING_OPS.has(builtinCodeOf(graph.operatorCodes[subgraph.operators[o].opcodeIndex])))) {
      ranges.set(key, { min: tensorStats.min, max: tensorStats.max });
      continue;
    }
    const { models, passOn } = consumerModels(graph, t, ops, sites, rows, perChannel);
    if (!models.length) {
      if (ops.some((o) => sites.has(o))) fellBack++;
      continue;
    }
    // Consumers that pass the values on (and the model output) weigh the tensor's own error per value.
    const values = subgraph.tensors[t].shape.reduce((n, d) => n * Math.max(1, d), 1);
    const readers = passOn + (subgraph.outputs.includes(t) ? 1 : 0);
    ranges.set(key, searchRange(tensorStats, models, bits, readers * values));
    searched++;
  }
  return { ranges, searched, fellBack, elapsedMs: performance.now() - started };
}

/**
 * The error models of the sampled ops with constant weights that read t as their data input, and how
 * many other ops read t (their error is t's own).
 */
function consumerModels(graph: ModelGraph, t: number, ops: number[], sites: Map<number, LayerSite>, rows: Map<string, LayerRows>, perChannel: boolean): { models: ConsumerError[]; passOn: number } {
  const models: ConsumerError[] = [];
  let passOn = 0;
  for (const o of ops) {
    const model = consumerModel(graph, t, o, sites, rows, perChannel);
    if (model) models.push(model);
    else passOn++;
  }
  return { models, passOn };
}

function consumerModel(graph: ModelGraph, t: number, o: number, sites: Map<number, LayerSite>, rows: Map<string, LayerRows>, perChannel: boolean): ConsumerError | null {
  const subgraph = graph.subgraphs[0];
  const site = sites.get(o);
  const op = subgraph.operators[o];
  if (!site || site.input !== t || op.inputs.filter((i) => i === t).length !== 1) return null;
  const inputs = rows.get(rangeKey(0, op.outputs[0]));
  const weightTensor = subgraph.tensors[op.inputs[1]];
  if (!inputs || inputs.count === 0 || !weightTensor || !graph.buffers[weightTensor.buffer]?.data.length) return null;
  let weights: Float32Array;
  try {
    weights = constantAsFloat32(graph, 0, op.inputs[1]);
  } catch {
    return null; // weights that are not a plain constant: counted as a reader of t's own error
  }
  return consumerError(inputs, weights, [...weightTensor.shape], perChannel, site.positions);
}
