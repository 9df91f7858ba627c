/**
 * bench/search: the precision search (src/app/search) on MobileNetV1 0.25 with ImageNet labels:
 * calibration on images 0..99, the search on the next 300, the check on the last 100 (neither
 * calibration nor the search saw them). Prints every candidate, the pick, its check-split figure
 * with the 95% interval, the number of full evaluations and the wall time.
 * Run: npm run bench:search [-- --budget 1 --granularity per-tensor --objective size]
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { searchPrecision } from '../src/app/search/precision-search';
import { openDataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { initRuntime } from '../src/runtime/start';
import { defaultRecipe, type Granularity } from '../src/optimize/recipe';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '1' },
    granularity: { type: 'string', default: 'per-channel' },
    objective: { type: 'string', default: 'size' },
    metric: { type: 'string', default: 'top1' },
  },
});

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
const model = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
const root = join(dataDir, 'imagenet_val_subset');
const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(model)), {
  preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
  labelsCsv: { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' },
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const recipe = { ...defaultRecipe('int8'), granularity: values.granularity as Granularity };
const started = performance.now();
const result = await searchPrecision({
  model,
  recipe,
  calibration: { dataset, indices: range(0, 100) },
  search: { dataset, indices: range(100, 400) },
  check: { dataset, indices: range(400, 500) },
  metric: values.metric as 'top1',
  budget: Number(values.budget),
  objective: values.objective as 'size',
  onProgress: (e) => {
    if (e.kind === 'candidate') {
      const c = e.candidate;
      const latency = c.latencyMs !== undefined ? `, ${c.latencyMs.toFixed(2)} ms median in LiteRT` : '';
      console.log(`  ${e.evaluations}. ${c.label}: ${c.bytes} bytes${latency}, ${(100 * c.quality.value).toFixed(2)}% (loss ${c.loss.toFixed(2)} pt)${c.meets ? ' meets' : ''}`);
    } else console.log(`${e.stage}...`);
  },
});
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
console.log(`\nrecipe int8 ${values.granularity}, metric ${result.metric}, budget ${result.budget} pt, objective ${values.objective}`);
console.log(`float on the search split: ${pct(result.floatQuality.value)} of ${result.floatQuality.samples}`);
console.log(`pick: ${result.pick.label}, ${result.pick.bytes} bytes, float ops ${result.pick.floatOps.join(', ') || 'none'}`);
const q = result.check.quality;
console.log(`check split: ${pct(q.value)} [${pct(q.interval[0])}, ${pct(q.interval[1])}] of ${q.samples} vs float ${pct(result.check.floatQuality.value)}: loss ${result.check.loss.toFixed(2)} pt, ${result.check.meets ? 'meets' : 'misses'} the budget`);
console.log(`${result.evaluations} full evaluations on the search split; ${((performance.now() - started) / 1000).toFixed(1)} s`);
for (const note of result.notes) console.log(`note: ${note}`);
console.log(`most sensitive ops: ${result.ranking.slice(0, 5).map((r) => `#${r.opIndex} ${r.op} (${r.outputSqnrDb.toFixed(1)} dB)`).join(', ')}`);
