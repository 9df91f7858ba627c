/**
 * `tflite-opt optimize`: one technique here; a chain (prune / cluster / finetune / quantize) in chain-command.ts.
 * The variant is made by src/app's makeVariant, as in the worker; this file reads the flags and prints.
 */
import { writeFileSync } from 'node:fs';
import { buildReport, reportToJson } from '../evaluate/report';
import { compareSizes } from '../evaluate/size';
import { isChainText } from '../optimize/chain';
import { makeVariant } from '../app/make-variant';
import { dequantizeBytes } from '../optimize/pipeline';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';
import { calibrationData } from './calibration-data';
import { reportingFailure } from './failure-report';
import { optimizeChain } from './chain-command';
import type { OptimizeOptions } from './command-options';
import { stageProgress } from './progress';
import { readInputFile } from './read-input-file';
import { recipeFromOptions } from './recipe-options';

export async function optimize(options: OptimizeOptions, path: string): Promise<number> {
  const model = readInputFile(path, 'model');
  const started = performance.now();
  if (options.recipe === 'none' || options.recipe === 'dequantize') {
    const bytes = options.recipe === 'none' ? writeModel(readModel(model)) : dequantizeBytes(model).bytes;
    writeFileSync(options.output, bytes);
    process.stderr.write(`wrote ${options.output} (${bytes.length} bytes) in ${(performance.now() - started).toFixed(0)} ms\n`);
    return 0;
  }
  if (options.recipe && isChainText(options.recipe)) return await optimizeChain({ ...options, recipe: options.recipe }, path, model, started);
  const recipe = recipeFromOptions(options);
  const { calibration, calibrationCount } = await calibrationData(readModel(model), recipe, options);
  const result = await reportingFailure(options.report, { model: { name: options.output, reference: path }, recipe }, () =>
    makeVariant({
      model,
      spec: { recipe },
      dataset: null,
      indices: null,
      calibration: { samples: calibration, count: calibrationCount },
      onStage: stageProgress(),
      allowFloatFallback: options.allowFloatFallback,
    }),
  );
  writeFileSync(options.output, result.bytes);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  process.stderr.write(`wrote ${options.output} (${result.bytes.length} bytes, ${(result.bytes.length / model.length).toFixed(3)}x the input) in ${(performance.now() - started).toFixed(0)} ms\n`);
  if (options.report) {
    const report = buildReport({
      model: { name: options.output, reference: path },
      output: options.output,
      label: result.label,
      recipe: result.recipe,
      failure: result.verdict?.failure || undefined,
      floatOpCauses: result.verdict?.causes,
      floatOps: result.floatOps,
      sizes: compareSizes(result.bytes, model),
      notes: result.notes,
      timingsMs: result.timings as Record<string, number>,
      plan: result.plan,
    });
    writeFileSync(options.report, reportToJson(report));
  }
  return 0;
}
