/**
 * bench/chains: top-1 on the shared ImageNet subset (500 images, labels.csv label_1001,
 * preprocessing (x - 127.5) / 127.5) for each chain on mobilenet_v1_0.25_224_float, next to the
 * float model and plain int8; int8 steps calibrate on 100 images chosen with randomIndices(500, 100, 0).
 * Sizes are raw and gzip (level 9); sparsity and distinct values over the kernel weights.
 * Run: npx tsx bench/chains.ts [COUNT]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { openDataFlags } from '../src/cli/data-options';
import { randomIndices } from '../src/data/dataset';
import { compareModels } from '../src/evaluate/compare';
import { initRuntime } from '../src/runtime/start';
import { parseChain, runChain } from '../src/optimize/chain';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe } from '../src/optimize/recipe';
import { weightReport } from '../src/optimize/sparsity-report';
import { readModel } from '../src/tflite/read';
import { dataDir, readSharedModel } from '../src/test-support/shared';

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)\n`);

const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
const dir = join(dataDir, 'imagenet_val_subset');
const dataset = await openDataFlags(readModel(model), { path: dir, labels: join(dir, 'labels.csv'), labelColumn: 'label_1001', mean: '127.5', std: '127.5' });
const count = Math.min(dataset.size, Number(process.argv[2] ?? dataset.size));
const evalIndices = Array.from({ length: count }, (_, i) => i);
const labels = evalIndices.map((i) => dataset.labels[i] as number);
const started = performance.now();
const evalSamples: Float32Array[][] = [];
for (const i of evalIndices) evalSamples.push(await dataset.sample(i));
const calibIndices = randomIndices(dataset.size, 100, 0);
const calibSamples: Float32Array[][] = [];
for (const i of calibIndices) calibSamples.push(await dataset.sample(i));
console.error(`decoded ${evalSamples.length + calibSamples.length} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const floatReport = weightReport(model, model);
const rows: string[] = [];
async function row(name: string, bytes: Uint8Array, extra: { clusterMax?: string; ms?: number } = {}) {
  const comparison = await compareModels(model, bytes, evalSamples, { labels });
  const acc = comparison.classification.accuracy!;
  const report = weightReport(bytes, model);
  rows.push(
    `| ${name} | ${(acc.candidate.top1 * 100).toFixed(1)}% | ${(acc.candidate.top5 * 100).toFixed(1)}% | ${(comparison.classification.agreement * 100).toFixed(1)}% | ${(report.size.rawBytes / 1e3).toFixed(0)} kB (${report.rawRatio!.toFixed(3)}x) | ${(report.size.gzipBytes / 1e3).toFixed(0)} kB (${report.gzipRatio!.toFixed(3)}x) | ${report.sparsity.toFixed(3)} | ${extra.clusterMax ?? '-'} | ${extra.ms === undefined ? '-' : (extra.ms / 1000).toFixed(2) + ' s'} |`,
  );
  console.error(rows[rows.length - 1]);
}

await row('float', model);
{
  const t = performance.now();
  const int8 = await optimizeModel({ model, recipe: defaultRecipe('int8'), calibration: calibSamples, calibrationCount: calibSamples.length });
  await row('int8', int8.bytes, { ms: performance.now() - t });
}
const CHAINS = [
  'prune:0.5',
  'prune:0.5+int8',
  'prune:0.5:2of4+dynamic',
  'prune:0.2+int8',
  'cluster:32',
  'cluster:16+int8',
  'cluster:32+int8',
  'cluster:64+int8',
  'cluster:32+float16',
  'cluster:16:per-channel+int8',
  'cluster:32:per-channel+int8',
  'cluster:32:kmeans++:per-channel+int8',
  'prune:0.5+cluster:16+int8',
];
for (const text of CHAINS) {
  const t = performance.now();
  const result = await runChain({ model, chain: parseChain(text), calibration: calibSamples, calibrationCount: calibSamples.length });
  const clusterMax = result.checks.maxDistinctClustered !== undefined ? `${result.checks.maxDistinctClustered}${result.chain.cluster?.perChannel ? '/ch' : ''}` : undefined;
  await row(text, result.bytes, { clusterMax, ms: performance.now() - t });
}

console.log(`## mobilenet_v1_0.25_224_float on the shared ImageNet subset (${count} images; float reference sizes ${(floatReport.size.rawBytes / 1e3).toFixed(0)} kB raw, ${(floatReport.size.gzipBytes / 1e3).toFixed(0)} kB gzip)\n`);
console.log('| variant | top-1 | top-5 | agreement with float | raw | gzip | sparsity of all kernel weights | max distinct per clustered tensor | time to optimize |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('\nOne-shot pruning and clustering (no fine-tuning) is what these rows measure; fine-tuning afterwards is a later issue.');
