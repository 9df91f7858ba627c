/**
 * float16 storage: float32 constants stored as FLOAT16, with a DEQUANTIZE in front of their
 * consumers, as Google's converter writes them. Compute stays float32, the file halves.
 */
import { cloneGraph, newTensor, plainOperator } from '../../tflite/edit';
import type { ModelGraph, Operator } from '../../tflite/graph';
import { isConstant } from '../../tflite/queries';
import { BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { elementCount } from '../../tflite/summary';
import { constantAsFloat32, dropUnused, foldConstantDequantize } from './fold-dequantize';
import { toFloat16 } from '../../tflite/dtypes';
import { bytesOf } from './params';

export interface Float16Result {
  graph: ModelGraph;
  converted: number;
  notes: string[];
}

/** A DEQUANTIZE op (also used by weight-only int8). */
export function dequantizeOp(graph: ModelGraph, input: number, output: number, version: number): Operator {
  return plainOperator(graph, BuiltinOperator.DEQUANTIZE, [input], [output], version);
}

/**
 * Stores tensor t's data as `storage` (a new constant tensor) and turns t itself into the output
 * of a DEQUANTIZE placed first in the subgraph: consumers keep reading t and see float32. Storage
 * bytes met before (the same array, for tensors that shared a buffer) reuse their buffer through
 * `buffers`, so weight sharing survives.
 */
export function storeBehindDequantize(
  graph: ModelGraph,
  s: number,
  t: number,
  storage: { type: TensorType; data: Uint8Array; quantization: ModelGraph['subgraphs'][0]['tensors'][0]['quantization'] },
  version: number,
  prologue: Operator[],
  buffers: Map<Uint8Array, number>,
): void {
  const subgraph = graph.subgraphs[s];
  const tensor = subgraph.tensors[t];
  let buffer = buffers.get(storage.data);
  if (buffer === undefined) {
    graph.buffers.push({ data: storage.data });
    buffer = graph.buffers.length - 1;
    buffers.set(storage.data, buffer);
  }
  subgraph.tensors.push({
    ...newTensor({ name: tensor.name, type: storage.type, shape: [...tensor.shape] }),
    buffer,
    quantization: storage.quantization,
    hasRank: tensor.hasRank,
  });
  const stored = subgraph.tensors.length - 1;
  tensor.buffer = 0;
  tensor.name = `${tensor.name}_dequantize`;
  prologue.push(dequantizeOp(graph, stored, t, version));
}

export function quantizeFloat16(source: ModelGraph, minElements = 1): Float16Result {
  const graph = cloneGraph(source);
  const notes: string[] = [];
  const alreadyHalf = graph.subgraphs.some((s) => s.tensors.some((t) => t.type === TensorType.FLOAT16 && isConstant(graph, t)));
  const folded = foldConstantDequantize(graph);
  if (alreadyHalf) notes.push(`the model already stored weights as float16; ${folded} DEQUANTIZE op(s) were folded and the weights re-stored`);
  const converted = storeFloatConstantsAsFloat16(graph, minElements);
  if (converted === 0) notes.push('no float32 constants to store as float16');
  return { graph, converted, notes };
}

/**
 * Stores every float32 constant of `graph` (in place) as FLOAT16 behind a DEQUANTIZE, and drops what
 * that leaves unused; returns how many tensors it stored. In a quantized model the float32 constants
 * left are those of the ops kept in float (recipe floatWeights 'float16').
 */
export function storeFloatConstantsAsFloat16(graph: ModelGraph, minElements = 1): number {
  let converted = 0;
  const shared = new Map<number, Uint8Array>(); // float32 buffer -> its float16 bytes
  const stored = new Map<Uint8Array, number>();
  graph.subgraphs.forEach((subgraph, s) => {
    const prologue: Operator[] = [];
    const count = subgraph.tensors.length;
    for (let t = 0; t < count; t++) {
      const tensor = subgraph.tensors[t];
      if (tensor.type !== TensorType.FLOAT32 || !isConstant(graph, tensor) || tensor.isVariable) continue;
      if (elementCount(tensor.shape) < minElements) continue;
      const half = shared.get(tensor.buffer) ?? bytesOf(toFloat16(constantAsFloat32(graph, s, t)));
      shared.set(tensor.buffer, half);
      storeBehindDequantize(graph, s, t, { type: TensorType.FLOAT16, data: half, quantization: null }, 3, prologue, stored);
      converted++;
    }
    subgraph.operators = [...prologue, ...subgraph.operators];
  });
  dropUnused(graph);
  return converted;
}
