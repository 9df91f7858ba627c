/** `tflite-opt eval`: the model against its float reference on data, as a report (Markdown or JSON). */
import { writeFileSync } from 'node:fs';
import { compareModels } from '../evaluate/compare';
import { measureLatency } from '../evaluate/latency';
import { modelNodeData, nodeDataJson } from '../evaluate/model-explorer';
import { buildReport, reportMarkdown, reportToJson } from '../evaluate/report';
import { compareSizes } from '../evaluate/size';
import { QUALITY_METRICS, type QualityMetric } from '../evaluate/quality';
import { readModelMetadata } from '../tflite/metadata/read-metadata';
import { readModel } from '../tflite/read';
import type { EvalOptions } from './command-options';
import { positiveInteger } from './count-option';
import { boxesAt, masksAt } from '../data/dataset';
import { withBoxLabelsFlag } from './box-labels-option';
import { withMasksFlag } from './mask-labels-option';
import { dataFlags, datasetSamples, openDataFlags } from './data-options';
import { choiceOption } from './choice-option';
import { progressPrinter } from './progress';
import { rawDetectionFromFlags } from './raw-detection-options';
import { readInputFile } from './read-input-file';

export async function evaluate(options: EvalOptions, path: string): Promise<number> {
  const candidate = readInputFile(path, 'model');
  const reference = options.ref ? readInputFile(options.ref, 'reference model') : candidate;
  // Data is prepared for the reference (float) model; the comparison quantizes it for the candidate.
  const referenceGraph = readModel(reference);
  const rawDetection = rawDetectionFromFlags(options);
  // A --masks folder inside the data holds labels, not samples.
  const opened = await openDataFlags(referenceGraph, { ...dataFlags(options.data, options), skipFolder: options.masks });
  const dataset = await withMasksFlag(options, withBoxLabelsFlag(options.boxLabels, opened, referenceGraph, rawDetection, options.data), referenceGraph);
  for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  const count = positiveInteger(options.count, '--count') ?? dataset.size;
  const indices = Array.from({ length: Math.min(count, dataset.size) }, (_, i) => i);
  const labels = indices.map((i) => dataset.labels[i]);
  const labeled = labels.every((l) => l !== null);
  const boxes = boxesAt(dataset, indices);
  const masks = masksAt(dataset, indices);
  const comparison = await compareModels(reference, candidate, datasetSamples(dataset, indices), {
    labels: labeled ? (labels as number[]) : undefined,
    perLayer: options.perLayer,
    total: indices.length,
    onProgress: progressPrinter('evaluating'),
    quality: { metric: choiceOption<QualityMetric>(options.metric, QUALITY_METRICS, '--metric'), truth: { ...(labeled ? { labels: labels as number[] } : {}), ...(boxes ? { boxes } : {}), ...(masks ? { masks } : {}) }, rawDetection },
    // Classifiers: per-class figures and confusions, named from the data's classes or the model's labels.
    perClass: { classNames: dataset.classNames ?? readModelMetadata(referenceGraph)?.labels ?? null },
  });
  const latency = options.latency
    ? { reference: options.ref ? await measureLatency(reference) : undefined, candidate: await measureLatency(candidate) }
    : undefined;
  const report = buildReport({
    model: { name: path, reference: options.ref ?? path },
    recipe: null,
    sizes: compareSizes(candidate, reference),
    comparison,
    latency,
    environment: { runtime: 'LiteRT.js (@litertjs/core 2.5.3, wasm CPU)', node: process.version },
  });
  if (options.report) writeFileSync(options.report, reportToJson(report));
  if (options.overlay && comparison.perLayer) writeFileSync(options.overlay, nodeDataJson(modelNodeData(readModel(candidate), comparison.perLayer)));
  process.stdout.write(options.json ? reportToJson(report) : reportMarkdown(report));
  return 0;
}
