/**
 * The part of a subgraph that computes some of its tensors: the ops those tensors depend on (in their
 * order), with those tensors as the outputs. For runs that only read early tensors: LiteRT runs every
 * op of a model whether an output needs it or not, so a tensor halfway through costs a whole forward
 * pass unless the ops after it are cut away.
 */
import { cloneGraph } from './edit';
import type { ModelGraph } from './graph';
import { isConstant } from './queries';

/** A copy of `graph` (buffers shared) whose subgraph `subgraphIndex` keeps only the ops `tensors` need and outputs them. */
export function prefixGraph(graph: ModelGraph, subgraphIndex: number, tensors: number[]): ModelGraph {
  const copy = cloneGraph(graph);
  const subgraph = copy.subgraphs[subgraphIndex];
  const writer = new Map<number, number>();
  subgraph.operators.forEach((op, o) => op.outputs.forEach((t) => writer.set(t, o)));
  const needed = new Set<number>();
  const pending = [...tensors];
  while (pending.length) {
    const o = writer.get(pending.pop()!);
    if (o === undefined || needed.has(o)) continue;
    needed.add(o);
    for (const t of subgraph.operators[o].inputs) if (t >= 0) pending.push(t);
  }
  subgraph.operators = subgraph.operators.filter((_, o) => needed.has(o));
  subgraph.outputs = [...tensors];
  for (const def of copy.signatureDefs) {
    if (def.subgraphIndex !== subgraphIndex) continue;
    def.outputs = tensors.map((t) => ({ name: subgraph.tensors[t].name, tensorIndex: t }));
  }
  return copy;
}

/** A run of consecutive ops cut out of a subgraph, as a model of its own (see segmentGraph). */
export interface Segment {
  graph: ModelGraph;
  /** The segment's inputs, tensor indices of the subgraph in the order the model takes them. */
  inputs: number[];
  /** Its outputs, tensor indices in the order the model returns them. */
  outputs: number[];
  /** The names LiteRT reports for `inputs` and `outputs` (its signature's names). */
  inputNames: string[];
  outputNames: string[];
}

/** The tensors still needed before op `at` runs: read by op `at` or a later one (constants aside). */
export function liveBefore(graph: ModelGraph, subgraphIndex: number, at: number): Set<number> {
  const subgraph = graph.subgraphs[subgraphIndex];
  const live = new Set<number>();
  for (let o = at; o < subgraph.operators.length; o++) {
    for (const t of subgraph.operators[o].inputs) if (t >= 0 && !isConstant(graph, subgraph.tensors[t])) live.add(t);
  }
  return live;
}

/**
 * Ops `fromOp`..`toOp` (both included, file order, which is TFLite's execution order) of a subgraph as
 * a model: its inputs are the tensors those ops read that an earlier op wrote (the subgraph's own
 * inputs, in their signature's order and with its names, when `fromOp` is 0), its outputs the tensors
 * the ops before `toOp` write that `toOp` or a later op reads (what a following segment starting at
 * `toOp` needs), then `extra` (say `toOp`'s own output). Running the subgraph segment after segment, each fed the
 * values the ones before produced, computes what one whole run computes, and a change to an op's
 * bias only needs the segments from that op on run again.
 */
export function segmentGraph(graph: ModelGraph, subgraphIndex: number, fromOp: number, toOp: number, extra: number[] = []): Segment {
  const copy = cloneGraph(graph);
  const subgraph = copy.subgraphs[subgraphIndex];
  const ops = subgraph.operators.slice(fromOp, toOp + 1);
  const written = new Set(ops.flatMap((op) => op.outputs).filter((t) => t >= 0));
  const def = copy.signatureDefs.find((d) => d.subgraphIndex === subgraphIndex);
  let inputs: number[];
  // From op 0: the model's own inputs, in the order its signature gives them (what samples follow).
  if (fromOp === 0) inputs = def ? def.inputs.map((m) => m.tensorIndex) : [...subgraph.inputs];
  else {
    const read = new Set<number>();
    for (const op of ops) for (const t of op.inputs) if (t >= 0 && !written.has(t) && !isConstant(copy, subgraph.tensors[t])) read.add(t);
    inputs = [...read].sort((a, b) => a - b);
  }
  // What a segment starting at toOp reads from this one: written before toOp, read by toOp or later.
  const next = liveBefore(copy, subgraphIndex, toOp);
  const writtenBefore = ops.slice(0, -1).flatMap((op) => op.outputs).filter((t) => t >= 0 && next.has(t));
  const outputs = [...new Set([...writtenBefore.sort((a, b) => a - b), ...extra])];
  subgraph.operators = ops;
  subgraph.inputs = inputs;
  subgraph.outputs = outputs;
  // New inputs and outputs are named `t<index>`, unique whatever the tensor names are; the model's own
  // inputs keep their names. LiteRT reports a signature's names, or the tensors' without one (renamed
  // in the copy then, and no signature added, so the inputs keep the order LiteRT gives them).
  const name = (t: number) => `t${t}`;
  const kept = new Map((def?.inputs ?? []).map((m) => [m.tensorIndex, m.name]));
  const inputNames = inputs.map((t) => (fromOp === 0 ? (def ? kept.get(t)! : subgraph.tensors[t].name) : name(t)));
  const outputNames = outputs.map(name);
  if (def) {
    def.inputs = inputs.map((t, k) => ({ name: inputNames[k], tensorIndex: t }));
    def.outputs = outputs.map((t, k) => ({ name: outputNames[k], tensorIndex: t }));
  } else {
    const renamed = fromOp === 0 ? outputs : [...inputs, ...outputs];
    for (const t of renamed) subgraph.tensors[t] = { ...subgraph.tensors[t], name: name(t) };
  }
  return { graph: copy, inputs, outputs, inputNames, outputNames };
}
