/**
 * `npm run hashes [-- --out FILE]`: the sha1 of what every CLI recipe writes for every shared model,
 * one line per model + recipe, so a refactor can show it changed no output byte (run before and
 * after, diff the two). Each recipe goes through the core functions the CLI calls (optimizeModel,
 * runChain, dequantizeBytes, and writeModel(readModel()) for "none"), with `skipCheck` since only
 * the bytes matter here. Calibrated recipes get 8 seeded random samples (randomInputs, seeds 1..8,
 * shaped as LiteRT runs the model). A recipe that refuses a model prints `error: <code>`.
 *
 * The work runs in a child process; an item that takes over ITEM_LIMIT_MS is killed, printed as
 * skipped, and a new child goes on with the next item.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { toErrorInfo } from '../src/errors';
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import type { Sample } from '../src/runtime/samples';
import { parseChain, runChain } from '../src/optimize/chain';
import { dequantizeBytes, optimizeModel } from '../src/optimize/pipeline';
import { needsCalibration, parseRecipe, type Technique } from '../src/optimize/recipe';
import { readSharedModel, sharedModelNames } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';
import { writeModel } from '../src/tflite/write';

/** The CLI's recipes (`--recipe`), then chains. Chains with training need data and are left out. */
const RECIPES = ['none', 'float16', 'weight-int8', 'dynamic', 'int8', 'int16x8', 'dequantize', 'prune:0.5+int8', 'cluster:16+int8', 'prune:0.5+cluster:16+int8'];
const CALIBRATION_SAMPLES = 8;
const ITEM_LIMIT_MS = 60_000;

interface Item {
  model: string;
  recipe: string;
}

type ChildMessage = { index: number; line: string; ms: number };

const items: Item[] = sharedModelNames().flatMap((model) => RECIPES.map((recipe) => ({ model, recipe })));

if (process.argv.includes('--child')) await child(Number(process.argv[process.argv.indexOf('--child') + 1]));
else await parent();

async function parent(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex > 0 ? process.argv[outIndex + 1] : undefined;
  const width = Math.max(...items.map((i) => i.model.length));
  const recipeWidth = Math.max(...RECIPES.map((r) => r.length));
  const lines: string[] = [];
  const started = performance.now();
  let next = 0;
  while (next < items.length) {
    next = await runChild(next, (index, text, ms) => {
      const line = `${items[index].model.padEnd(width)}  ${items[index].recipe.padEnd(recipeWidth)}  ${text}`;
      lines.push(line);
      process.stdout.write(`${line}\n`);
      process.stderr.write(`  (${(ms / 1000).toFixed(1)} s)\n`);
    });
  }
  process.stderr.write(`${lines.length} lines in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  if (out) writeFileSync(out, `${lines.join('\n')}\n`);
}

/** Runs items from `start` in a child; returns the index to go on from (past a timed-out item). */
function runChild(start: number, report: (index: number, text: string, ms: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker: ChildProcess = fork(process.argv[1], ['--child', String(start)], { execArgv: process.execArgv, stdio: ['ignore', 2, 2, 'ipc'] });
    let current = start;
    let timer: ReturnType<typeof setTimeout>;
    let timedOut = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        report(current, `skipped: over ${ITEM_LIMIT_MS / 1000} s`, ITEM_LIMIT_MS);
        worker.kill('SIGKILL');
      }, ITEM_LIMIT_MS);
    };
    arm();
    worker.on('message', (message: ChildMessage) => {
      report(message.index, message.line, message.ms);
      current = message.index + 1;
      arm();
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (timedOut) resolve(current + 1);
      else if (current === items.length) resolve(current);
      else reject(new Error(`the child process exited (code ${code}) at item ${current}`));
    });
  });
}

async function child(start: number): Promise<void> {
  await initRuntime();
  let cached = null as { model: string; bytes: Uint8Array; samples: Sample[] | string } | null;
  for (let index = start; index < items.length; index++) {
    const { model, recipe } = items[index];
    const began = performance.now();
    if (cached?.model !== model) cached = { model, bytes: readSharedModel(model), samples: await samplesFor(readSharedModel(model)) };
    let line: string;
    try {
      const bytes = await output(cached.bytes, recipe, cached.samples);
      line = bytes === null ? `skipped: LiteRT cannot load the model for calibration samples (${cached.samples as string})` : createHash('sha1').update(bytes).digest('hex');
    } catch (error) {
      line = `error: ${toErrorInfo(error).code}`;
    }
    process.send!({ index, line, ms: performance.now() - began } satisfies ChildMessage);
  }
  process.disconnect();
  process.exit(0);
}

/** Seeded random samples as LiteRT runs the model, or the error code when it cannot load it. */
async function samplesFor(bytes: Uint8Array): Promise<Sample[] | string> {
  try {
    const model = await loadModel(bytes);
    try {
      return Array.from({ length: CALIBRATION_SAMPLES }, (_, i) => randomInputs(model, i + 1) as Sample);
    } finally {
      model.delete();
    }
  } catch (error) {
    return toErrorInfo(error).code;
  }
}

/** The bytes the CLI would write for this recipe; null when it needs samples the model cannot give. */
async function output(model: Uint8Array, recipe: string, samples: Sample[] | string): Promise<Uint8Array | null> {
  if (recipe === 'none') return writeModel(readModel(model));
  if (recipe === 'dequantize') return dequantizeBytes(model).bytes;
  if (recipe.includes('+')) {
    const chain = parseChain(recipe, { recipeFor: (technique) => parseRecipe({ technique }) });
    const calibrated = !!chain.quantize && needsCalibration(chain.quantize);
    if (calibrated && typeof samples === 'string') return null;
    const result = await runChain({ model, chain, calibration: calibrated ? (samples as Sample[]) : undefined, calibrationCount: CALIBRATION_SAMPLES, skipCheck: true });
    return result.bytes;
  }
  const parsed = parseRecipe({ technique: recipe as Technique });
  const calibrated = needsCalibration(parsed);
  if (calibrated && typeof samples === 'string') return null;
  const result = await optimizeModel({ model, recipe: parsed, calibration: calibrated ? (samples as Sample[]) : undefined, calibrationCount: CALIBRATION_SAMPLES, skipCheck: true });
  return result.bytes;
}
