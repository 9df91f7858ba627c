/**
 * Layout time of the graph view (src/app/graph/layout.ts, dagre) against elkjs's layered algorithm,
 * on pose_landmark_lite_fp16 (305 ops), pose_landmark_heavy_fp16 (689 ops) and both side by side
 * (994 ops, two components). Each library is timed cold (its first layout in this process, import
 * included: what a fresh graph worker pays) and warm (median of 3 more). elkjs is not a dependency:
 * its rows are printed only when it is installed (`npm install --no-save elkjs@0.12.1`).
 *
 *   npm run bench:graph-layout
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphView, type SubgraphView } from '../src/app/graph/graph-view';
import { readModel } from '../src/tflite/read';

const MODELS = join(import.meta.dirname, '..', '..', 'shared', 'models');

function view(name: string): SubgraphView {
  return buildSubgraphView(readModel(new Uint8Array(readFileSync(join(MODELS, name)))), 0);
}

/** Two views as one graph: node and edge ids prefixed so they stay apart. */
function sideBySide(a: SubgraphView, b: SubgraphView): SubgraphView {
  const prefixed = (v: SubgraphView, p: string) => ({
    nodes: v.nodes.map((n) => ({ ...n, id: p + n.id })),
    edges: v.edges.map((e) => ({ ...e, id: p + e.id, from: p + e.from, to: p + e.to })),
  });
  const [x, y] = [prefixed(a, 'a'), prefixed(b, 'b')];
  return { ...a, nodes: [...x.nodes, ...y.nodes], edges: [...x.edges, ...y.edges], opCount: a.opCount + b.opCount };
}

type Layout = (v: SubgraphView) => Promise<{ width: number; height: number }>;

async function dagreLayout(): Promise<Layout> {
  const { layoutView } = await import('../src/app/graph/layout');
  return async (v) => layoutView(v);
}

async function elkLayout(): Promise<Layout | null> {
  let ELK: new () => { layout(graph: object): Promise<{ width?: number; height?: number }> };
  try {
    const elkModule = 'elkjs/lib/elk.bundled.js'; // not a dependency: resolved only when installed
    ELK = (await import(elkModule)).default;
  } catch {
    return null;
  }
  const elk = new ELK();
  return async (v) => {
    const r = await elk.layout({
      id: 'root',
      layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.layered.spacing.nodeNodeBetweenLayers': '40', 'elk.spacing.nodeNode': '28' },
      children: v.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
      edges: v.edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] })),
    });
    return { width: r.width ?? 0, height: r.height ?? 0 };
  };
}

async function main() {
  const lite = view('pose_landmark_lite_fp16.tflite');
  const heavy = view('pose_landmark_heavy_fp16.tflite');
  const graphs: [string, SubgraphView][] = [['pose_landmark_lite', lite], ['pose_landmark_heavy', heavy], ['lite + heavy', sideBySide(lite, heavy)]];
  console.log('library | graph               | ops | nodes | edges | cold ms | warm ms (median of 3) | drawing size');
  for (const [library, make] of [['dagre', dagreLayout], ['elkjs', elkLayout]] as const) {
    const started = performance.now();
    const layout = await make();
    if (!layout) {
      console.log(`${library} | not installed: skipped`);
      continue;
    }
    let first = true;
    for (const [name, v] of graphs) {
      const t0 = performance.now();
      const size = await layout(v);
      const cold = performance.now() - (first ? started : t0);
      first = false;
      const warm: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await layout(v);
        warm.push(performance.now() - t);
      }
      warm.sort((a, b) => a - b);
      console.log(`${library.padEnd(7)} | ${name.padEnd(19)} | ${v.opCount} | ${v.nodes.length} | ${v.edges.length} | ${cold.toFixed(0).padStart(7)} | ${warm[1].toFixed(0).padStart(5)} | ${size.width.toFixed(0)} x ${size.height.toFixed(0)}`);
    }
  }
}

await main();
