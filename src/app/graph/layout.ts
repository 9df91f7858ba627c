/**
 * Layered layout of a subgraph view with dagre (@dagrejs/dagre): chosen over elkjs because it starts
 * and lays out pose_landmark_lite (305 ops) several times faster in a fresh worker, which is what the
 * page waits for (bench/graph-layout.ts prints both). Runs in workers/graph.worker.ts, never on the page.
 */
import dagre from '@dagrejs/dagre';
import type { SubgraphView } from './graph-view';

export interface PlacedNode {
  id: string;
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  id: string;
  from: string;
  to: string;
  tensor: number;
  /** Polyline, x0 y0 x1 y1 ... from the source node's border to the target's. */
  points: number[];
}

export interface GraphLayout {
  width: number;
  height: number;
  /** In the view's node order. */
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** Wall time of the layout itself. */
  elapsedMs: number;
}

const SPACING = { nodesep: 28, ranksep: 40, edgesep: 12, marginx: 20, marginy: 20 } as const;

export function layoutView(view: SubgraphView): GraphLayout {
  const started = performance.now();
  // A multigraph: two ops may be joined by several tensors (e.g. a split's outputs into one concat).
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', ...SPACING });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of view.nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const e of view.edges) g.setEdge(e.from, e.to, {}, e.id);
  dagre.layout(g);
  const nodes = view.nodes.map((n) => {
    const placed = g.node(n.id);
    return { id: n.id, x: placed.x! - n.width / 2, y: placed.y! - n.height / 2, width: n.width, height: n.height };
  });
  const edges = view.edges.map((e) => {
    const label = g.edge(e.from, e.to, e.id);
    return { id: e.id, from: e.from, to: e.to, tensor: e.tensor, points: ((label.points ?? []) as { x: number; y: number }[]).flatMap((p) => [p.x, p.y]) };
  });
  const size = g.graph();
  return { width: size.width ?? 0, height: size.height ?? 0, nodes, edges, elapsedMs: performance.now() - started };
}
