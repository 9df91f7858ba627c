/**
 * bench/search: the precision search (src/app/search) on MobileNetV1 0.25 (or, with --model v2, the
 * MobileNetV2 1.0 float model dequantized from the shared ptq_int8 file) with ImageNet labels:
 * calibration on images 0..99, the search on the next 300, the check on the last 100 (neither
 * calibration nor the search saw them). Prints every candidate, the pick, its check-split figure
 * with the 95% interval, the number of full evaluations and the wall time.
 * Also the per-op loss table (int8 / int4 / 16x8 / float16), and for --objective both the size / latency
 * front with each candidate's latency spread (min to p90 of 100 timed runs).
 * Run: npm run bench:search [-- --model v1|v2 --budget 1 --granularity per-tensor --objective size|latency|both --int16x8 off --float16 off]
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { int4Order, searchPrecision, weightCount } from '../src/app/search/precision-search';
import { openDataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { initRuntime } from '../src/runtime/start';
import { defaultRecipe, type Granularity } from '../src/optimize/recipe';
import { dataDir } from '../src/test-support/shared';
import { IMAGENET_CLASSIFIERS } from './imagenet-classifiers';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'v1' },
    budget: { type: 'string', default: '1' },
    granularity: { type: 'string', default: 'per-channel' },
    objective: { type: 'string', default: 'size' },
    metric: { type: 'string', default: 'top1' },
    int16x8: { type: 'string', default: 'on' },
    float16: { type: 'string', default: 'on' },
  },
});

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
const classifier = IMAGENET_CLASSIFIERS.find((c) => c.key === values.model);
if (!classifier) throw new Error(`--model ${values.model}: expected one of ${IMAGENET_CLASSIFIERS.map((c) => c.key).join(', ')}`);
console.log(`model: ${classifier.label}`);
const model = classifier.bytes();
const root = join(dataDir, 'imagenet_val_subset');
const dataset = await openDataset(await filesFromPath(root), graphInputs(readModel(model)), {
  preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [classifier.mean], std: [classifier.std], resize: 'bilinear' },
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
  int16x8: values.int16x8 !== 'off',
  float16: values.float16 !== 'off',
  onProgress: (e) => {
    if (e.kind === 'candidate') {
      const c = e.candidate;
      const latency = c.latency ? `, ${c.latency.p10Ms.toFixed(2)} ms p10 in LiteRT (median ${c.latency.medianMs.toFixed(2)}, min ${c.latency.minMs.toFixed(2)}, p90 ${c.latency.p90Ms.toFixed(2)})` : '';
      console.log(`  ${e.evaluations}. ${c.label}: ${c.bytes} bytes${latency}, ${(100 * c.quality.value).toFixed(2)}% (loss ${c.loss.toFixed(2)} pt${c.noiseMargin !== undefined ? ` + ${c.noiseMargin.toFixed(2)} noise margin` : ''}${c.agreement !== undefined ? `, agreement ${(100 * c.agreement).toFixed(1)}%` : ''})${c.meets ? ' meets' : ''}`);
    } else console.log(`${e.stage}...`);
  },
});
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
console.log(`\nrecipe int8 ${values.granularity}, metric ${result.metric}, budget ${result.budget} pt, objective ${values.objective}`);
console.log(`float on the search split: ${pct(result.floatQuality.value)} of ${result.floatQuality.samples}`);
console.log(`pick: ${result.pick.label}, ${result.pick.bytes} bytes${result.pick.latency ? `, ${result.pick.latency.p10Ms.toFixed(2)} ms p10` : ''}, float ops ${result.pick.floatOps.join(', ') || 'none'}${result.pick.floatWeights ? ' (float16 weights)' : ''}`);
if (result.front) console.log(`size / latency front: ${result.front.map((c) => `${c.label} ${c.bytes} B ${c.latencyMs!.toFixed(2)} ms`).join('; ')}\nchosen by ${result.choice}`);
const q = result.check.quality;
console.log(`check split: ${pct(q.value)} [${pct(q.interval[0])}, ${pct(q.interval[1])}] of ${q.samples} vs float ${pct(result.check.floatQuality.value)}: loss ${result.check.loss.toFixed(2)} pt, ${result.check.meets ? 'meets' : 'misses'} the budget`);
console.log(`${result.evaluations} full evaluations on the search split; ${((performance.now() - started) / 1000).toFixed(1)} s`);
for (const note of result.notes) console.log(`note: ${note}`);
console.log(`most sensitive ops: ${result.ranking.slice(0, 5).map((r) => `#${r.opIndex} ${r.op} (${r.outputSqnrDb.toFixed(1)} dB)`).join(', ')}`);
const precisions = (['int4', 'int8', 'int16x8', 'float16'] as const).filter((p) => result.sensitivity.some((r) => r.lossDb[p] !== undefined));
console.log(`per-op SQNR lost (dB), 10 most sensitive at int8: op | ${precisions.join(' | ')}`);
for (const r of [...result.sensitivity].sort((a, b) => (b.lossDb.int8 ?? 0) - (a.lossDb.int8 ?? 0)).slice(0, 10)) {
  console.log(`  #${r.opIndex} ${r.op} | ${precisions.map((p) => r.lossDb[p]?.toFixed(1) ?? '-').join(' | ')}`);
}
// The int4 stage's order (int4Order itself): what each op loses at int4 against the weights it would halve.
const ranking4 = result.sensitivity.flatMap((r) => (r.lossDb.int4 === undefined ? [] : [{ opIndex: r.opIndex, op: r.op, output: r.output, lossDb: r.lossDb.int4, outputSqnrDb: NaN }]));
if (ranking4.length) {
  const floatGraph = readModel(model);
  const byOutput = new Map(ranking4.map((r) => [r.output, r]));
  const order = int4Order(floatGraph, ranking4).map((output) => byOutput.get(output)!);
  console.log(`int4 order (dB lost at int4 / weights): ${order.map((r) => `#${r.opIndex} ${r.lossDb.toFixed(2)}/${weightCount(floatGraph, r.opIndex)}`).join(', ')}`);
}
