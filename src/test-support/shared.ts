/** Paths to the shared test models and data (`../shared` beside the repository, on CI too). */
import { seededRandom } from '../seeded-random';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = resolve(repoRoot, '../shared');
export const modelsDir = join(sharedDir, 'models');
export const dataDir = join(sharedDir, 'data');

if (!existsSync(modelsDir)) {
  throw new Error(`Shared test models not found at ${modelsDir}; tests expect ../shared beside the repository.`);
}

/** Every shared .tflite, as paths relative to models/ (e.g. "ops/two_signatures.tflite"). */
export function sharedModelNames(): string[] {
  const top = readdirSync(modelsDir).filter((f) => f.endsWith('.tflite'));
  const ops = readdirSync(join(modelsDir, 'ops')).filter((f) => f.endsWith('.tflite')).map((f) => `ops/${f}`);
  return [...top, ...ops].sort();
}

/**
 * Shared models LiteRT.js 2.5.3 cannot run, with the clear reason our runtime adapter gives. Tests that
 * run every model in LiteRT assert this refusal instead of skipping them silently.
 */
export const LITERT_CANNOT_RUN: Readonly<Record<string, RegExp>> = {
  'mnist_lstm_float.tflite': /variable \(state\) tensors/,
  'mnist_lstm_int8.tflite': /variable \(state\) tensors/,
  'recommendation_rnn_float.tflite': /variable \(state\) tensors/,
  // Its attention mask is a BOOL input, a dtype LiteRT.js's JS API has no way to pass in.
  'conformer_block_float.tflite': /input 'serving_default_args_1:0' has type BOOL/,
};

export function readSharedModel(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(modelsDir, name)));
}


export { seededRandom };
