/**
 * What pruning and clustering left in a model, per weight tensor and per model: sparsity, distinct
 * values (per tensor, and the most in one output channel), bytes, and the model's raw and gzip
 * (level 9) sizes with their ratios to the float reference. Weights are found wherever they are
 * stored: float32 constants, int8 constants (integer or hybrid ops), or constants behind a
 * DEQUANTIZE (float16, weight-only int8).
 */
import { modelSize, type ModelSize } from '../tflite/size';
import type { ModelGraph } from '../tflite/graph';
import { builtinCodeOf, opName } from '../tflite/ops';
import { isConstant, producers } from '../tflite/queries';
import { readModel } from '../tflite/read';
import { BuiltinOperator as Op, TensorType } from '../tflite/schema/generated/tflite_generated';
import { elementCount } from '../tflite/summary';
import { fromFloat16 } from '../tflite/dtypes';

/** Weight input and output-channel axis of the ops whose weights we report. */
const KERNELS: Partial<Record<Op, { input: number; axis: number }>> = {
  [Op.CONV_2D]: { input: 1, axis: 0 },
  [Op.DEPTHWISE_CONV_2D]: { input: 1, axis: 3 },
  [Op.FULLY_CONNECTED]: { input: 1, axis: 0 },
  [Op.TRANSPOSE_CONV]: { input: 1, axis: 0 },
  [Op.CONV_3D]: { input: 1, axis: 4 },
};

export interface WeightTensorReport {
  subgraph: number;
  /** The tensor holding the stored data (the DEQUANTIZE input when there is one). */
  tensor: number;
  name: string;
  op: string;
  dtype: string;
  shape: number[];
  elements: number;
  zeros: number;
  sparsity: number;
  distinct: number;
  maxDistinctPerChannel: number;
  bytes: number;
}

export interface ModelWeightReport {
  size: ModelSize;
  reference?: ModelSize;
  rawRatio?: number;
  gzipRatio?: number;
  weights: WeightTensorReport[];
  /** Over all reported weight tensors. */
  elements: number;
  zeros: number;
  sparsity: number;
}

/** Values of a stored weight tensor in a comparable form: float32, float16 as float, int8 minus zero point. */
export function storedValues(graph: ModelGraph, s: number, t: number): Float32Array | Int16Array | null {
  const tensor = graph.subgraphs[s].tensors[t];
  const bytes = graph.buffers[tensor.buffer].data;
  const n = elementCount(tensor.shape);
  const copy = bytes.slice();
  switch (tensor.type) {
    case TensorType.FLOAT32:
      return new Float32Array(copy.buffer, 0, n);
    case TensorType.FLOAT16:
      return fromFloat16(new Uint16Array(copy.buffer, 0, n));
    case TensorType.INT8:
    case TensorType.UINT8: {
      const raw = tensor.type === TensorType.INT8 ? new Int8Array(copy.buffer, 0, n) : new Uint8Array(copy.buffer, 0, n);
      const q = tensor.quantization;
      const zps = q?.zeroPoint ?? [0];
      const channels = zps.length;
      const inner = channels > 1 ? tensor.shape.slice((q?.quantizedDimension ?? 0) + 1).reduce((a, d) => a * d, 1) : n;
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = raw[i] - (zps[channels > 1 ? Math.floor(i / inner) % channels : 0] ?? 0);
      return out;
    }
    default:
      return null;
  }
}

function distinctCount(values: ArrayLike<number>, start = 0, stride = 1, count = values.length): number {
  const set = new Set<number>();
  for (let i = 0, j = start; i < count; i++, j += stride) set.add(values[j]);
  return set.size;
}

function maxDistinctPerChannel(values: Float32Array | Int16Array, shape: number[], axis: number): number {
  const channels = shape[axis] ?? 1;
  const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const outer = shape.slice(0, axis).reduce((a, d) => a * d, 1);
  let most = 0;
  for (let c = 0; c < channels; c++) {
    const set = new Set<number>();
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) set.add(values[base + i]);
    }
    most = Math.max(most, set.size);
  }
  return most;
}

/** Every kernel weight of the model, where it is stored, keyed by the op's weight input. */
export function kernelWeights(graph: ModelGraph): { subgraph: number; op: number; tensor: number; axis: number }[] {
  const found: { subgraph: number; op: number; tensor: number; axis: number }[] = [];
  graph.subgraphs.forEach((subgraph, s) => {
    const producer = producers(subgraph);
    subgraph.operators.forEach((op, o) => {
      const kernel = KERNELS[builtinCodeOf(graph.operatorCodes[op.opcodeIndex])];
      if (!kernel) return;
      let t = op.inputs[kernel.input];
      if (t === undefined || t < 0) return;
      if (!isConstant(graph, subgraph.tensors[t])) {
        const p = producer[t];
        if (p < 0) return;
        const dq = subgraph.operators[p];
        if (builtinCodeOf(graph.operatorCodes[dq.opcodeIndex]) !== Op.DEQUANTIZE) return;
        t = dq.inputs[0];
        if (!isConstant(graph, subgraph.tensors[t])) return;
      }
      found.push({ subgraph: s, op: o, tensor: t, axis: kernel.axis });
    });
  });
  return found;
}

export function weightReport(model: Uint8Array | { graph: ModelGraph; bytes: Uint8Array }, reference?: Uint8Array | ModelSize): ModelWeightReport {
  const bytes = model instanceof Uint8Array ? model : model.bytes;
  const graph = model instanceof Uint8Array ? readModel(model) : model.graph;
  const weights: WeightTensorReport[] = [];
  const seen = new Set<string>();
  for (const k of kernelWeights(graph)) {
    const key = `${k.subgraph}:${k.tensor}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const tensor = graph.subgraphs[k.subgraph].tensors[k.tensor];
    const values = storedValues(graph, k.subgraph, k.tensor);
    if (!values) continue;
    let zeros = 0;
    for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
    weights.push({
      subgraph: k.subgraph,
      tensor: k.tensor,
      name: tensor.name,
      op: opName(graph, graph.subgraphs[k.subgraph].operators[k.op]),
      dtype: TensorType[tensor.type],
      shape: [...tensor.shape],
      elements: values.length,
      zeros,
      sparsity: values.length ? zeros / values.length : 0,
      distinct: distinctCount(values),
      maxDistinctPerChannel: maxDistinctPerChannel(values, tensor.shape, k.axis),
      bytes: graph.buffers[tensor.buffer].data.length,
    });
  }
  const size = modelSize(bytes);
  const elements = weights.reduce((n, w) => n + w.elements, 0);
  const zeros = weights.reduce((n, w) => n + w.zeros, 0);
  const report: ModelWeightReport = { size, weights, elements, zeros, sparsity: elements ? zeros / elements : 0 };
  if (reference) {
    const r = reference instanceof Uint8Array ? modelSize(reference) : reference;
    report.reference = r;
    report.rawRatio = size.rawBytes / r.rawBytes;
    report.gzipRatio = size.gzipBytes / r.gzipBytes;
  }
  return report;
}

/** Weights by name, for comparing a model before and after a step. */
export function weightsByName(graph: ModelGraph): Map<string, Float32Array | Int16Array> {
  const map = new Map<string, Float32Array | Int16Array>();
  for (const k of kernelWeights(graph)) {
    const name = graph.subgraphs[k.subgraph].tensors[k.tensor].name;
    const values = storedValues(graph, k.subgraph, k.tensor);
    if (values && !map.has(name)) map.set(name, values);
  }
  return map;
}

/** A fixed-width text table of a report, for the CLI and benchmarks. */
export function reportTable(report: ModelWeightReport): string {
  const lines = ['| weight | op | dtype | elements | sparsity | distinct | max distinct / channel |', '|---|---|---|---|---|---|---|'];
  for (const w of report.weights) {
    lines.push(`| ${w.name} | ${w.op} | ${w.dtype} | ${w.elements} | ${w.sparsity.toFixed(3)} | ${w.distinct} | ${w.maxDistinctPerChannel} |`);
  }
  const ratio = report.gzipRatio !== undefined ? ` (${report.rawRatio!.toFixed(3)}x raw, ${report.gzipRatio.toFixed(3)}x gzip of the input model)` : '';
  lines.push('', `model: ${report.size.rawBytes} bytes raw, ${report.size.gzipBytes} gzip${ratio}; sparsity ${report.sparsity.toFixed(3)} of ${report.elements} kernel weights`);
  return lines.join('\n');
}
