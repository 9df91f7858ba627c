/**
 * Weight clustering of a float .tflite: every weight tensor in scope is replaced by at most k shared
 * values (centroids), per tensor or per output channel, found by 1-D k-means (kmeans1d.ts: optimal
 * DP by default, Lloyd from a chosen initialization on request). The file keeps float32 storage, so
 * its raw size does not change; its gzip size does (k values per tensor compress well), and a later
 * quantization step keeps the clusters (clusterWeightParams in quantize/params.ts).
 * Sparsity-preserving mode keeps zero as an exact cluster (for prune + cluster chains): the
 * non-zero weights get k - 1 clusters and every zero stays zero.
 */
import { WorkbenchError } from '../errors';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { kmeans1d, nearestIndex, type ClusterAlgorithm, type ClusterInit } from './kmeans1d';
import { defaultScope, scopedWeights, setWeights, type WeightScope } from './prune';
import { constantAsFloat32 } from './quantize/fold-dequantize';

export const CLUSTER_OP_TYPES = ['CONV_2D', 'FULLY_CONNECTED', 'TRANSPOSE_CONV'];

export interface ClusterOptions extends Partial<WeightScope> {
  /** k: clusters per tensor (or per channel). */
  clusters: number;
  perChannel?: boolean;
  algorithm?: ClusterAlgorithm;
  init?: ClusterInit;
  seed?: number;
  /** Zeros stay an exact cluster (k - 1 clusters for the rest). */
  preserveZeros?: boolean;
}

export interface ClusteredTensor {
  subgraph: number;
  tensor: number;
  name: string;
  op: string;
  shape: number[];
  elements: number;
  /** Groups clustered (1, or the channel count), and the most distinct values in one group after. */
  groups: number;
  maxDistinct: number;
  /** Squared clustering error, and relative to the sum of squared weights. */
  sse: number;
  relativeError: number;
  /** Every group solved exactly (DP on all its distinct values). */
  exact: boolean;
}

export interface ClusterResult {
  graph: ModelGraph;
  tensors: ClusteredTensor[];
  notes: string[];
  elapsedMs: number;
}

const fail = (message: string): never => {
  throw new WorkbenchError('bad-input', message);
};

export function checkClusterCount(k: number): void {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 2) fail(`Clustering needs an integer k >= 2 (clusters per tensor), got ${k}.`);
  if (k > 65536) fail(`k = ${k} clusters is more than clustering can save anything with (at most 65536).`);
}

/** Layout of the groups along `axis`: `channels` groups, each `outer` runs of `inner` values. */
function layout(shape: number[], axis: number): { channels: number; inner: number; outer: number } {
  return {
    channels: shape[axis] ?? 1,
    inner: shape.slice(axis + 1).reduce((n, d) => n * d, 1),
    outer: shape.slice(0, axis).reduce((n, d) => n * d, 1),
  };
}

/** Cluster `group` (a copy of some weights) in place; returns sse, distinct count, exactness. */
export function clusterValues(
  group: Float32Array,
  k: number,
  options: Pick<ClusterOptions, 'algorithm' | 'init' | 'seed' | 'preserveZeros'>,
): { sse: number; distinct: number; exact: boolean } {
  let data: Float32Array = group;
  let clusters = k;
  let zeros = 0;
  if (options.preserveZeros) {
    for (let i = 0; i < group.length; i++) if (group[i] === 0) zeros++;
    if (zeros) {
      data = new Float32Array(group.length - zeros);
      let j = 0;
      for (let i = 0; i < group.length; i++) if (group[i] !== 0) data[j++] = group[i];
      clusters = k - 1;
    }
  }
  if (data.length === 0) return { sse: 0, distinct: zeros ? 1 : 0, exact: true };
  if (clusters < 2) {
    // k = 2 with zeros kept: one cluster for the non-zero values, their mean.
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i];
    const mean = Math.fround(sum / data.length);
    let sse = 0;
    for (let i = 0; i < group.length; i++) {
      if (group[i] === 0) continue;
      sse += (group[i] - mean) ** 2;
      group[i] = mean;
    }
    return { sse, distinct: mean === 0 ? 1 : 2, exact: true };
  }
  const result = kmeans1d(data, clusters, { algorithm: options.algorithm, init: options.init, seed: options.seed });
  const centroids = result.centroids.map(Math.fround);
  const mids = new Float64Array(Math.max(0, result.centroids.length - 1));
  for (let j = 1; j < result.centroids.length; j++) mids[j - 1] = (result.centroids[j - 1] + result.centroids[j]) / 2;
  let sse = 0;
  const used = new Set<number>();
  for (let i = 0; i < group.length; i++) {
    const v = group[i];
    if (zeros && v === 0) {
      used.add(0);
      continue;
    }
    const c = centroids[nearestIndex(mids, v)];
    sse += (v - c) * (v - c);
    group[i] = c;
    used.add(c);
  }
  return { sse, distinct: used.size, exact: result.exact };
}

export function clusterModel(source: ModelGraph, options: ClusterOptions): ClusterResult {
  const started = performance.now();
  checkClusterCount(options.clusters);
  const k = options.clusters;
  const scope = defaultScope(CLUSTER_OP_TYPES, options);
  const graph = cloneGraph(source);
  const notes: string[] = [];
  const weights = scopedWeights(graph, scope);
  if (!weights.length) fail(`No float weights to cluster in scope (op types ${scope.opTypes.join(', ')}${scope.namePattern ? `, names /${scope.namePattern}/` : ''}, at least ${scope.minElements} elements).`);
  const groupSize = (w: (typeof weights)[0]) => {
    const n = w.shape.reduce((a, d) => a * d, 1);
    return options.perChannel && w.axis !== null ? n / (w.shape[w.axis] || 1) : n;
  };
  const largest = Math.max(...weights.map(groupSize));
  if (k > largest) {
    fail(`k = ${k} clusters is above the weight count of every ${options.perChannel ? 'channel' : 'tensor'} in scope (the largest has ${largest}); choose k <= ${largest}.`);
  }
  const tensors: ClusteredTensor[] = [];
  let small = 0;
  for (const w of weights) {
    const values = constantAsFloat32(graph, w.subgraph, w.tensor);
    const perChannel = !!options.perChannel && w.axis !== null;
    const { channels, inner, outer } = perChannel ? layout(w.shape, w.axis!) : { channels: 1, inner: values.length, outer: 1 };
    let energy = 0;
    for (let i = 0; i < values.length; i++) energy += values[i] * values[i];
    if (groupSize(w) <= k) small++;
    let sse = 0;
    let maxDistinct = 0;
    let exact = true;
    const group = new Float32Array(outer * inner);
    for (let c = 0; c < channels; c++) {
      // gather the channel (contiguous when the axis is outermost)
      for (let o = 0; o < outer; o++) group.set(values.subarray((o * channels + c) * inner, (o * channels + c + 1) * inner), o * inner);
      const r = clusterValues(group, k, options);
      sse += r.sse;
      maxDistinct = Math.max(maxDistinct, r.distinct);
      exact &&= r.exact;
      for (let o = 0; o < outer; o++) values.set(group.subarray(o * inner, (o + 1) * inner), (o * channels + c) * inner);
    }
    setWeights(graph, w, values);
    tensors.push({
      subgraph: w.subgraph,
      tensor: w.tensor,
      name: w.name,
      op: opName(graph, graph.subgraphs[w.subgraph].operators[w.ops[0]]),
      shape: w.shape,
      elements: values.length,
      groups: channels,
      maxDistinct,
      sse,
      relativeError: energy > 0 ? sse / energy : 0,
      exact,
    });
  }
  if (small) notes.push(`${small} tensor(s) have at most ${k} weights per ${options.perChannel ? 'channel' : 'tensor'} and were already within ${k} values`);
  return { graph, tensors, notes, elapsedMs: performance.now() - started };
}

/** A content fingerprint of float weights (FNV-1a over the bits), to recognize clustered tensors later. */
export function weightFingerprint(values: Float32Array): string {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
  return `${values.length}:${(h >>> 0).toString(16)}`;
}
