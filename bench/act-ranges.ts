/**
 * bench/act-ranges: activation range algorithms (minmax, percentile, mse, output-mse) for full-integer
 * int8, to choose the recipe's default. ImageNet classifiers on imagenet_val_subset, calibrated on
 * images 0..calib-1 and evaluated in LiteRT on the next `eval` images (never seen by calibration):
 * top-1, top-1 agreement with the float model, output SQNR against it, wall time of optimizeModel,
 * its calibrate stage (with the layer-input sampling output-mse and gptq need) and output-mse's
 * search. Per-channel and per-tensor weights; weights rounded to nearest to isolate the ranges, then
 * gptq (the default rounding) for minmax and for the best range algorithm by agreement.
 * Run: npm run bench:act-ranges [-- --calib 100 --eval 400 --models v1,v2,mnist --granularity per-channel,per-tensor --algos minmax,percentile,mse,output-mse]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { compareModels } from '../src/evaluate/compare';
import { initRuntime } from '../src/runtime/start';
import type { Sample } from '../src/runtime/samples';
import { dequantizeBytes, optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, type CalibrationAlgorithm, type Granularity, type RoundingMethod } from '../src/optimize/recipe';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const { values } = parseArgs({
  options: {
    calib: { type: 'string', default: '100' },
    eval: { type: 'string', default: '400' },
    models: { type: 'string', default: 'v1' },
    granularity: { type: 'string', default: 'per-channel,per-tensor' },
    algos: { type: 'string', default: 'minmax,percentile,mse,output-mse' },
    'skip-gptq': { type: 'boolean', default: false },
  },
});
const calibCount = Number(values.calib);
const evalCount = Number(values.eval);
const algorithms = values.algos!.split(',') as CalibrationAlgorithm[];
const granularities = values.granularity!.split(',') as Granularity[];

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js (wasm CPU); load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`data: imagenet_val_subset, images 0..${calibCount - 1} calibrate, ${calibCount}..${calibCount + evalCount - 1} evaluate`);

const root = join(dataDir, 'imagenet_val_subset');
const files = await filesFromPath(root);
const labelsCsv = { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' };

const imagenet = (mean: number, std: number) => (bytes: Uint8Array) =>
  openDataset(files, graphInputs(readModel(bytes)), {
    preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [mean], std: [std], resize: 'bilinear' },
    labelsCsv,
  });
// The dequantized MobileNetV2 takes what its uint8 input meant: 0.0078431 * (pixel - 127), SOURCES.md.
const CLASSIFIERS = [
  { key: 'v1', label: 'MobileNetV1 0.25 float', bytes: () => readSharedModel('mobilenet_v1_0.25_224_float.tflite'), open: imagenet(127.5, 127.5) },
  { key: 'v2', label: 'MobileNetV2 1.0 (dequantized ptq_int8)', bytes: () => dequantizeBytes(readSharedModel('mobilenet_v2_1.0_224_ptq_int8.tflite')).bytes, open: imagenet(127, 1 / 0.0078431) },
  // A ReLU (unbounded) network: the test digits, the same image counts.
  { key: 'mnist', label: 'MNIST CNN (mnist_t10k)', bytes: () => readSharedModel('mnist_conv_fc_float.tflite'), open: async (bytes: Uint8Array) => openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(bytes))) },
].filter((c) => values.models!.split(',').includes(c.key));

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(1);

for (const { label, bytes: load, open } of CLASSIFIERS) {
  const bytes = load();
  const dataset = await open(bytes);
  const samples: Sample[] = [];
  for (let i = 0; i < calibCount + evalCount; i++) samples.push(await dataset.sample(i));
  const calibration = samples.slice(0, calibCount);
  const evaluation = samples.slice(calibCount);
  const labels = (dataset.labels as number[]).slice(calibCount, calibCount + evalCount);

  for (const granularity of granularities) {
    console.log(`\n## ${label}, ${granularity} int8 (pipeline: CLE auto, bias correction)\n`);
    console.log('| ranges | rounding | top-1 | float top-1 | agreement | SQNR dB | optimize s | calibrate s | output-mse search s |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    const run = async (algorithm: CalibrationAlgorithm, rounding: RoundingMethod) => {
      const base = defaultRecipe('int8');
      const recipe = { ...base, granularity, rounding, calibration: { ...base.calibration, algorithm } };
      const started = performance.now();
      const result = await optimizeModel({ model: bytes, recipe, calibration, skipCheck: true });
      const wall = performance.now() - started;
      const compared = await compareModels(bytes, result.bytes, evaluation, { labels });
      const accuracy = compared.classification.accuracy!;
      const search = result.notes.map((n) => /output-mse searched \d+ .* in ([\d.]+) s/.exec(n)).find(Boolean);
      const r = { algorithm, top1: accuracy.candidate.top1, agreement: compared.classification.agreement, sqnr: compared.outputs[0].sqnrDb };
      console.log(
        `| ${algorithm} | ${rounding} | ${pct(r.top1)} | ${pct(accuracy.reference.top1)} | ${pct(r.agreement)} | ${r.sqnr.toFixed(2)} | ${seconds(wall)} | ${seconds(result.timings.calibrate)} | ${search ? search[1] : '-'} |`,
      );
      return r;
    };
    const nearest = [];
    for (const algorithm of algorithms) nearest.push(await run(algorithm, 'nearest'));
    if (values['skip-gptq']) continue;
    const best = [...nearest].sort((a, b) => b.agreement - a.agreement || b.sqnr - a.sqnr)[0];
    await run('minmax', 'gptq');
    if (best.algorithm !== 'minmax') await run(best.algorithm, 'gptq');
  }
}
