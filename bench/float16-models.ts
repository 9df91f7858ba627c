/**
 * bench/float16-models: int8 of every shared model that stores float16 weights behind DEQUANTIZE
 * (MediaPipe's), calibrated on real photos and measured on photos calibration never saw: size against
 * the float16 input, ops left in float and why, SQNR of each output against the float16 model in
 * LiteRT, and the dequantize recipe's float32 model against the float16 one.
 * Run: npm run bench:float16-models [-- --calib 100 --eval 50]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset';
import { defaultPreprocessing, graphInputs } from '../src/data/default-preprocessing';
import { filesFromPath } from '../src/data/files-node';
import { runtimeReals } from '../src/engine/engine-test-support';
import { sqnrDb } from '../src/evaluate/metrics';
import { loadModel } from '../src/runtime/load';
import { initRuntime } from '../src/runtime/start';
import { floatOpCauses } from '../src/optimize/fallback';
import { dequantizeBytes, optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe } from '../src/optimize/recipe';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { quantizationState } from '../src/tflite/summary';

const { values } = parseArgs({ options: { calib: { type: 'string', default: '100' }, eval: { type: 'string', default: '50' } } });
const calibCount = Number(values.calib);
const evalCount = Number(values.eval);

/** Input normalization from SOURCES.md: MediaPipe feeds these models [-1, 1] or [0, 1] RGB. */
const MODELS: { name: string; mean: number; std: number }[] = [
  { name: 'face_detection_short_range_fp16.tflite', mean: 127.5, std: 127.5 },
  { name: 'selfie_segmentation_fp16.tflite', mean: 0, std: 255 },
  { name: 'pose_landmark_lite_fp16.tflite', mean: 0, std: 255 },
  { name: 'pose_landmark_heavy_fp16.tflite', mean: 0, std: 255 },
  { name: 'ssd_mobilenet_v2_oidv4_fp16.tflite', mean: 127.5, std: 127.5 },
];

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
console.log(`data: imagenet_val_subset, images 0..${calibCount - 1} calibrate, ${calibCount}..${calibCount + evalCount - 1} evaluate\n`);
console.log('| model | input | int8 | size | ops left float | SQNR per output (dB, eval images) | dequantize: size, max rel. diff | time |');
console.log('|---|---|---|---|---|---|---|---|');

const files = await filesFromPath(join(dataDir, 'imagenet_val_subset'));

/** Every output of the model on each sample, as float. */
async function outputsOn(bytes: Uint8Array, samples: Float32Array[][]): Promise<Float32Array[][]> {
  const model = await loadModel(bytes);
  try {
    const rows: Float32Array[][] = [];
    for (const sample of samples) rows.push(runtimeReals(model, await model.run(sample)));
    return rows;
  } finally {
    model.delete();
  }
}

/** SQNR over all samples of each output (signal and noise powers summed across samples). */
function sqnrPerOutput(reference: Float32Array[][], got: Float32Array[][]): number[] {
  return reference[0].map((_, o) => {
    const ref = Float32Array.from(reference.flatMap((r) => Array.from(r[o])));
    const out = Float32Array.from(got.flatMap((r) => Array.from(r[o])));
    return sqnrDb(ref, out);
  });
}

for (const { name, mean, std } of MODELS) {
  const bytes = readSharedModel(name);
  const graph = readModel(bytes);
  const dataset = await openDataset(files, graphInputs(graph), {
    preprocessing: graph.subgraphs[0].inputs.map((_, i) => ({ ...defaultPreprocessing(graph, i).preprocessing!, mean: [mean], std: [std] })),
  });
  const take = async (from: number, count: number) => {
    const samples: Float32Array[][] = [];
    for (let i = from; i < from + count; i++) samples.push(await dataset.sample(i));
    return samples;
  };
  const calibration = await take(0, calibCount);
  const evaluation = await take(calibCount, evalCount);
  const started = performance.now();
  const result = await optimizeModel({ model: bytes, recipe: defaultRecipe('int8'), calibration });
  const seconds = (performance.now() - started) / 1000;
  const reference = await outputsOn(bytes, evaluation);
  const sqnr = sqnrPerOutput(reference, await outputsOn(result.bytes, evaluation));
  const floatOps = floatOpCauses(result.floatOps).map((c) => `${c.count} ${c.reason} (${c.examples.join(', ')})`).join('; ') || 'none';
  const dequantized = dequantizeBytes(bytes).bytes;
  const deqOut = await outputsOn(dequantized, evaluation.slice(0, 5));
  const refOut = reference.slice(0, 5);
  let worst = 0;
  refOut.forEach((r, s) => r.forEach((ref, o) => {
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - deqOut[s][o][i]) / scale);
  }));
  console.log(
    `| ${name} | ${(bytes.length / 1e6).toFixed(2)} MB ${quantizationState(graph)} | ${(result.bytes.length / 1e6).toFixed(2)} MB | ${(result.bytes.length / bytes.length).toFixed(3)}x | ${floatOps} | ${sqnr.map((v) => v.toFixed(1)).join(' / ')} | ${(dequantized.length / bytes.length).toFixed(2)}x, ${quantizationState(readModel(dequantized))}, ${worst.toExponential(1)} | ${seconds.toFixed(1)} s |`,
  );
}
