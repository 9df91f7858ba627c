/** `tflite-opt run`: one inference in LiteRT, on .npy inputs or seeded random ones. */
import { WorkbenchError } from '../errors';
import { readNpy } from '../data/npy';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import type { RuntimeData, RuntimeTensor, RuntimeTensorInfo } from '../runtime/types';
import type { RunOptions } from './command-options';
import { formatShape } from './format-summary';
import { readInputFile } from './read-input-file';
import { UsageError } from './usage-error';

export interface RunRequest {
  inputs: { path: string; bytes: Uint8Array }[];
  seed: number;
  json: boolean;
}

export async function run(options: RunOptions, path: string): Promise<number> {
  const seed = options.seed === undefined ? 1 : Number(options.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed takes an integer, got "${options.seed}"`);
  const output = await runCommand(readInputFile(path, 'model'), {
    inputs: options.input.map((p) => ({ path: p, bytes: readInputFile(p, 'input') })),
    seed,
    json: options.json,
  });
  process.stdout.write(output);
  return 0;
}

export async function runCommand(modelBytes: Uint8Array, request: RunRequest): Promise<string> {
  await initRuntime();
  const model = await loadModel(modelBytes);
  try {
    let inputs: RuntimeData[];
    if (request.inputs.length === 0) {
      inputs = randomInputs(model, request.seed);
    } else {
      if (request.inputs.length !== model.inputs.length) {
        throw new WorkbenchError(
          'bad-input',
          `the model has ${model.inputs.length} input(s) (${model.inputs.map((i) => i.name).join(', ')}) but ${request.inputs.length} --input file(s) were given`,
        );
      }
      inputs = request.inputs.map((file, i) => npyAsInput(file.path, file.bytes, model.inputs[i]));
    }
    const outputs = await model.run(inputs);
    return request.json ? jsonOutput(outputs, model.changes) : textOutput(outputs, model.changes);
  } finally {
    model.delete();
  }
}

function npyAsInput(path: string, bytes: Uint8Array, info: RuntimeTensorInfo): RuntimeData {
  const array = readNpy(bytes, path);
  const count = info.shape.reduce((n, d) => n * d, 1);
  const arrayCount = array.shape.reduce((n, d) => n * d, 1);
  if (array.dtype !== info.dtype || arrayCount !== count) {
    throw new WorkbenchError(
      'bad-input',
      `input "${info.name}" takes ${info.dtype} ${formatShape({ shape: info.shape, shapeSignature: null })} but ${path} holds ${array.dtype} (${array.shape.join(', ')})`,
    );
  }
  return array.data as RuntimeData;
}

function stats(data: RuntimeData): { min: number; max: number; mean: number; argmax: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let argmax = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) {
      max = v;
      argmax = i;
    }
    sum += v;
  }
  return { min, max, mean: data.length ? sum / data.length : 0, argmax };
}

function textOutput(outputs: RuntimeTensor[], changes: string[]): string {
  const lines = changes.map((c) => `note: ${c}`);
  for (const output of outputs) {
    const s = stats(output.data);
    const head = Array.from(output.data.subarray(0, 8), (v) => (output.dtype === 'float32' ? v.toPrecision(6) : String(v)));
    lines.push(
      `${output.name}  ${output.dtype} [${output.shape.join(', ')}]`,
      `  min ${s.min.toPrecision(6)}  max ${s.max.toPrecision(6)} (index ${s.argmax})  mean ${s.mean.toPrecision(6)}`,
      `  first values: ${head.join(', ')}${output.data.length > 8 ? ', ...' : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function jsonOutput(outputs: RuntimeTensor[], changes: string[]): string {
  return `${JSON.stringify({
    changes,
    outputs: outputs.map((o) => ({ name: o.name, dtype: o.dtype, shape: o.shape, data: Array.from(o.data) })),
  })}\n`;
}
