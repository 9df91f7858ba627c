/**
 * Structural edits of a ModelGraph that keep every index right: adding and removing buffers,
 * tensors and operators, and copying a graph before changing it.
 */
import type { Buffer, ModelGraph, Operator, OperatorCode, Quantization, Subgraph, Tensor } from './graph';
import { builtinCodeOf } from './ops';
import { BuiltinOperator, BuiltinOptions, BuiltinOptions2, CustomOptionsFormat, QuantizationDetails, ReshapeOptionsT, TensorType } from './schema/generated/tflite_generated';

/**
 * A deep copy whose buffer *data* is shared with the original: optimizers replace `buffer.data`
 * with new arrays rather than writing into it, so sharing is safe and saves copying the weights.
 * Option objects keep their classes (they must still know how to pack themselves).
 */
export function cloneGraph(graph: ModelGraph): ModelGraph {
  return deepCopy(graph) as ModelGraph;
}

function deepCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(deepCopy);
  const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const [key, field] of Object.entries(value)) copy[key] = deepCopy(field);
  return copy;
}

/** A model with one empty subgraph "main" and the always-empty buffer 0, to build tests and benchmarks on. */
export function newGraph(description: string): ModelGraph {
  return {
    version: 3,
    description,
    operatorCodes: [],
    subgraphs: [{ name: 'main', tensors: [], inputs: [], outputs: [], operators: [], debugMetadataIndex: -1 }],
    buffers: [{ data: new Uint8Array(0) }],
    metadataBuffer: null,
    metadata: [],
    signatureDefs: [],
    externalBufferGroups: null,
    externalBuffers: null,
    appendedZip: null,
  };
}

export function addBuffer(graph: ModelGraph, data: Uint8Array): number {
  graph.buffers.push({ data });
  return graph.buffers.length - 1;
}

export function addTensor(subgraph: Subgraph, tensor: Tensor): number {
  subgraph.tensors.push(tensor);
  return subgraph.tensors.length - 1;
}

/** A tensor with the defaults TFLite assumes, for optimizers to fill in. */
export function newTensor(fields: Pick<Tensor, 'name' | 'type' | 'shape'> & Partial<Tensor>): Tensor {
  return {
    shapeSignature: null,
    buffer: 0,
    quantization: null,
    isVariable: false,
    sparsity: null,
    hasRank: fields.shape.length > 0,
    variantTensors: null,
    externalBuffer: 0,
    ...fields,
  };
}

/** Index of the opcode for `builtin` (and version), adding it when the model has none yet. */
export function opcodeIndex(graph: ModelGraph, builtin: BuiltinOperator, version = 1, customCode: string | null = null): number {
  const found = graph.operatorCodes.findIndex(
    (code) => builtinCodeOf(code) === builtin && code.version === version && (code.customCode ?? null) === customCode,
  );
  if (found >= 0) return found;
  const code: OperatorCode = {
    builtinCode: builtin,
    // Old runtimes read only this int8 field; 127 tells them to look at builtin_code.
    deprecatedBuiltinCode: Math.min(builtin, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES),
    customCode,
    version,
  };
  graph.operatorCodes.push(code);
  return graph.operatorCodes.length - 1;
}

/** A constant int32 1-D tensor holding `values` (axes, shapes...); returns its index. */
export function addInt32Constant(graph: ModelGraph, subgraph: Subgraph, name: string, values: readonly number[]): number {
  const buffer = addBuffer(graph, new Uint8Array(Int32Array.from(values).buffer));
  return addTensor(subgraph, newTensor({ name, type: TensorType.INT32, shape: [values.length], buffer }));
}

/**
 * Appends a RESHAPE of `input` to a new 1-D tensor of `length` values, `${name}_flat` (its shape
 * constant `${name}_shape`); `fields` sets the new tensor's type (default FLOAT32) and
 * quantization. Returns the new tensor's index.
 */
export function appendFlatten(graph: ModelGraph, subgraph: Subgraph, input: number, length: number, name: string, fields: Partial<Tensor> = {}): number {
  const shape = addInt32Constant(graph, subgraph, `${name}_shape`, [length]);
  const flat = addTensor(subgraph, newTensor({ name: `${name}_flat`, type: TensorType.FLOAT32, shape: [length], ...fields }));
  subgraph.operators.push(newOperator(opcodeIndex(graph, BuiltinOperator.RESHAPE, 1), [input, shape], [flat], BuiltinOptions.ReshapeOptions, new ReshapeOptionsT([length])));
  return flat;
}

/** An operator on an opcode already in the graph, with its builtin options (or none). */
export function newOperator(opcode: number, inputs: number[], outputs: number[], optionsType = BuiltinOptions.NONE, options: Operator['builtinOptions'] = null): Operator {
  return {
    opcodeIndex: opcode,
    inputs,
    outputs,
    builtinOptionsType: optionsType,
    builtinOptions: options,
    builtinOptions2Type: BuiltinOptions2.NONE,
    builtinOptions2: null,
    customOptions: null,
    customOptionsFormat: CustomOptionsFormat.FLEXBUFFERS,
    mutatingVariableInputs: null,
    intermediates: null,
    debugMetadataIndex: -1,
  };
}

/** An operator without options (QUANTIZE, DEQUANTIZE, ...), with its opcode found or added. */
export function plainOperator(graph: ModelGraph, builtin: BuiltinOperator, inputs: number[], outputs: number[], version = 1): Operator {
  return newOperator(opcodeIndex(graph, builtin, version), inputs, outputs);
}

/** Linear quantization parameters as a tensor carries them (per channel along `dimension`). */
export function linearQuantization(scale: number[], zeroPoint: number[], dimension = 0): Quantization {
  return { min: null, max: null, scale, zeroPoint, quantizedDimension: dimension, detailsType: QuantizationDetails.NONE, details: null };
}

/** Insert `op` before operator `at` (default: append), keeping the list in execution order. */
export function insertOperator(subgraph: Subgraph, op: Operator, at = subgraph.operators.length): number {
  subgraph.operators.splice(at, 0, op);
  return at;
}

export function removeOperators(subgraph: Subgraph, indices: Iterable<number>): void {
  const drop = new Set(indices);
  subgraph.operators = subgraph.operators.filter((_, o) => !drop.has(o));
}

/** Replace every read of tensor `from` by `to` (op inputs and subgraph outputs). */
export function rewireReaders(subgraph: Subgraph, from: number, to: number): void {
  for (const op of subgraph.operators) op.inputs = op.inputs.map((t) => (t === from ? to : t));
  subgraph.outputs = subgraph.outputs.map((t) => (t === from ? to : t));
}

/**
 * Drop tensors nothing refers to and renumber the rest everywhere they appear (operators,
 * subgraph I/O, signature maps). Returns the number removed.
 */
export function removeUnusedTensors(graph: ModelGraph, subgraphIndex: number): number {
  const subgraph = graph.subgraphs[subgraphIndex];
  const used = new Uint8Array(subgraph.tensors.length);
  const mark = (t: number) => {
    if (t >= 0) used[t] = 1;
  };
  subgraph.inputs.forEach(mark);
  subgraph.outputs.forEach(mark);
  for (const op of subgraph.operators) {
    op.inputs.forEach(mark);
    op.outputs.forEach(mark);
    op.intermediates?.forEach(mark);
  }
  const signatures = graph.signatureDefs.filter((s) => s.subgraphIndex === subgraphIndex);
  for (const s of signatures) [...s.inputs, ...s.outputs].forEach((m) => mark(m.tensorIndex));
  // Blockwise (and multi-axis) quantization keeps its scales in tensors no op reads.
  const details = subgraph.tensors.map((tensor, t) => detailTensors(tensor, t));
  details.forEach((d) => {
    if (d && used[d.owner]) [d.scales, d.zeroPoints].forEach(mark);
  });

  const newIndex = new Int32Array(subgraph.tensors.length).fill(-1);
  const kept: Tensor[] = [];
  subgraph.tensors.forEach((tensor, t) => {
    if (!used[t]) return;
    newIndex[t] = kept.length;
    kept.push(tensor);
  });
  const removed = subgraph.tensors.length - kept.length;
  if (removed === 0) return 0;
  const map = (t: number) => (t < 0 ? t : newIndex[t]);
  subgraph.tensors = kept;
  subgraph.inputs = subgraph.inputs.map(map);
  subgraph.outputs = subgraph.outputs.map(map);
  for (const op of subgraph.operators) {
    op.inputs = op.inputs.map(map);
    op.outputs = op.outputs.map(map);
    if (op.intermediates) op.intermediates = op.intermediates.map(map);
  }
  for (const s of signatures) for (const m of [...s.inputs, ...s.outputs]) m.tensorIndex = map(m.tensorIndex);
  for (const d of details) {
    if (!d || newIndex[d.owner] < 0) continue;
    d.target.scales = map(d.scales);
    d.target.zeroPoints = map(d.zeroPoints);
  }
  return removed;
}

/** The scale / zero-point tensor indices a tensor's quantization details refer to, if any. */
function detailTensors(tensor: Tensor, owner: number): { owner: number; scales: number; zeroPoints: number; target: { scales: number; zeroPoints: number } } | null {
  const q = tensor.quantization;
  if (!q || (q.detailsType !== QuantizationDetails.BlockwiseQuantization && q.detailsType !== QuantizationDetails.MultiAxisQuantization)) return null;
  const target = q.details as unknown as { scales: number; zeroPoints: number };
  return { owner, scales: target.scales, zeroPoints: target.zeroPoints, target };
}

/**
 * Drop buffers no tensor or metadata entry refers to, keeping buffer 0 (the empty buffer every
 * activation points at), and renumber references. Returns the number removed.
 */
export function removeUnusedBuffers(graph: ModelGraph): number {
  const used = new Uint8Array(graph.buffers.length);
  if (used.length) used[0] = 1;
  for (const subgraph of graph.subgraphs) for (const tensor of subgraph.tensors) used[tensor.buffer] = 1;
  for (const entry of graph.metadata) used[entry.buffer] = 1;
  for (const b of graph.metadataBuffer ?? []) if (b >= 0 && b < used.length) used[b] = 1;

  const newIndex = new Int32Array(graph.buffers.length).fill(-1);
  const kept: Buffer[] = [];
  graph.buffers.forEach((buffer, b) => {
    if (!used[b]) return;
    newIndex[b] = kept.length;
    kept.push(buffer);
  });
  const removed = graph.buffers.length - kept.length;
  if (removed === 0) return 0;
  graph.buffers = kept;
  for (const subgraph of graph.subgraphs) for (const tensor of subgraph.tensors) tensor.buffer = newIndex[tensor.buffer];
  for (const entry of graph.metadata) entry.buffer = newIndex[entry.buffer];
  if (graph.metadataBuffer) graph.metadataBuffer = graph.metadataBuffer.map((b) => newIndex[b] ?? b);
  return removed;
}
