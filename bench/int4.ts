/**
 * bench/int4: int4 weights against int8, weight-only and dynamic, on the shared float models: file
 * size against the input, and the worst output's SQNR against the input model in LiteRT on seeded
 * random inputs (signal and noise powers summed over the inputs; outputs with |y| < 1e-3 everywhere
 * are not measured; transformer_ff_block_float's output is 0 on any input, its FC weight being all
 * zeros, so its SQNR is infinite whatever the weights). Forms LiteRT.js cannot run are stored the nearest way it runs; the notes say so.
 * Run: npm run bench:int4 [-- --inputs 3 --models a.tflite,b.tflite]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { seededRuntimeOutputs } from '../src/engine/engine-test-support';
import { sqnrDb } from '../src/evaluate/metrics';
import { initRuntime } from '../src/runtime/start';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, recipeLabel, type Recipe } from '../src/optimize/recipe';
import { readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { quantizationState } from '../src/tflite/summary';

const MODELS = [
  'transformer_ff_block_float.tflite',
  'text_avgwordvec_embedder_float.tflite',
  'mnist_conv_fc_float.tflite',
  'mobilenet_v1_0.25_224_float.tflite',
  'face_detection_short_range_fp16.tflite',
  'selfie_segmentation_fp16.tflite',
  'pose_landmark_lite_fp16.tflite',
  'pose_landmark_heavy_fp16.tflite',
  'ssd_mobilenet_v2_oidv4_fp16.tflite',
];
const { values } = parseArgs({ options: { inputs: { type: 'string', default: '3' }, models: { type: 'string' } } });
const inputCount = Number(values.inputs);
const models = values.models ? values.models.split(',') : MODELS;

function variants(): Recipe[] {
  const out: Recipe[] = [];
  for (const technique of ['weight-int8', 'dynamic'] as const) {
    const base = defaultRecipe(technique);
    out.push(base, { ...base, weightBits: 4 }, { ...base, weightBits: 4, blockSize: 32 }, { ...base, weightBits: 4, blockSize: 128 });
  }
  return out;
}


/** Worst SQNR over the outputs that carry signal; Infinity when none does (an all-zero output). */
function worstSqnr(reference: Float32Array[][], got: Float32Array[][]): number {
  let worst = Infinity;
  reference[0].forEach((_, o) => {
    const ref = Float32Array.from(reference.flatMap((r) => Array.from(r[o])));
    if (ref.every((v) => Math.abs(v) < 1e-3)) return;
    const out = Float32Array.from(got.flatMap((r) => Array.from(r[o])));
    worst = Math.min(worst, sqnrDb(ref, out));
  });
  return worst;
}

await initRuntime();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, LiteRT.js 2.5.3 (wasm CPU)`);
console.log(`inputs: ${inputCount} seeded random input set(s) per model (randomInputs seeds 1..${inputCount}); size = file / input file; SQNR = worst output vs the input model\n`);
const labels = variants().map(recipeLabel);
console.log(`| model | input | ${labels.join(' | ')} |`);
console.log(`|---|---|${labels.map(() => '---').join('|')}|`);
const notes: string[] = [];
const seeds = Array.from({ length: inputCount }, (_, i) => i + 1);
for (const name of models) {
  const bytes = readSharedModel(name);
  const reference = await seededRuntimeOutputs(bytes, seeds);
  const cells: string[] = [];
  for (const recipe of variants()) {
    try {
      const result = await optimizeModel({ model: bytes, recipe, allowFloatFallback: true });
      const sqnr = worstSqnr(reference, await seededRuntimeOutputs(result.bytes, seeds));
      // Files carrying an appended zip (text_avgwordvec's vocab.txt) keep it: say what the model part shrank to.
      const zip = readModel(bytes).appendedZip?.bytes.length ?? 0;
      const modelPart = zip ? ` (model part ${((result.bytes.length - zip) / (bytes.length - zip)).toFixed(3)}x)` : '';
      cells.push(`${(result.bytes.length / bytes.length).toFixed(3)}x${modelPart}, ${Number.isFinite(sqnr) ? sqnr.toFixed(1) : 'inf'} dB`);
      const skipped = result.notes.filter((n) => /instead of|DEQUANTIZE|failure/.test(n));
      if (skipped.length) notes.push(`${name} ${result.label}: ${skipped.join('; ')}`);
    } catch (error) {
      cells.push('fails');
      notes.push(`${name} ${recipeLabel(recipe)}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  console.log(`| ${name} | ${(bytes.length / 1e6).toFixed(2)} MB ${quantizationState(readModel(bytes))} | ${cells.join(' | ')} |`);
}
console.log('\nnotes:');
for (const note of notes) console.log(`- ${note}`);
