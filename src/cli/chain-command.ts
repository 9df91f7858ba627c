/** `tflite-opt optimize --recipe CHAIN`: prune / cluster, then optionally train and quantize (src/optimize/chain.ts). */
import { writeFileSync } from 'node:fs';
import { runChainWithAccuracy, type ChainWithAccuracyRequest } from '../app/chain-accuracy';
import { buildReport, reportToJson } from '../evaluate/report';
import { compareSizes } from '../evaluate/size';
import { parseChain } from '../optimize/chain';
import { scopeFromText } from '../optimize/recipe';
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
  const result = await reportingFailure(options.report, { model: { name: options.output, reference: path }, recipe: chain.quantize, chain: { steps: chain } }, () =>
    runChainWithAccuracy({ model, chain, calibration, calibrationCount, evaluation, training, onProgress: stageProgress(), allowFloatFallback: options.allowFloatFallback }),
  );
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
      sizes: compareSizes(result.bytes, model),
      comparison: result.comparison,
      notes: result.notes,
      timingsMs: result.quantized?.timings as Record<string, number> | undefined,
    });
    writeFileSync(options.report, reportToJson(report));
  }
  return 0;
}

/** --eval, --eval-count, --eval-offset: the samples the result is compared with the input model on. */
async function evaluationData(graph: ModelGraph, path: string, options: OptimizeOptions): Promise<ChainWithAccuracyRequest['evaluation']> {
  const dataset = await openDataFlags(graph, dataFlags(path, options));
  const count = positiveInteger(options.evalCount, '--eval-count') ?? dataset.size;
  const offset = options.evalOffset === undefined ? 0 : Number(options.evalOffset);
  if (!Number.isInteger(offset) || offset < 0 || offset >= dataset.size) throw new UsageError(`--eval-offset takes an integer in [0, ${dataset.size}), got "${options.evalOffset}"`);
  const indices = Array.from({ length: Math.min(count, dataset.size - offset) }, (_, i) => offset + i);
  const labels = indices.map((i) => dataset.labels[i]);
  return { samples: datasetSamples(dataset, indices), labels: labels.every((l) => l !== null) ? (labels as number[]) : undefined, total: indices.length };
}
