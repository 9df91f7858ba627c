/**
 * bench/rounding: weight rounding (src/optimize/rounding/) nearest vs gptq vs adaround, to choose the
 * recipe's default. MobileNetV1 0.25 float on ImageNet images (imagenet_val_subset), in LiteRT:
 *   - per-channel int8 (the pipeline, CLE auto, bias correction on), calibrated on images
 *     0..calib-1 (default 100, the setting) and evaluated on the next `eval` (default 400);
 *   - the same with 256 calibration images, for the wall time of the whole optimization
 *     (evaluated on the images after them);
 *   - int4 weights simulated: CONV_2D / FULLY_CONNECTED weights replaced by s * q with q in
 *     [-8, 7] from the same roundWeights (depthwise and activations stay float), biases corrected
 *     as the int8 path does, run as a float model.
 * Top-1, top-1 agreement with the float model, output SQNR against it, wall time.
 * Run: npm run bench:rounding [-- --calib 100 --eval 400 --timing-calib 256 --skip-timing]
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
import { calibrate } from '../src/optimize/calibrate/calibrate';
import { optimizeModel } from '../src/optimize/pipeline';
import { correctBias } from '../src/optimize/quantize/bias-correction';
import { constantAsFloat32 } from '../src/optimize/quantize/fold-dequantize';
import { bytesOf, symmetricWeightParams } from '../src/optimize/quantize/params';
import { rangeKey } from '../src/optimize/quantize/ranges';
import { defaultRecipe, type RoundingMethod } from '../src/optimize/recipe';
import { openLayerInputs } from '../src/optimize/rounding/layer-inputs';
import { roundWeights } from '../src/optimize/rounding/round-weights';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { cloneGraph } from '../src/tflite/edit';
import { builtinCodeOf } from '../src/tflite/ops';
import { readModel } from '../src/tflite/read';
import { BuiltinOperator } from '../src/tflite/schema/generated/tflite_generated';
import { writeModel } from '../src/tflite/write';

const { values } = parseArgs({
  options: {
    calib: { type: 'string', default: '100' },
    eval: { type: 'string', default: '400' },
    'timing-calib': { type: 'string', default: '256' },
    'skip-timing': { type: 'boolean', default: false },
    'skip-int4': { type: 'boolean', default: false },
    methods: { type: 'string', default: 'nearest,gptq,adaround' },
  },
});
const calibCount = Number(values.calib);
const evalCount = Number(values.eval);
const timingCalib = Number(values['timing-calib']);
const methods = values.methods!.split(',') as RoundingMethod[];

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js (wasm CPU); load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

const root = join(dataDir, 'imagenet_val_subset');
const files = await filesFromPath(root);
const labelsCsv = { text: readFileSync(join(root, 'labels.csv'), 'utf8'), labelColumn: 'label_1001' };
const bytes = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
const dataset = await openDataset(files, graphInputs(readModel(bytes)), {
  preprocessing: { width: 224, height: 224, channels: 3, channelOrder: 'RGB', mean: [127.5], std: [127.5], resize: 'bilinear' },
  labelsCsv,
});
const available = dataset.size ?? 500;
const samples: Sample[] = [];
for (let i = 0; i < Math.min(available, Math.max(calibCount + evalCount, timingCalib + 1)); i++) samples.push(await dataset.sample(i));
const allLabels = dataset.labels as number[];
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

async function evaluate(candidate: Uint8Array, first: number, count: number) {
  const compared = await compareModels(bytes, candidate, samples.slice(first, first + count), { labels: allLabels.slice(first, first + count) });
  const accuracy = compared.classification.accuracy!;
  return { float: accuracy.reference.top1, top1: accuracy.candidate.top1, agreement: compared.classification.agreement, sqnr: compared.outputs[0].sqnrDb };
}

// 1. Per-channel int8 through the pipeline.
console.log(`\n## MobileNetV1 0.25, per-channel int8 (pipeline: CLE auto, bias correction), calibration images 0..${calibCount - 1}, evaluation ${calibCount}..${calibCount + evalCount - 1}\n`);
console.log('| rounding | top-1 | float top-1 | agreement | SQNR dB | optimize s | of which rounding s |');
console.log('|---|---|---|---|---|---|---|');
for (const rounding of methods) {
  const started = performance.now();
  const result = await optimizeModel({ model: bytes, recipe: { ...defaultRecipe('int8'), rounding }, calibration: samples.slice(0, calibCount), skipCheck: true });
  const seconds = (performance.now() - started) / 1000;
  const r = await evaluate(result.bytes, calibCount, evalCount);
  console.log(`| ${rounding} | ${pct(r.top1)} | ${pct(r.float)} | ${pct(r.agreement)} | ${r.sqnr.toFixed(2)} | ${seconds.toFixed(1)} | ${((result.timings.round ?? 0) / 1000).toFixed(1)} |`);
  const note = result.notes.find((n) => n.startsWith('weights rounded'));
  if (note) console.log(`|  | ${note} | | | | | |`);
}

// 2. Wall time with 256 calibration images.
if (!values['skip-timing'] && timingCalib + 1 <= samples.length) {
  const rest = samples.length - timingCalib;
  console.log(`\n## The same with ${timingCalib} calibration images (wall time of the whole optimizeModel), evaluation on images ${timingCalib}..${samples.length - 1}\n`);
  console.log('| rounding | optimize s | calibrate s (with layer-input sampling) | rounding s | top-1 | agreement | SQNR dB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const rounding of methods) {
    const started = performance.now();
    const result = await optimizeModel({ model: bytes, recipe: { ...defaultRecipe('int8'), rounding }, calibration: samples.slice(0, timingCalib), skipCheck: true });
    const seconds = (performance.now() - started) / 1000;
    const r = await evaluate(result.bytes, timingCalib, rest);
    console.log(`| ${rounding} | ${seconds.toFixed(1)} | ${((result.timings.calibrate ?? 0) / 1000).toFixed(1)} | ${((result.timings.round ?? 0) / 1000).toFixed(1)} | ${pct(r.top1)} | ${pct(r.agreement)} | ${r.sqnr.toFixed(2)} |`);
  }
}

// 3. int4 weights, simulated in a float model.
if (!values['skip-int4']) {
  console.log(`\n## int4 weights simulated (CONV_2D / FULLY_CONNECTED per channel, [-8, 7], scale max|w|/7; depthwise and activations float; bias correction), calibration 0..${calibCount - 1}, evaluation ${calibCount}..${calibCount + evalCount - 1}\n`);
  const graph = readModel(bytes);
  const calibration = samples.slice(0, calibCount);
  const startedRows = performance.now();
  const collector = await openLayerInputs(graph, { total: calibration.length });
  for (const s of calibration) await collector.add(s);
  const rows = collector.rows();
  collector.dispose();
  const stats = await calibrate(graph, calibration, { histograms: false });
  const rowSeconds = (performance.now() - startedRows) / 1000;
  console.log(`layer inputs sampled and channel means measured in ${rowSeconds.toFixed(1)} s`);
  console.log('| rounding | top-1 | agreement | SQNR dB | rounding s |');
  console.log('|---|---|---|---|---|');
  for (const rounding of methods) {
    const started = performance.now();
    const simulated = cloneGraph(graph);
    const subgraph = simulated.subgraphs[0];
    subgraph.operators.forEach((op) => {
      const builtin = builtinCodeOf(simulated.operatorCodes[op.opcodeIndex]);
      if (builtin !== BuiltinOperator.CONV_2D && builtin !== BuiltinOperator.FULLY_CONNECTED) return;
      const inputs = rows.get(rangeKey(0, op.outputs[0]));
      if (!inputs) return;
      const [input, w, b] = op.inputs;
      const values = constantAsFloat32(simulated, 0, w);
      const shape = subgraph.tensors[w].shape;
      const params = symmetricWeightParams(values, shape, 0, true, { qmax: 7 });
      const q = roundWeights(rounding, { values, shape, scales: params.scale, axis: 0, bits: 4, inputs, centered: true });
      const inner = values.length / shape[0];
      const rounded = Float32Array.from(q, (v, i) => v * params.scale[Math.floor(i / inner)]);
      const means = stats.channelMeans.get(rangeKey(0, input));
      if (b !== undefined && b >= 0 && means) {
        const bias = constantAsFloat32(simulated, 0, b);
        const corrected = correctBias(builtin, values, rounded, shape, bias, means);
        if (corrected) simulated.buffers[subgraph.tensors[b].buffer] = { data: bytesOf(corrected).slice() };
      }
      simulated.buffers[subgraph.tensors[w].buffer] = { data: bytesOf(rounded).slice() };
    });
    const seconds = (performance.now() - started) / 1000;
    const r = await evaluate(writeModel(simulated), calibCount, evalCount);
    console.log(`| ${rounding} | ${pct(r.top1)} | ${pct(r.agreement)} | ${r.sqnr.toFixed(2)} | ${seconds.toFixed(1)} |`);
  }
}
