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

export function readSharedModel(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(modelsDir, name)));
}


export { seededRandom };
