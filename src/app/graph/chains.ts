/**
 * Collapsing long chains: a run of ops where each feeds only the next and the next reads only it
 * (conv -> relu -> pad -> ...) becomes one node, so a 1,000-op graph reads at a glance. A chain
 * stays expanded when its id is in `expanded` (the user opened it).
 *
 * Ops that read nothing and feed one op (the DEQUANTIZE of float16 weights in MediaPipe models) are
 * that op's satellites: they do not break a chain, and fold into it with the op they feed.
 */
import type { SubgraphView, ViewEdge, ViewNode } from './graph-view';
import { OP_SIZE } from './graph-view';

export const MIN_CHAIN = 4;

/** The chains of `view` with at least `minLength` ops (satellites not counted), each as op indices in order. */
export function findChains(view: SubgraphView, minLength = MIN_CHAIN): number[][] {
  const outs = new Map<string, Set<string>>();
  const ins = new Map<string, Set<string>>();
  for (const e of view.edges) {
    if (!outs.has(e.from)) outs.set(e.from, new Set());
    if (!ins.has(e.to)) ins.set(e.to, new Set());
    outs.get(e.from)!.add(e.to);
    ins.get(e.to)!.add(e.from);
  }
  const ops = view.nodes.filter((n) => n.kind === 'op');
  const isOp = new Set(ops.map((n) => n.id));
  const satellites = new Map<string, string[]>();
  for (const n of ops) {
    const to = outs.get(n.id);
    if (ins.has(n.id) || !to || to.size !== 1) continue;
    const [target] = to;
    satellites.set(target, [...(satellites.get(target) ?? []), n.id]);
    ins.get(target)!.delete(n.id);
    isOp.delete(n.id);
  }
  // a -> b links when a feeds only b (and no subgraph output) and b reads only a.
  const next = new Map<string, string>();
  const hasPrev = new Set<string>();
  for (const n of ops) {
    const to = outs.get(n.id);
    if (!isOp.has(n.id) || !to || to.size !== 1) continue;
    const [b] = to;
    if (isOp.has(b) && ins.get(b)?.size === 1) {
      next.set(n.id, b);
      hasPrev.add(b);
    }
  }
  const byId = new Map(ops.map((n) => [n.id, n]));
  const chains: number[][] = [];
  for (const n of ops) {
    if (!isOp.has(n.id) || hasPrev.has(n.id) || !next.has(n.id)) continue;
    const members = [n.id];
    for (let id = next.get(n.id); id; id = next.get(id)) members.push(id);
    if (members.length < minLength) continue;
    const withSatellites = members.flatMap((id) => [...(satellites.get(id) ?? []), id]);
    chains.push(withSatellites.map((id) => byId.get(id)!.opIndex!).sort((a, b) => a - b));
  }
  return chains;
}

export const chainId = (chain: number[]) => `chain:${chain[0]}-${chain[chain.length - 1]}`;

/** The view with every chain not in `expanded` folded into one node; edges rewired to it. */
export function collapseChains(view: SubgraphView, expanded: ReadonlySet<string> = new Set(), minLength = MIN_CHAIN): SubgraphView {
  const folded = new Map<string, string>();
  const chainNodes = new Map<string, ViewNode>();
  const label = new Map(view.nodes.map((n) => [n.id, n.label]));
  const byOp = new Map(view.nodes.map((n) => [n.id, n]));
  for (const chain of findChains(view, minLength)) {
    const id = chainId(chain);
    if (expanded.has(id)) continue;
    const labels = chain.map((o) => label.get(`op:${o}`)!);
    const tensors = [...new Set(chain.flatMap((o) => byOp.get(`op:${o}`)?.tensors ?? []))];
    chainNodes.set(`op:${chain[0]}`, { id, kind: 'chain', opIndex: chain[0], ops: chain, label: `${chain.length} ops: ${labels[0]} … ${labels[labels.length - 1]}`, detail: labels.join(' → '), tensors, ...OP_SIZE });
    for (const o of chain) folded.set(`op:${o}`, id);
  }
  if (!folded.size) return view;
  const nodes: ViewNode[] = [];
  for (const n of view.nodes) {
    if (!folded.has(n.id)) nodes.push(n);
    else if (chainNodes.has(n.id)) nodes.push(chainNodes.get(n.id)!);
  }
  const edges: ViewEdge[] = [];
  for (const e of view.edges) {
    const from = folded.get(e.from) ?? e.from;
    const to = folded.get(e.to) ?? e.to;
    if (from !== to) edges.push({ ...e, from, to });
  }
  return { ...view, nodes, edges };
}
