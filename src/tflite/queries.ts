/** Read-only questions about a ModelGraph that optimizers ask again and again. */
import { WorkbenchError } from '../errors';
import type { ModelGraph, Subgraph, Tensor } from './graph';

/** For each tensor, the index of the operator that writes it, or -1 (inputs, constants). */
export function producers(subgraph: Subgraph): Int32Array {
  const result = new Int32Array(subgraph.tensors.length).fill(-1);
  subgraph.operators.forEach((op, o) => {
    for (const t of op.outputs) result[t] = o;
  });
  return result;
}

/** For each tensor, the indices of the operators that read it (in operator order). */
export function consumers(subgraph: Subgraph): number[][] {
  const result: number[][] = subgraph.tensors.map(() => []);
  subgraph.operators.forEach((op, o) => {
    for (const t of op.inputs) if (t >= 0 && !result[t].includes(o)) result[t].push(o);
  });
  return result;
}

/**
 * Operator indices in an order where every op comes after the producers of its inputs. Stored
 * order already is one for files from the converter; this is for graphs an optimizer edited.
 */
export function topologicalOrder(subgraph: Subgraph): number[] {
  const producer = producers(subgraph);
  const readers = consumers(subgraph);
  const pending = subgraph.operators.map((op) => new Set(op.inputs.filter((t) => t >= 0 && producer[t] >= 0).map((t) => producer[t])).size);
  const ready = pending.flatMap((n, o) => (n === 0 ? [o] : []));
  const order: number[] = [];
  while (ready.length) {
    const o = ready.shift()!;
    order.push(o);
    const next = new Set(subgraph.operators[o].outputs.flatMap((t) => readers[t]));
    for (const reader of next) if (--pending[reader] === 0) ready.push(reader);
  }
  if (order.length !== subgraph.operators.length) {
    throw new WorkbenchError('malformed', 'The graph has a cycle: some operators read what they (indirectly) write.');
  }
  return order;
}

/** A constant (weight) tensor has data in its buffer; everything else is an activation or input. */
/**
 * The tensor's shape when it is known and static, else null: a rank is stored, no dimension is
 * unknown, and the shape signature agrees (a leading -1, a dynamic batch, counts as the stored
 * size: LiteRT.js runs it pinned, see runtime/prepare.ts).
 */
export function staticShape(tensor: Tensor): number[] | null {
  if (!tensor.hasRank && tensor.shape.length === 0) return null;
  if (tensor.shape.some((d) => !(d >= 0))) return null;
  if (tensor.shapeSignature?.some((d, i) => d !== tensor.shape[i] && !(i === 0 && d === -1))) return null;
  return tensor.shape;
}

export function isConstant(graph: ModelGraph, tensor: Tensor): boolean {
  return (graph.buffers[tensor.buffer]?.data.length ?? 0) > 0;
}

export interface BufferUse {
  subgraph: number;
  tensor: number;
}

/** Who reads each non-empty buffer; a buffer with more than one user is shared (weight tying). */
export function bufferUsers(graph: ModelGraph): Map<number, BufferUse[]> {
  const users = new Map<number, BufferUse[]>();
  graph.subgraphs.forEach((subgraph, s) =>
    subgraph.tensors.forEach((tensor, t) => {
      if (!isConstant(graph, tensor)) return;
      const list = users.get(tensor.buffer) ?? [];
      list.push({ subgraph: s, tensor: t });
      users.set(tensor.buffer, list);
    }),
  );
  return users;
}

export function sharedBuffers(graph: ModelGraph): number[] {
  return [...bufferUsers(graph)].filter(([, users]) => users.length > 1).map(([buffer]) => buffer);
}
