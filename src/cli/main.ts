/**
 * tflite-opt: the workbench core from the command line.
 *
 *   tflite-opt inspect MODEL [--json]
 *   tflite-opt optimize MODEL --recipe float16|weight-int8|dynamic|int8|int16x8|dequantize|none -o OUT
      [--recipe-file R.json (ours or AI Edge Quantizer's)] [--calib DIR|FILE.npy] [--calib-count N]
      [--labels CSV --label-column NAME] [--mean M[,M,M]] [--std S[,S,S]] [--io float|int8|uint8]
      [--per-tensor] [--algo minmax|moving-average|percentile|mse] [--exclude REGEX|OP_TYPE]...
      [--integer-only] [--report REPORT.json]
 *   tflite-opt optimize MODEL --recipe 'prune:0.5[:2of4]+cluster:16[:kmeans++][:per-channel]+int8' -o OUT [...]
      [--eval DIR|FILE.npy [--eval-count N]]   (chains: src/optimize/chain.ts)
 *   tflite-opt optimize MODEL --recipe 'prune:0.75+finetune+int8' | 'qat+int8' --train DIR|FILE.npy
      [--epochs N] [--batch N] [--lr X] -o OUT   (training: src/optimize/finetune.ts)
 *   tflite-opt run MODEL [--input FILE.npy ...] [--seed N] [--json]
 *
 * Output goes to stdout, progress and errors to stderr; a bad input exits non-zero with one line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkbenchError, toErrorInfo } from '../errors';
import { formatSummary } from './format-summary';
import { progressPrinter } from './progress';
import { runCommand } from './run-command';
import { summarizeModel } from '../tflite/summary';
import { readModel } from '../tflite/read';
import { randomIndices, subset } from '../data/dataset';
import { compareModels } from '../evaluate/compare';
import { measureLatency } from '../evaluate/latency';
import { nodeDataJson, modelNodeData } from '../evaluate/model-explorer';
import { buildReport, reportMarkdown, reportToJson } from '../evaluate/report';
import { compareSizes } from '../evaluate/size';
import { datasetSamples, openDataFlags, type DataFlags } from './data-options';
import { initNodeEngine } from '../engine/backend-node';
import type { TrainingLoss, TrainingProgress } from '../optimize/finetune';
import { dequantizeBytes, optimizeModel, type OptimizeRequest } from '../optimize/pipeline';
import { fromAeqRecipe, needsCalibration, parseRecipe, TECHNIQUES, type Recipe, type Technique } from '../optimize/recipe';
import { writeModel } from '../tflite/write';
import { isChainText, parseChain, type ChainRequest } from '../optimize/chain';
import { runChainWithAccuracy, type ChainWithAccuracyRequest } from '../app/chain-accuracy';
import { scopeFromText } from '../optimize/recipe';
import { reportTable } from '../optimize/sparsity-report';

const USAGE = `usage:
  tflite-opt inspect MODEL [--json]
  tflite-opt optimize MODEL --recipe float16|weight-int8|dynamic|int8|int16x8|dequantize|none -o OUT
      [--recipe-file R.json (ours or AI Edge Quantizer's)] [--calib DIR|FILE.npy] [--calib-count N]
      [--labels CSV --label-column NAME] [--mean M[,M,M]] [--std S[,S,S]] [--io float|int8|uint8]
      [--per-tensor] [--algo minmax|moving-average|percentile|mse] [--exclude REGEX|OP_TYPE]...
      [--integer-only] [--report REPORT.json]
  tflite-opt optimize MODEL --recipe CHAIN -o OUT [the options above]
      [--eval DIR|FILE.npy [--eval-count N] [--eval-offset N]]
      [--train DIR|FILE.npy [--train-count N] [--epochs N] [--batch N] [--lr X] [--loss cross-entropy|distillation]]
      CHAIN: prune:S[:2of4][:global|per-channel][:keep-first][:keep-last][:min=N][:ops=A,B] and/or
      cluster:K[:optimal|kmeans++|linear|density|random][:per-channel][:keep-zeros][:seed=N][:min=N][:ops=A,B],
      then optionally finetune (trains on --train with sparsity / clusters kept), then optionally one of
      float16|weight-int8|dynamic|int8|int16x8, joined by "+" (e.g. prune:0.75+finetune+int8);
      or qat+int8 (quantization-aware training on --train, then int8)
  tflite-opt run MODEL [--input FILE.npy ...] [--seed N] [--json]
  tflite-opt eval MODEL [--ref FLOAT_MODEL] --data DIR|FILE.npy [--count N] [--labels CSV --label-column NAME]
      [--mean M[,M,M]] [--std S[,S,S]] [--per-layer] [--latency] [--json] [--report R.json] [--overlay ME.json]`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'inspect':
        return inspect(rest);
      case 'optimize':
        return await optimize(rest);
      case 'run':
        return await run(rest);
      case 'eval':
        return await evaluate(rest);
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

async function optimize(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      recipe: { type: 'string' },
      'recipe-file': { type: 'string' },
      output: { type: 'string', short: 'o' },
      calib: { type: 'string' },
      'calib-count': { type: 'string' },
      labels: { type: 'string' },
      'label-column': { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      io: { type: 'string' },
      'per-tensor': { type: 'boolean' },
      algo: { type: 'string' },
      exclude: { type: 'string', multiple: true },
      'integer-only': { type: 'boolean' },
      report: { type: 'string' },
      eval: { type: 'string' },
      'eval-count': { type: 'string' },
      'eval-offset': { type: 'string' },
      train: { type: 'string' },
      'train-count': { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      loss: { type: 'string' },
    },
  });
  const path = oneModel(positionals);
  if (!values.output) throw new UsageError('optimize needs -o OUT');
  const model = readInputFile(path, 'model');
  const started = performance.now();
  if (values.recipe === 'none' || values.recipe === 'dequantize') {
    const bytes = values.recipe === 'none' ? writeModel(readModel(model)) : dequantizeBytes(model).bytes;
    writeFileSync(values.output, bytes);
    process.stderr.write(`wrote ${values.output} (${bytes.length} bytes) in ${(performance.now() - started).toFixed(0)} ms\n`);
    return 0;
  }
  if (values.recipe && isChainText(values.recipe)) return await optimizeChain(path, model, values, started);
  const recipe = recipeFromFlags(values);
  const graph = readModel(model);
  let calibration: OptimizeRequest['calibration'];
  let calibrationCount: number | undefined;
  if (needsCalibration(recipe)) {
    if (!values.calib) throw new WorkbenchError('bad-input', `${recipe.technique} needs calibration data: pass --calib DIR|FILE.npy`);
    const dataset = await openDataFlags(graph, { path: values.calib, labels: values.labels, labelColumn: values['label-column'], mean: values.mean, std: values.std });
    const count = values['calib-count'] === undefined ? recipe.calibration.samples : Number(values['calib-count']);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--calib-count takes a positive integer, got "${values['calib-count']}"`);
    const indices = randomIndices(dataset.size, count, 0);
    calibration = datasetSamples(dataset, indices);
    calibrationCount = indices.length;
    for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  }
  let lastStage = '';
  const calibrating = progressPrinter('calibrating');
  const result = await optimizeModel({
    model,
    recipe,
    calibration,
    calibrationCount,
    onProgress: (stage, done, total) => {
      if (stage === 'calibrate') calibrating(done, total);
      else if (stage !== lastStage) process.stderr.write(`${stage}...\n`);
      lastStage = stage;
    },
  });
  writeFileSync(values.output, result.bytes);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  process.stderr.write(`wrote ${values.output} (${result.bytes.length} bytes, ${(result.bytes.length / model.length).toFixed(3)}x the input) in ${(performance.now() - started).toFixed(0)} ms\n`);
  if (values.report) {
    const report = { model: path, output: values.output, recipe: result.recipe, label: result.label, bytes: result.bytes.length, inputBytes: model.length, floatOps: result.floatOps, notes: result.notes, timingsMs: result.timings };
    writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  }
  return 0;
}

type OptimizeFlags = {
  recipe?: string;
  'recipe-file'?: string;
  io?: string;
  'per-tensor'?: boolean;
  algo?: string;
  exclude?: string[];
  'integer-only'?: boolean;
};

/** The recipe: --recipe-file (ours or AEQ's format) or --recipe TECHNIQUE, then flags on top. */
function recipeFromFlags(values: OptimizeFlags): Recipe {
  let base: Record<string, unknown>;
  if (values['recipe-file']) {
    const json = JSON.parse(new TextDecoder().decode(readInputFile(values['recipe-file'], 'recipe file'))) as unknown;
    if (Array.isArray(json)) {
      const { recipe, notMapped } = fromAeqRecipe(json);
      for (const line of notMapped) process.stderr.write(`note: AEQ recipe: not mapped: ${line}\n`);
      base = { ...recipe };
    } else base = json as Record<string, unknown>;
  } else {
    if (!values.recipe) throw new UsageError(`optimize needs --recipe (${[...TECHNIQUES, 'dequantize', 'none'].join('|')}) or --recipe-file`);
    if (!TECHNIQUES.includes(values.recipe as Technique)) {
      throw new UsageError(`unknown recipe "${values.recipe}" (known: ${[...TECHNIQUES, 'dequantize', 'none'].join(', ')})`);
    }
    base = { technique: values.recipe };
  }
  if (values.io) base.io = values.io;
  if (values['per-tensor']) base.granularity = 'per-tensor';
  if (values.algo) base.calibration = { ...(base.calibration as object), algorithm: values.algo };
  if (values['integer-only']) base.integerOnly = true;
  if (values.exclude?.length) base.keepFloat = [...((base.keepFloat as unknown[]) ?? []), ...values.exclude];
  return parseRecipe(base);
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

async function evaluate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ref: { type: 'string' },
      data: { type: 'string' },
      count: { type: 'string' },
      labels: { type: 'string' },
      'label-column': { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      'per-layer': { type: 'boolean' },
      latency: { type: 'boolean' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      overlay: { type: 'string' },
    },
  });
  const path = oneModel(positionals);
  if (!values.data) throw new UsageError('eval needs --data DIR|FILE.npy');
  const candidate = readInputFile(path, 'model');
  const reference = values.ref ? readInputFile(values.ref, 'reference model') : candidate;
  // Data is prepared for the reference (float) model; the comparison quantizes it for the candidate.
  const referenceGraph = readModel(reference);
  const dataset = await openDataFlags(referenceGraph, { path: values.data, labels: values.labels, labelColumn: values['label-column'], mean: values.mean, std: values.std });
  for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  const count = values.count === undefined ? dataset.size : Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count takes a positive integer, got "${values.count}"`);
  const indices = Array.from({ length: Math.min(count, dataset.size) }, (_, i) => i);
  const labels = indices.map((i) => dataset.labels[i]);
  const labeled = labels.every((l) => l !== null);
  const comparison = await compareModels(reference, candidate, datasetSamples(dataset, indices), {
    labels: labeled ? (labels as number[]) : undefined,
    perLayer: values['per-layer'] ?? false,
    total: indices.length,
    onProgress: progressPrinter('evaluating'),
  });
  const latency = values.latency
    ? { reference: values.ref ? await measureLatency(reference) : undefined, candidate: await measureLatency(candidate) }
    : undefined;
  const report = buildReport({
    model: { name: path, reference: values.ref ?? path },
    recipe: null,
    sizes: compareSizes(candidate, reference),
    comparison,
    latency,
    environment: { runtime: 'LiteRT.js (@litertjs/core 2.5.3, wasm CPU)', node: process.version },
  });
  if (values.report) writeFileSync(values.report, reportToJson(report));
  if (values.overlay && comparison.perLayer) writeFileSync(values.overlay, nodeDataJson(modelNodeData(readModel(candidate), comparison.perLayer)));
  process.stdout.write(values.json ? reportToJson(report) : reportMarkdown(report));
  return 0;
}

type ChainFlags = OptimizeFlags & {
  output?: string;
  calib?: string;
  'calib-count'?: string;
  labels?: string;
  'label-column'?: string;
  mean?: string;
  std?: string;
  report?: string;
  eval?: string;
  'eval-count'?: string;
  'eval-offset'?: string;
  train?: string;
  'train-count'?: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  loss?: string;
};

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive integer, got "${value}"`);
  return n;
}

/** --train and its settings, for chains with a finetune or qat step. */
async function trainingFlags(graph: ReturnType<typeof readModel>, values: ChainFlags, dataFlags: (path: string) => DataFlags): Promise<ChainRequest['training']> {
  if (!values.train) throw new WorkbenchError('bad-input', 'finetune and qat need training data: pass --train DIR|FILE.npy (labels optional: without them the float model teaches)');
  const dataset = await openDataFlags(graph, dataFlags(values.train));
  const count = Math.min(positiveInteger(values['train-count'], '--train-count') ?? dataset.size, dataset.size);
  const data = count === dataset.size ? dataset : subset(dataset, Array.from({ length: count }, (_, i) => i));
  const lr = values.lr === undefined ? undefined : Number(values.lr);
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new UsageError(`--lr takes a positive number, got "${values.lr}"`);
  if (values.loss !== undefined && values.loss !== 'cross-entropy' && values.loss !== 'distillation') throw new UsageError(`--loss is cross-entropy or distillation, got "${values.loss}"`);
  for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  await initNodeEngine();
  return {
    data,
    options: {
      epochs: positiveInteger(values.epochs, '--epochs'),
      batchSize: positiveInteger(values.batch, '--batch'),
      learningRate: lr,
      loss: values.loss as TrainingLoss | undefined,
      onProgress: trainingProgressPrinter(),
    },
  };
}

function trainingProgressPrinter(): (p: TrainingProgress) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (p.phase === 'validate') {
      const v = p.validation;
      process.stderr.write(`epoch ${p.epoch}/${p.epochs}: ${p.epoch ? `train loss ${p.loss.toFixed(4)}${p.accuracy === null ? '' : `, accuracy ${(p.accuracy * 100).toFixed(1)}%`}; ` : 'before training: '}${v ? `validation loss ${v.loss.toFixed(4)}${v.accuracy === null ? '' : `, accuracy ${(v.accuracy * 100).toFixed(1)}%`}` : 'no validation split'}\n`);
    } else if (p.phase === 'train' && (now - last > 2000 || p.step === p.stepsPerEpoch)) {
      last = now;
      process.stderr.write(`  epoch ${p.epoch} step ${p.step}/${p.stepsPerEpoch}: loss ${p.loss.toFixed(4)}\n`);
    }
  };
}

/** optimize with a chain (prune / cluster, then optionally one quantization technique). */
async function optimizeChain(path: string, model: Uint8Array, values: ChainFlags, started: number): Promise<number> {
  const chain = parseChain(values.recipe!, {
    recipeFor: (technique) => recipeFromFlags({ ...values, recipe: technique, 'recipe-file': undefined }),
    exclude: (values.exclude ?? []).map(scopeFromText),
  });
  const graph = readModel(model);
  const dataFlags = (dataPath: string) => ({ path: dataPath, labels: values.labels, labelColumn: values['label-column'], mean: values.mean, std: values.std });
  let calibration: OptimizeRequest['calibration'];
  let calibrationCount: number | undefined;
  if (chain.quantize && needsCalibration(chain.quantize)) {
    if (!values.calib) throw new WorkbenchError('bad-input', `${chain.quantize.technique} needs calibration data: pass --calib DIR|FILE.npy`);
    const dataset = await openDataFlags(graph, dataFlags(values.calib));
    const count = values['calib-count'] === undefined ? chain.quantize.calibration.samples : Number(values['calib-count']);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--calib-count takes a positive integer, got "${values['calib-count']}"`);
    const indices = randomIndices(dataset.size, count, 0);
    calibration = datasetSamples(dataset, indices);
    calibrationCount = indices.length;
    for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  }
  let evaluation: ChainWithAccuracyRequest['evaluation'];
  if (values.eval) {
    const dataset = await openDataFlags(graph, dataFlags(values.eval));
    const count = values['eval-count'] === undefined ? dataset.size : Number(values['eval-count']);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--eval-count takes a positive integer, got "${values['eval-count']}"`);
    const offset = values['eval-offset'] === undefined ? 0 : Number(values['eval-offset']);
    if (!Number.isInteger(offset) || offset < 0 || offset >= dataset.size) throw new UsageError(`--eval-offset takes an integer in [0, ${dataset.size}), got "${values['eval-offset']}"`);
    const indices = Array.from({ length: Math.min(count, dataset.size - offset) }, (_, i) => offset + i);
    const labels = indices.map((i) => dataset.labels[i]);
    evaluation = { samples: datasetSamples(dataset, indices), labels: labels.every((l) => l !== null) ? (labels as number[]) : undefined, total: indices.length };
  }
  const training = chain.train ? await trainingFlags(graph, values, dataFlags) : undefined;
  const calibrating = progressPrinter('calibrating');
  let lastStage = '';
  const result = await runChainWithAccuracy({
    model,
    chain,
    calibration,
    calibrationCount,
    evaluation,
    training,
    onProgress: (stage, done, total) => {
      if (stage === 'calibrate') calibrating(done, total);
      else if (stage !== lastStage) process.stderr.write(`${stage}...\n`);
      lastStage = stage;
    },
  });
  writeFileSync(values.output!, result.bytes);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  process.stdout.write(`${reportTable(result.report)}\n`);
  process.stderr.write(`wrote ${values.output} (${result.bytes.length} bytes) in ${(performance.now() - started).toFixed(0)} ms\n`);
  if (values.report) {
    const report = {
      model: path,
      output: values.output,
      chain: values.recipe,
      label: result.label,
      steps: { prune: chain.prune, cluster: chain.cluster, train: chain.train, quantize: chain.quantize },
      pruned: result.pruned,
      trained: result.trained && { ...result.trained, activationRanges: undefined },
      clustered: result.clustered,
      floatOps: result.quantized?.floatOps ?? [],
      checks: result.checks,
      weights: result.report,
      comparison: result.comparison,
      notes: result.notes,
      timingsMs: result.quantized?.timings,
    };
    writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  }
  return 0;
}
