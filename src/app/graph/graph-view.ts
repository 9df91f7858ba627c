/**
 * The drawable form of a subgraph: op nodes, a node per subgraph input and output tensor, and one
 * edge per (producer, consumer, activation tensor). Constant tensors (weights, biases) are not
 * nodes: they belong to the op that reads them and are listed in its node and its details, as
 * Netron and Model Explorer draw them. Plain data, so it crosses the worker boundary as it is.
 */
import { dtypeName } from '../../tflite/dtypes';
import type { ModelGraph } from '../../tflite/graph';
import { opName } from '../../tflite/ops';
import { isConstant, producers } from '../../tflite/queries';

export type NodeKind = 'op' | 'input' | 'output' | 'chain';

export interface ViewNode {
  id: string;
  kind: NodeKind;
  /** Op nodes: the op's index in its subgraph. Chain nodes: the first op of the chain. */
  opIndex?: number;
  /** Input / output nodes: the tensor. */
  tensor?: number;
  /** Chain nodes: every op folded into it, in order. */
  ops?: number[];
  /** Op and chain nodes: every tensor they read or write, constants included (search by tensor name). */
  tensors?: number[];
  label: string;
  /** Second line: an op's constant inputs ("w 32x3x3x16 INT8"), a tensor's shape and dtype. */
  detail: string;
  width: number;
  height: number;
}

export interface ViewEdge {
  id: string;
  from: string;
  to: string;
  tensor: number;
}

export interface SubgraphView {
  subgraph: number;
  name: string;
  nodes: ViewNode[];
  edges: ViewEdge[];
  /** Op count of the subgraph (every op has a node unless chains are collapsed). */
  opCount: number;
  /** Tensor names, by tensor index: search looks tensors up here. */
  tensorNames: string[];
}

export const OP_SIZE = { width: 168, height: 42 } as const;
export const TENSOR_SIZE = { width: 150, height: 30 } as const;

export const opNodeId = (opIndex: number) => `op:${opIndex}`;

const shapeText = (shape: number[]) => (shape.length ? shape.join('×') : 'scalar');

/** Every subgraph's view, in file order. */
export function buildGraphViews(graph: ModelGraph): SubgraphView[] {
  return graph.subgraphs.map((_, s) => buildSubgraphView(graph, s));
}

export function buildSubgraphView(graph: ModelGraph, subgraphIndex: number): SubgraphView {
  const subgraph = graph.subgraphs[subgraphIndex];
  const producer = producers(subgraph);
  const tensors = subgraph.tensors;
  const constant = tensors.map((t) => isConstant(graph, t));
  const nodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  // Where each activation tensor comes from: its producer op, or a tensor node of its own.
  const source = new Map<number, string>();
  const tensorNode = (t: number, kind: 'input' | 'output') => {
    const tensor = tensors[t];
    const node: ViewNode = { id: `${kind === 'input' ? 'in' : 'out'}:${t}`, kind, tensor: t, label: tensor.name || `tensor ${t}`, detail: `${shapeText(tensor.shape)} ${dtypeName(tensor.type)}`, ...TENSOR_SIZE };
    nodes.push(node);
    return node.id;
  };
  for (const t of subgraph.inputs) if (t >= 0 && !source.has(t)) source.set(t, tensorNode(t, 'input'));
  subgraph.operators.forEach((op, o) => {
    const weights = op.inputs.filter((t) => t >= 0 && constant[t]);
    const detail = weights.map((t) => `${shapeText(tensors[t].shape)} ${dtypeName(tensors[t].type)}`).join(', ');
    nodes.push({ id: opNodeId(o), kind: 'op', opIndex: o, label: opName(graph, op), detail, tensors: [...op.inputs, ...op.outputs].filter((t) => t >= 0), ...OP_SIZE });
    for (const t of op.outputs) if (t >= 0) source.set(t, opNodeId(o));
  });
  // Activations nothing writes (variable state, inputs the subgraph does not declare) get a node too.
  subgraph.operators.forEach((op) => {
    for (const t of op.inputs) if (t >= 0 && !constant[t] && !source.has(t) && producer[t] < 0) source.set(t, tensorNode(t, 'input'));
  });
  subgraph.operators.forEach((op, o) => {
    const seen = new Set<number>();
    for (const t of op.inputs) {
      if (t < 0 || constant[t] || seen.has(t)) continue;
      seen.add(t);
      edges.push({ id: `e${t}:${o}`, from: source.get(t)!, to: opNodeId(o), tensor: t });
    }
  });
  for (const t of subgraph.outputs) {
    if (t < 0) continue;
    const from = source.get(t);
    const out = tensorNode(t, 'output');
    if (from) edges.push({ id: `e${t}:out`, from, to: out, tensor: t });
  }
  return { subgraph: subgraphIndex, name: subgraph.name || `subgraph ${subgraphIndex}`, nodes, edges, opCount: subgraph.operators.length, tensorNames: tensors.map((t) => t.name) };
}
