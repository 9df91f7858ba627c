/**
 * bench/cluster: 1-D k-means speed on all weights of a ~14 MB model (k = 16 and 256), and the
 * clustering error of the optimal DP next to Lloyd from each initialization, on the synthetic
 * model and on mobilenet_v1_0.25_224_float's real weights. Run: npx tsx bench/cluster.ts
 */
import { cpus } from 'node:os';
import { clusterModel } from '../src/optimize/cluster';
import { CLUSTER_INITS, initialCentroidsOf, kmeans1d, lloydNaive, type ClusterAlgorithm, type ClusterInit } from '../src/optimize/kmeans1d';
import { scopedWeights, defaultScope } from '../src/optimize/prune';
import { constantAsFloat32 } from '../src/optimize/quantize/fold-dequantize';
import type { ModelGraph } from '../src/tflite/graph';
import { readModel } from '../src/tflite/read';
import { writeModel } from '../src/tflite/write';
import { readSharedModel } from '../src/test-support/shared';
import { syntheticModel } from './synthetic-model';

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);

const synthetic = syntheticModel(14e6, 1080); // 3 FULLY_CONNECTED layers of 1080 x 1080: 14.0 MB
const syntheticBytes = writeModel(synthetic).length;
const fcScope = { opTypes: ['FULLY_CONNECTED'] };
const weightCount = (graph: ModelGraph, opTypes: string[]) =>
  scopedWeights(graph, defaultScope(opTypes)).reduce((n, w) => n + w.shape.reduce((a, d) => a * d, 1), 0);

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

console.log(`## Clustering every weight of the synthetic model (${(syntheticBytes / 1e6).toFixed(1)} MB, ${weightCount(synthetic, ['FULLY_CONNECTED'])} weights in ${scopedWeights(synthetic, defaultScope(['FULLY_CONNECTED'])).length} tensors), median of 3\n`);
console.log('| k | algorithm | time | relative error (sse / sum w^2) |');
console.log('|---|---|---|---|');
const variants: { name: string; algorithm: ClusterAlgorithm; init?: ClusterInit; perChannel?: boolean }[] = [
  { name: 'optimal (DP, near-exact on big tensors)', algorithm: 'optimal' },
  { name: 'Lloyd, k-means++ init (sorted, prefix sums)', algorithm: 'lloyd', init: 'kmeans++' },
  { name: 'Lloyd, linear init', algorithm: 'lloyd', init: 'linear' },
  { name: 'optimal, per channel (1080 channels of 1080)', algorithm: 'optimal', perChannel: true },
];
for (const k of [16, 256]) {
  for (const v of variants) {
    if (v.perChannel && k > 16) continue; // 256 clusters for 1080 weights per channel saves nothing and the DP is O(k m log m) per channel
    const times: number[] = [];
    let error = 0;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const result = clusterModel(synthetic, { ...fcScope, clusters: k, algorithm: v.algorithm, init: v.init, perChannel: v.perChannel });
      times.push(performance.now() - started);
      const sse = result.tensors.reduce((n, t) => n + t.sse, 0);
      const energy = result.tensors.reduce((n, t) => n + (t.relativeError > 0 ? t.sse / t.relativeError : 0), 0);
      error = sse / energy;
    }
    console.log(`| ${k} | ${v.name} | ${(median(times) / 1000).toFixed(3)} s | ${error.toExponential(4)} |`);
  }
}

// Naive Lloyd on one synthetic tensor: O(n k) per iteration, the baseline the sorted version replaces.
{
  const w = scopedWeights(synthetic, defaultScope(['FULLY_CONNECTED']))[0];
  const values = constantAsFloat32(synthetic, w.subgraph, w.tensor);
  const init = initialCentroidsOf(values, 16, 'kmeans++', 0);
  const started = performance.now();
  const naive = lloydNaive(values, init, 5);
  const perIteration = (performance.now() - started) / Math.max(1, naive.iterations + 1);
  const sortedStart = performance.now();
  const fast = kmeans1d(values, 16, { algorithm: 'lloyd', init: 'kmeans++', maxIterations: 300 });
  const fastMs = performance.now() - sortedStart;
  console.log(`\nnaive Lloyd (O(nk) per iteration) on one ${values.length}-weight tensor, k = 16: ${perIteration.toFixed(0)} ms per iteration;`);
  console.log(`sorted Lloyd with prefix sums (sort included): ${fastMs.toFixed(0)} ms for ${fast.iterations} iterations to convergence.`);
}

// Error of optimal vs Lloyd per init on real weights (sum over the tensors of mobilenet's CONV_2D layers).
const mobilenet = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
const tensors = scopedWeights(mobilenet, defaultScope(['CONV_2D', 'FULLY_CONNECTED'])).map((w) => constantAsFloat32(mobilenet, w.subgraph, w.tensor));
console.log(`\n## Clustering error on mobilenet_v1_0.25_224_float (${tensors.length} CONV_2D weight tensors, per tensor): sum of squared errors, and Lloyd's excess over the optimum\n`);
console.log(`| k | optimal (exact DP on all distinct values) | optimal (default: DP on <= 4096 runs + Lloyd polish) | ${CLUSTER_INITS.map((i) => `Lloyd ${i}`).join(' | ')} | naive Lloyd ${'linear'} |`);
console.log(`|---|---|---|${CLUSTER_INITS.map(() => '---').join('|')}|---|`);
for (const k of [8, 16, 32, 256]) {
  const sum = (f: (v: Float32Array) => number) => tensors.reduce((n, v) => n + f(v), 0);
  const exact = sum((v) => kmeans1d(v, k, { maxPoints: 1 << 20 }).sse);
  const near = sum((v) => kmeans1d(v, k).sse);
  const cell = (sse: number) => `${sse.toExponential(3)} (+${(((sse - exact) / exact) * 100).toFixed(2)}%)`;
  const lloyd = CLUSTER_INITS.map((init) => cell(sum((v) => kmeans1d(v, k, { algorithm: 'lloyd', init, seed: 1 }).sse)));
  const naive = k <= 32 ? cell(sum((v) => lloydNaive(v, initialCentroidsOf(v, k, 'linear')).sse)) : 'n/a (slow)';
  console.log(`| ${k} | ${exact.toExponential(3)} | ${cell(near)} | ${lloyd.join(' | ')} | ${naive} |`);
}
