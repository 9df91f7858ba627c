/**
 * The graph worker's state: the models it was given (the float model and variants, by key), parsed
 * once, and the answers the graph view asks of them. workers/graph.worker.ts exposes it as it is.
 */
import { WorkbenchError } from '../../errors';
import type { ModelGraph } from '../../tflite/graph';
import { readModel } from '../../tflite/read';
import { collapseChains } from './chains';
import { buildSubgraphView, type SubgraphView } from './graph-view';
import { layoutView, type GraphLayout } from './layout';
import { opDetails, opFacts, type OpDetails, type OpFacts } from './op-facts';
import { matchOps, type OpDiff } from './op-match';

export interface ModelOutline {
  subgraphs: { index: number; name: string; ops: number }[];
}

export interface LaidOutView {
  view: SubgraphView;
  layout: GraphLayout;
}

export class GraphSession {
  private models = new Map<string, ModelGraph>();
  private views = new Map<string, SubgraphView>();

  /** Parses and keeps a model under `key` ('float', or a variant id); bytes are only read. */
  open(key: string, bytes: Uint8Array): ModelOutline {
    const graph = readModel(bytes);
    this.models.set(key, graph);
    for (const k of [...this.views.keys()]) if (k.startsWith(`${key}|`)) this.views.delete(k);
    return { subgraphs: graph.subgraphs.map((s, index) => ({ index, name: s.name || `subgraph ${index}`, ops: s.operators.length })) };
  }

  has(key: string): boolean {
    return this.models.has(key);
  }

  /** Forgets every model but those in `keep`. */
  retain(keep: string[]): void {
    for (const k of [...this.models.keys()]) if (!keep.includes(k)) this.models.delete(k);
    for (const k of [...this.views.keys()]) if (!keep.includes(k.split('|')[0])) this.views.delete(k);
  }

  private model(key: string): ModelGraph {
    const graph = this.models.get(key);
    if (!graph) throw new WorkbenchError('bad-input', `The graph view has no model '${key}' open.`);
    return graph;
  }

  private view(key: string, subgraph: number): SubgraphView {
    const id = `${key}|${subgraph}`;
    let view = this.views.get(id);
    if (!view) {
      const graph = this.model(key);
      if (!graph.subgraphs[subgraph]) throw new WorkbenchError('bad-input', `The model has no subgraph ${subgraph}.`);
      view = buildSubgraphView(graph, subgraph);
      this.views.set(id, view);
    }
    return view;
  }

  /** The subgraph laid out, with long chains collapsed unless `collapse` is false or they are in `expanded`. */
  layout(key: string, subgraph: number, collapse: boolean, expanded: string[] = []): LaidOutView {
    const full = this.view(key, subgraph);
    const view = collapse ? collapseChains(full, new Set(expanded)) : full;
    return { view, layout: layoutView(view) };
  }

  facts(key: string, subgraph: number, withWeights: boolean): OpFacts[] {
    return opFacts(this.model(key), subgraph, withWeights);
  }

  details(key: string, subgraph: number, opIndex: number): OpDetails {
    return opDetails(this.model(key), subgraph, opIndex);
  }

  diff(floatKey: string, variantKey: string, subgraph = 0): OpDiff {
    return matchOps(this.model(floatKey), this.model(variantKey), subgraph);
  }
}
