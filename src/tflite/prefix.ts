/**
 * The part of a subgraph that computes some of its tensors: the ops those tensors depend on (in their
 * order), with those tensors as the outputs. For runs that only read early tensors: LiteRT runs every
 * op of a model whether an output needs it or not, so a tensor halfway through costs a whole forward
 * pass unless the ops after it are cut away.
 */
import { cloneGraph } from './edit';
import type { ModelGraph } from './graph';

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
