/**
 * What the graph shows about each op: its dtype, the bytes of its constant inputs, and for ops with a
 * kernel (conv, depthwise, FC, transpose conv) the sparsity and the most distinct values in one
 * output channel of that kernel; and, for one op at a time, its details: every input and output with
 * shape, dtype and quantization parameters, and a histogram of its kernel in real units.
 *
 * Kernels stored as FLOAT16 behind a DEQUANTIZE (MediaPipe) are found through it (kernelWeights),
 * so the conv shows its weights, and the DEQUANTIZE shows the bytes it holds.
 */
import { constantValues } from '../../engine/constants';
import { kernelWeights, storedValues } from '../../optimize/sparsity-report';
import { dtypeBytes, dtypeName } from '../../tflite/dtypes';
import type { ModelGraph, Tensor } from '../../tflite/graph';
import { opName } from '../../tflite/ops';
import { isConstant } from '../../tflite/queries';
import { elementCount } from '../../tflite/shape';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';

export interface OpFacts {
  opIndex: number;
  op: string;
  /** dtype of the first output. */
  dtype: string;
  /** dtype of the kernel (or of the largest constant input), if it has one. */
  weightDtype: string | null;
  /** Bytes of the op's constant inputs as stored. */
  weightBytes: number;
  /** Fraction of exact zeros in the kernel; null without a kernel. */
  sparsity: number | null;
  /** Most distinct stored values in one output channel of the kernel; null without a kernel. */
  distinctPerChannel: number | null;
  channels: number | null;
}

export interface TensorFacts {
  index: number;
  name: string;
  shape: number[];
  dtype: string;
  constant: boolean;
  bytes: number;
  /** Quantization parameters: the first few, with the count (per channel they can be thousands). */
  scales: number[];
  zeroPoints: number[];
  paramCount: number;
  quantizedDimension: number | null;
  /** Real range an integer tensor can represent: scale * (qmin - zp) .. scale * (qmax - zp), per tensor only. */
  range: [number, number] | null;
}

export interface Histogram {
  min: number;
  max: number;
  counts: number[];
  total: number;
  zeros: number;
}

export interface OpDetails {
  subgraph: number;
  opIndex: number;
  op: string;
  inputs: (TensorFacts | null)[];
  outputs: TensorFacts[];
  /** The kernel's values in real units (dequantized), when the op has one. */
  weights: { tensor: number; name: string; histogram: Histogram } | null;
}

const PARAMS_SHOWN = 8;
export const HISTOGRAM_BINS = 48;

const INTEGER_RANGE: Partial<Record<TensorType, [number, number]>> = {
  [TensorType.INT8]: [-128, 127],
  [TensorType.UINT8]: [0, 255],
  [TensorType.INT16]: [-32768, 32767],
};

export function tensorFacts(graph: ModelGraph, tensor: Tensor, index: number): TensorFacts {
  const q = tensor.quantization;
  const scales = q?.scale ?? [];
  const zeroPoints = q?.zeroPoint ?? [];
  const limits = INTEGER_RANGE[tensor.type];
  const range: [number, number] | null = limits && scales.length === 1 ? [scales[0] * (limits[0] - (zeroPoints[0] ?? 0)), scales[0] * (limits[1] - (zeroPoints[0] ?? 0))] : null;
  const constant = isConstant(graph, tensor);
  return {
    index,
    name: tensor.name,
    shape: tensor.shape,
    dtype: dtypeName(tensor.type),
    constant,
    bytes: constant ? graph.buffers[tensor.buffer].data.length : (dtypeBytes(tensor.type, elementCount(tensor.shape)) ?? 0),
    scales: scales.slice(0, PARAMS_SHOWN),
    zeroPoints: zeroPoints.slice(0, PARAMS_SHOWN),
    paramCount: scales.length,
    quantizedDimension: scales.length > 1 ? (q?.quantizedDimension ?? 0) : null,
    range,
  };
}

/** Histogram over [min, max] of the values, in bulk. */
export function histogram(values: ArrayLike<number>, bins = HISTOGRAM_BINS): Histogram {
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zeros++;
  }
  const counts = new Array<number>(bins).fill(0);
  if (!values.length) return { min: 0, max: 0, counts, total: 0, zeros: 0 };
  const width = (max - min) / bins || 1;
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - min) / width))]++;
  return { min, max, counts, total: values.length, zeros };
}

/** Most distinct values in one channel along `axis`: each channel's values are gathered, sorted and counted. */
export function maxDistinctPerChannel(values: Float32Array | Int16Array, shape: number[], axis: number): number {
  const channels = shape[axis] ?? 1;
  const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const outer = shape.slice(0, axis).reduce((a, d) => a * d, 1);
  const channel = new Float32Array(outer * inner);
  let most = 0;
  for (let c = 0; c < channels; c++) {
    for (let o = 0; o < outer; o++) channel.set(values.subarray((o * channels + c) * inner, (o * channels + c + 1) * inner), o * inner);
    channel.sort();
    let distinct = channel.length ? 1 : 0;
    for (let i = 1; i < channel.length; i++) if (channel[i] !== channel[i - 1]) distinct++;
    most = Math.max(most, distinct);
  }
  return most;
}

function countZeros(values: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros;
}

/** Each op's kernel: the tensor that stores it and its output-channel axis. */
function kernelsOf(graph: ModelGraph, subgraph: number): Map<number, { tensor: number; axis: number }> {
  return new Map(kernelWeights(graph).filter((k) => k.subgraph === subgraph).map((k) => [k.op, { tensor: k.tensor, axis: k.axis }]));
}

/** Facts of every op of a subgraph. `withWeights` also reads every kernel (sparsity, distinct values). */
export function opFacts(graph: ModelGraph, subgraphIndex: number, withWeights: boolean): OpFacts[] {
  const subgraph = graph.subgraphs[subgraphIndex];
  const kernels = kernelsOf(graph, subgraphIndex);
  return subgraph.operators.map((op, o) => {
    const constants = op.inputs.filter((t) => t >= 0 && isConstant(graph, subgraph.tensors[t]));
    const weightBytes = constants.reduce((n, t) => n + graph.buffers[subgraph.tensors[t].buffer].data.length, 0);
    const kernel = kernels.get(o);
    const biggest = constants.reduce((best, t) => (best < 0 || graph.buffers[subgraph.tensors[t].buffer].data.length > graph.buffers[subgraph.tensors[best].buffer].data.length ? t : best), -1);
    const weightTensor = kernel ? kernel.tensor : biggest;
    let sparsity: number | null = null;
    let distinct: number | null = null;
    if (withWeights && kernel) {
      const values = storedValues(graph, subgraphIndex, kernel.tensor);
      if (values && values.length) {
        sparsity = countZeros(values) / values.length;
        distinct = maxDistinctPerChannel(values, subgraph.tensors[kernel.tensor].shape, kernel.axis);
      }
    }
    const out = op.outputs[0];
    return {
      opIndex: o,
      op: opName(graph, op),
      dtype: out !== undefined && out >= 0 ? dtypeName(subgraph.tensors[out].type) : '—',
      weightDtype: weightTensor >= 0 ? dtypeName(subgraph.tensors[weightTensor].type) : null,
      weightBytes,
      sparsity,
      distinctPerChannel: distinct,
      channels: kernel ? (subgraph.tensors[kernel.tensor].shape[kernel.axis] ?? null) : null,
    };
  });
}

export function opDetails(graph: ModelGraph, subgraphIndex: number, opIndex: number): OpDetails {
  const subgraph = graph.subgraphs[subgraphIndex];
  const op = subgraph?.operators[opIndex];
  if (!op) throw new RangeError(`No op #${opIndex} in subgraph ${subgraphIndex}.`);
  const facts = (t: number) => tensorFacts(graph, subgraph.tensors[t], t);
  const kernel = kernelsOf(graph, subgraphIndex).get(opIndex);
  let weights: OpDetails['weights'] = null;
  if (kernel) {
    const tensor = subgraph.tensors[kernel.tensor];
    const values = constantValues(graph, tensor);
    if (values?.dtype === 'float32') weights = { tensor: kernel.tensor, name: tensor.name, histogram: histogram(values.values) };
  }
  return {
    subgraph: subgraphIndex,
    opIndex,
    op: opName(graph, op),
    inputs: op.inputs.map((t) => (t >= 0 ? facts(t) : null)),
    outputs: op.outputs.filter((t) => t >= 0).map(facts),
    weights,
  };
}
