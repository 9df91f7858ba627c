/**
 * Per-layer results as a Model Explorer (google-ai-edge/model-explorer) "node data" overlay: load
 * the candidate .tflite in Model Explorer, then this JSON as custom node data, and every op is
 * colored by its error.
 *
 * The format, as Model Explorer reads it (its node data provider service and node_data_builder.py):
 * - a single graph: `{ "results": { "<node key>": { "value": number } }, "gradient"?: [...],
 *   "thresholds"?: [...], "name"?: string }`, applied to the graph on screen; or
 * - several graphs: `{ "<graph id>": <single graph object>, ... }`.
 * A node key is a node id or one of the node's output tensor names. For .tflite files the built-in
 * adapter gives op i of a subgraph the node id "i" (its index in the flatbuffer), and a subgraph the
 * graph id of its name, else (newer adapters) the key of the first signature def that runs it, else
 * "main" for subgraph 0 and "subgraph_<i>" for the others. Gradient stops go from 0 (the smallest
 * value) to 1 (the largest).
 *
 * Values must be numbers (JSON has no Infinity): an infinite SQNR (no error at all) is written as
 * `maxDb`, -Infinity as `-maxDb`; NaN values are left out.
 */
import type { ModelGraph } from '../tflite/graph';
import type { LayerComparison } from './compare';

export type LayerMetric = 'sqnrDb' | 'mse' | 'cosine' | 'maxAbsError';

export interface NodeDataResult {
  value: number;
  bgColor?: string;
  textColor?: string;
}

export interface GradientItem {
  stop: number;
  bgColor?: string;
  textColor?: string;
}

export interface GraphNodeData {
  name?: string;
  results: Record<string, NodeDataResult>;
  gradient?: GradientItem[];
  thresholds?: { value: number; bgColor: string; textColor?: string }[];
}

export type ModelNodeData = Record<string, GraphNodeData>;

export interface NodeDataOptions {
  /** Which number colors the nodes; default SQNR. */
  metric?: LayerMetric;
  /** Name shown in Model Explorer's node data list. */
  name?: string;
  /** Cap for infinite SQNR values (default 100 dB). */
  maxDb?: number;
}

const RED = '#d7191c';
const YELLOW = '#ffffbf';
const GREEN = '#1a9641';

/** Higher is better for SQNR and cosine (green at the top); lower is better for errors. */
function gradientFor(metric: LayerMetric): GradientItem[] {
  const higherIsBetter = metric === 'sqnrDb' || metric === 'cosine';
  const [low, high] = higherIsBetter ? [RED, GREEN] : [GREEN, RED];
  return [
    { stop: 0, bgColor: low },
    { stop: 0.5, bgColor: YELLOW },
    { stop: 1, bgColor: high },
  ];
}

const LABELS: Record<LayerMetric, string> = {
  sqnrDb: 'SQNR (dB)',
  mse: 'MSE',
  cosine: 'cosine similarity',
  maxAbsError: 'max abs error',
};

/**
 * The single-graph overlay for the candidate model's subgraph 0: one result per compared layer,
 * keyed by the id of the op that writes the tensor. Layers without a producing op are left out.
 */
export function nodeDataFromLayers(layers: LayerComparison[], options: NodeDataOptions = {}): GraphNodeData {
  const metric = options.metric ?? 'sqnrDb';
  const maxDb = options.maxDb ?? 100;
  const results: Record<string, NodeDataResult> = {};
  for (const layer of layers) {
    if (layer.opIndex < 0) continue;
    let value = layer[metric];
    if (Number.isNaN(value)) continue;
    if (value === Infinity) value = maxDb;
    if (value === -Infinity) value = -maxDb;
    const key = String(layer.opIndex);
    // Several outputs of one op: keep the worst.
    const existing = results[key];
    const worse = metric === 'sqnrDb' || metric === 'cosine' ? Math.min : Math.max;
    results[key] = { value: existing ? worse(existing.value, value) : value };
  }
  return { name: options.name ?? `Per-layer ${LABELS[metric]}`, results, gradient: gradientFor(metric) };
}

/**
 * The ids Model Explorer's .tflite adapter may give subgraph `index` of `graph`: its name when it
 * has one; otherwise the signature key (newer adapters) and "main" / "subgraph_<i>" (older ones).
 */
export function modelExplorerGraphIds(graph: ModelGraph, index = 0): string[] {
  const subgraph = graph.subgraphs[index];
  if (subgraph?.name) return [subgraph.name];
  const ids: string[] = [];
  const signature = graph.signatureDefs.find((d) => d.subgraphIndex === index);
  if (signature?.signatureKey) ids.push(signature.signatureKey);
  ids.push(index === 0 ? 'main' : `subgraph_${index}`);
  return ids;
}

/**
 * The multi-graph form for a given candidate graph: the same node data under every id its
 * subgraph 0 may have (see modelExplorerGraphIds), so the file loads whatever the adapter version.
 */
export function modelNodeData(candidate: ModelGraph, layers: LayerComparison[], options: NodeDataOptions = {}): ModelNodeData {
  const data = nodeDataFromLayers(layers, options);
  const result: ModelNodeData = {};
  for (const id of modelExplorerGraphIds(candidate, 0)) result[id] = data;
  return result;
}

/** Pretty JSON for download. */
export function nodeDataJson(data: GraphNodeData | ModelNodeData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}
