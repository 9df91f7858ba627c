/**
 * Following one op across models: the float model's ops are the common ground, a variant's op maps to
 * its float op and on to another variant's (through matchOps), and an op shows as its own node or as
 * the collapsed chain holding it. The graph, the diff and the per-layer chart select through this.
 */
import type { SubgraphView, ViewNode } from './graph-view';
import type { OpDiff } from './op-match';

/** Maps op `opIndex` of model `from` ('float' or a variant key) to model `to`; null if it has no match. */
export function mapOp(opIndex: number, from: string, to: string, diffs: ReadonlyMap<string, OpDiff>): number | null {
  if (from === to) return opIndex;
  const floatOp = from === 'float' ? opIndex : (diffs.get(from)?.variant[opIndex]?.floatOp ?? null);
  if (floatOp === null) return null;
  return to === 'float' ? floatOp : (diffs.get(to)?.float[floatOp]?.variantOp ?? null);
}

/** The node showing op `opIndex`: its own, or the collapsed chain holding it. */
export function nodeOfOp(view: SubgraphView, opIndex: number): ViewNode | undefined {
  return view.nodes.find((n) => (n.kind === 'op' && n.opIndex === opIndex) || (n.kind === 'chain' && n.ops!.includes(opIndex)));
}
