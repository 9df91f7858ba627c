/**
 * tflite-opt: the workbench core from the command line.
 *
 *   tflite-opt inspect MODEL [--json]
 *   tflite-opt optimize MODEL --recipe none -o OUT
 *   tflite-opt run MODEL [--input FILE.npy ...] [--seed N] [--json]
 *
 * Output goes to stdout, progress and errors to stderr; a bad input exits non-zero with one line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkbenchError, toErrorInfo } from '../errors';
import { formatSummary } from './format-summary';
import { runCommand } from './run-command';
import { summarizeModel } from '../tflite/summary';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';

const USAGE = `usage:
  tflite-opt inspect MODEL [--json]
  tflite-opt optimize MODEL --recipe none -o OUT
  tflite-opt run MODEL [--input FILE.npy ...] [--seed N] [--json]`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'inspect':
        return inspect(rest);
      case 'optimize':
        return optimize(rest);
      case 'run':
        return await run(rest);
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      process.stderr.write(`tflite-opt: ${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`tflite-opt: ${toErrorInfo(error).message}\n`);
    return 1;
  }
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

function oneModel(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`expected one MODEL path, got ${positionals.length}`);
  return positionals[0];
}

export function readInputFile(path: string, what = 'file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new WorkbenchError('bad-input', `cannot read ${what} ${path}: ${why}`);
  }
}

function inspect(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const path = oneModel(positionals);
  const summary = summarizeModel(readInputFile(path, 'model'));
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(path, summary));
  return 0;
}

function optimize(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { recipe: { type: 'string' }, output: { type: 'string', short: 'o' } },
  });
  const path = oneModel(positionals);
  if (!values.output) throw new UsageError('optimize needs -o OUT');
  if (values.recipe !== 'none') {
    throw new UsageError(`unknown recipe "${values.recipe ?? ''}"; this version knows only "none" (read and write back)`);
  }
  const started = performance.now();
  const graph = readModel(readInputFile(path, 'model'));
  const bytes = writeModel(graph);
  writeFileSync(values.output, bytes);
  process.stderr.write(`wrote ${values.output} (${bytes.length} bytes) in ${(performance.now() - started).toFixed(0)} ms\n`);
  return 0;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { input: { type: 'string', multiple: true }, seed: { type: 'string' }, json: { type: 'boolean' } },
  });
  const path = oneModel(positionals);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed takes an integer, got "${values.seed}"`);
  const output = await runCommand(readInputFile(path, 'model'), {
    inputs: (values.input ?? []).map((p) => ({ path: p, bytes: readInputFile(p, 'input') })),
    seed,
    json: values.json ?? false,
  });
  process.stdout.write(output);
  return 0;
}
