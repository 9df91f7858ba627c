/**
 * `tflite-opt optimize --recipe CHAIN`: prune / cluster, then optionally train and quantize (src/optimize/chain.ts).
 * The variant is made by src/app's makeVariant, as in the worker, from the samples the flags choose.
 */
import { writeFileSync } from 'node:fs';
import { compareWithInput, type AccuracyEvaluation } from '../app/chain-accuracy';
import { makeVariant } from '../app/make-variant';
import { buildReport, reportToJson } from '../evaluate/report';
import { compareSizes } from '../evaluate/size';
import { parseChain } from '../optimize/chain';
import { defaultRecipe, scopeFromText } from '../optimize/recipe';
import { reportTable } from '../optimize/sparsity-report';
import { readModel } from '../tflite/read';
import type { ModelGraph } from '../tflite/graph';
import { calibrationData } from './calibration-data';
import { reportingFailure } from './failure-report';
import { chainTraining } from './chain-training';
import type { OptimizeOptions } from './command-options';
import { positiveInteger } from './count-option';
import { dataFlags, datasetSamples, openDataFlags } from './data-options';
import { stageProgress } from './progress';
import { recipeFromOptions } from './recipe-options';
import { UsageError } from './usage-error';

export async function optimizeChain(options: OptimizeOptions & { recipe: string }, path: string, model: Uint8Array, started: number): Promise<number> {
  const chain = parseChain(options.recipe, {
    recipeFor: (technique) => recipeFromOptions({ ...options, recipe: technique, recipeFile: undefined }),
    exclude: options.exclude.map(scopeFromText),
  });
  const graph = readModel(model);
  const { calibration, calibrationCount } = await calibrationData(graph, chain.quantize, options);
  const evaluation = options.eval ? await evaluationData(graph, options.eval, options) : undefined;
  const training = chain.train ? await chainTraining(graph, options) : undefined;
  const { made, comparison } = await reportingFailure(options.report, { model: { name: options.output, reference: path }, recipe: chain.quantize, chain: { steps: chain } }, async () => {
    const made = await makeVariant({
      model,
      // makeVariant runs the chain; its recipe is only recorded (the report records chain.quantize), so a
      // float chain (no quantization step) passes a stand-in.
      spec: { recipe: chain.quantize ?? defaultRecipe('float16'), chain },
      dataset: null,
      indices: null,
      calibration: { samples: calibration, count: calibrationCount },
      chainTraining: training,
      onStage: stageProgress(),
      allowFloatFallback: options.allowFloatFallback,
    });
    return { made, comparison: evaluation ? await compareWithInput(model, made, evaluation) : undefined };
  });
  const result = made.chain!.result;
  writeFileSync(options.output, result.bytes);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  process.stdout.write(`${reportTable(result.report)}\n`);
  process.stderr.write(`wrote ${options.output} (${result.bytes.length} bytes) in ${(performance.now() - started).toFixed(0)} ms\n`);
  if (options.report) {
    const report = buildReport({
      model: { name: options.output, reference: path },
      output: options.output,
      label: result.label,
      recipe: chain.quantize,
      chain: { steps: chain, result },
      failure: result.quantized?.verdict.failure || undefined,
      floatOpCauses: result.quantized?.verdict.causes,
      floatOps: result.quantized?.floatOps ?? [],
      plan: result.quantized?.plan,
      sizes: compareSizes(result.bytes, model),
      comparison,
      notes: result.notes,
      timingsMs: result.quantized?.timings as Record<string, number> | undefined,
    });
    writeFileSync(options.report, reportToJson(report));
  }
  return 0;
}

/** --eval, --eval-count, --eval-offset: the samples the result is compared with the input model on. */
async function evaluationData(graph: ModelGraph, path: string, options: OptimizeOptions): Promise<AccuracyEvaluation> {
  const dataset = await openDataFlags(graph, dataFlags(path, options));
  const count = positiveInteger(options.evalCount, '--eval-count') ?? dataset.size;
  const offset = options.evalOffset === undefined ? 0 : Number(options.evalOffset);
  if (!Number.isInteger(offset) || offset < 0 || offset >= dataset.size) throw new UsageError(`--eval-offset takes an integer in [0, ${dataset.size}), got "${options.evalOffset}"`);
  const indices = Array.from({ length: Math.min(count, dataset.size - offset) }, (_, i) => offset + i);
  const labels = indices.map((i) => dataset.labels[i]);
  return { samples: datasetSamples(dataset, indices), labels: labels.every((l) => l !== null) ? (labels as number[]) : undefined, total: indices.length };
}
