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
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset';
import { graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { compareModels } from '../src/evaluate/compare';
import { IMAGENET_CLASSIFIERS, imagenetSplit, type ImagenetSplit } from './imagenet-classifiers';
import { initRuntime } from '../src/runtime/start';
import type { Sample } from '../src/runtime/samples';
import { optimizeModel } from '../src/optimize/pipeline';
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

// A ReLU (unbounded) network beside the two MobileNets: the test digits, the same image counts.
const mnist = {
  key: 'mnist',
  label: 'MNIST CNN (mnist_t10k)',
  bytes: () => readSharedModel('mnist_conv_fc_float.tflite'),
  split: async (bytes: Uint8Array): Promise<ImagenetSplit> => {
    const dataset = await openDataset(await filesFromPath(join(dataDir, 'mnist_t10k')), graphInputs(readModel(bytes)));
    const samples: Sample[] = [];
    for (let i = 0; i < calibCount + evalCount; i++) samples.push(await dataset.sample(i));
    return { calibration: samples.slice(0, calibCount), evaluation: samples.slice(calibCount), labels: (dataset.labels as number[]).slice(calibCount, calibCount + evalCount) };
  },
};
const CLASSIFIERS = [
  ...IMAGENET_CLASSIFIERS.map((c) => ({ key: c.key, label: c.label, bytes: c.bytes, split: (bytes: Uint8Array) => imagenetSplit(bytes, c, calibCount, evalCount) })),
  mnist,
].filter((c) => values.models!.split(',').includes(c.key));

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(1);

for (const { label, bytes: load, split } of CLASSIFIERS) {
  const bytes = load();
  const { calibration, evaluation, labels } = await split(bytes);

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
