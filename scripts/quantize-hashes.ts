/**
 * scripts/quantize-hashes: sha1 of the bytes every integer recipe (and two chains) writes for every
 * float shared model, on seeded random calibration samples. A refactor of the quantizer that must not
 * change behaviour runs it before and after and diffs the two outputs; the hashes are never stored
 * as fixtures (they would go stale with every intended change). Each line: model, recipe, sha1 of the
 * bytes and a short sha1 of the ops left float with their reasons (or the error).
 * Run: npm run hashes:quantize > /tmp/before.txt   (progress and timings go to stderr)
 *      [-- --only NAME_SUBSTRING] [-- --skip-heavy]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { initRuntime } from '../src/runtime/start';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import type { Sample } from '../src/runtime/samples';
import { parseChain, runChain } from '../src/optimize/chain';
import { optimizeModel } from '../src/optimize/pipeline';
import { defaultRecipe, type Recipe } from '../src/optimize/recipe';
import { readSharedModel, seededRandom, sharedModelNames } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { TensorType } from '../src/tflite/schema/generated/tflite_generated';
import { quantizationState } from '../src/tflite/summary';

const { values } = parseArgs({ options: { only: { type: 'string' }, 'skip-heavy': { type: 'boolean', default: false } } });
const SAMPLES = 5;

const recipe = (technique: 'int8' | 'int16x8', changes: Partial<Recipe> = {}): Recipe => ({ ...defaultRecipe(technique), ...changes });
const RECIPES: [string, Recipe][] = [
  ['int8', recipe('int8')],
  ['int8:per-tensor', recipe('int8', { granularity: 'per-tensor' })],
  ['int8:io-int8', recipe('int8', { io: 'int8' })],
  ['int8:io-uint8', recipe('int8', { io: 'uint8' })],
  ['int8:per-tensor:io-uint8', recipe('int8', { granularity: 'per-tensor', io: 'uint8' })],
  ['int8:io-int8:integer-only', recipe('int8', { io: 'int8', integerOnly: true })],
  ['int16x8', recipe('int16x8')],
  ['int16x8:io-int8', recipe('int16x8', { io: 'int8' })],
];
const CHAINS = ['prune:0.5+int8', 'cluster:16+int8'];

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

/** Seeded random samples in LiteRT's input order; from the graph when LiteRT cannot load the model. */
async function samplesFor(bytes: Uint8Array): Promise<Sample[]> {
  try {
    const model = await loadModel(bytes);
    const samples = Array.from({ length: SAMPLES }, (_, i) => randomInputs(model, 10 + i) as Sample);
    model.delete();
    return samples;
  } catch {
    // LiteRT.js cannot load it (state tensors, a BOOL input): subgraph 0's inputs, in their order.
    const graph = readModel(bytes);
    const main = graph.subgraphs[0];
    return Array.from({ length: SAMPLES }, (_, i) => {
      const random = seededRandom(10 + i);
      return main.inputs.map((t) => {
        const tensor = main.tensors[t];
        const count = tensor.shape.reduce((n, d) => n * Math.max(d, 1), 1);
        if (tensor.type === TensorType.FLOAT32) return Float32Array.from({ length: count }, () => random() * 2 - 1);
        if (tensor.type === TensorType.BOOL) return Uint8Array.from({ length: count }, () => (random() < 0.5 ? 1 : 0));
        return Int32Array.from({ length: count }, () => Math.floor(random() * 2));
      });
    });
  }
}

async function line(model: string, label: string, work: () => Promise<{ bytes: Uint8Array; floatOps?: unknown[] }>): Promise<void> {
  const started = performance.now();
  let text: string;
  try {
    const { bytes, floatOps } = await work();
    text = `${sha1(bytes)} floatOps:${sha1(new TextEncoder().encode(JSON.stringify(floatOps ?? []))).slice(0, 12)}`;
  } catch (error) {
    text = `error: ${(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 80)}`;
  }
  console.log(`${model} ${label} ${text}`);
  console.error(`  ${model} ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await initRuntime();
for (const name of sharedModelNames()) {
  if (values.only && !name.includes(values.only)) continue;
  if (values['skip-heavy'] && name.includes('pose_landmark_heavy')) continue;
  const bytes = readSharedModel(name);
  const state = quantizationState(readModel(bytes));
  if (state !== 'float32' && state !== 'float16') continue;
  const calibration = await samplesFor(bytes);
  for (const [label, r] of RECIPES) {
    await line(name, label, () => optimizeModel({ model: bytes, recipe: r, calibration, skipCheck: true, allowFloatFallback: true }));
  }
  for (const text of CHAINS) {
    await line(name, text, async () => {
      const result = await runChain({ model: bytes, chain: parseChain(text), calibration, skipCheck: true, allowFloatFallback: true });
      return { bytes: result.bytes, floatOps: result.quantized?.floatOps };
    });
  }
}
