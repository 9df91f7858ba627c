/**
 * `tflite-opt search`: the precision search of src/app/search on data from the flags. One seeded
 * shuffle of each data set decides its parts: calibration takes the first --calib-count samples of
 * --calib; the search the next --eval-count of --eval (the --calib data again by default, minus the
 * calibration samples); the check what is left, up to --check-count.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { searchPrecision, type Candidate, type SearchResult } from '../app/search/precision-search';
import { SEARCH_OBJECTIVES, type SearchObjective } from '../app/search/objective';
import { SENSITIVITY_COLUMNS } from '../app/search/sensitivity';
import { sparsityAskOf } from './sparsity-option';
import { randomIndices, type Dataset } from '../data/dataset';
import { WorkbenchError } from '../errors';
import { formatQuality, QUALITY_METRICS, qualityLine, type QualityMetric } from '../evaluate/quality';
import { buildReport, reportToJson } from '../evaluate/report';
import type { Target } from '../evaluate/target-check';
import { compareSizes } from '../evaluate/size';
import { readModel } from '../tflite/read';
import type { SearchOptions } from './command-options';
import { choiceOption } from './choice-option';
import { positiveInteger } from './count-option';
import { withBoxLabelsFlag } from './box-labels-option';
import { withMasksFlag } from './mask-labels-option';
import { dataFlags, openDataFlags } from './data-options';
import { rawDetectionFromFlags } from './raw-detection-options';
import { readInputFile } from './read-input-file';
import { recipeFromOptions } from './recipe-options';
import { UsageError } from './usage-error';

const DEFAULT_SEARCH_SAMPLES = 300;

function budgetOf(text: string): number {
  const budget = Number(text);
  if (!Number.isFinite(budget)) throw new UsageError(`--budget takes a number (points of the metric), got "${text}".`, false);
  return budget;
}

export async function search(options: SearchOptions, path: string): Promise<number> {
  const started = performance.now();
  const model = readInputFile(path, 'model');
  const graph = readModel(model);
  const budget = budgetOf(options.budget);
  const metric = choiceOption<QualityMetric>(options.metric, QUALITY_METRICS, '--metric');
  const objective = choiceOption<SearchObjective>(options.objective, SEARCH_OBJECTIVES, '--objective') ?? 'size';
  const target = choiceOption<Target>(options.target, ['cpu', 'integer', 'mcu', 'web'], '--target') ?? 'cpu';
  const arenaKb = positiveInteger(options.arenaKb, '--arena-kb');
  const flashKb = positiveInteger(options.flashKb, '--flash-kb');
  if ((arenaKb || flashKb) && target !== 'mcu') throw new UsageError('--arena-kb and --flash-kb are microcontroller limits: add --target mcu.', false);
  const rawDetection = rawDetectionFromFlags(options);
  const recipe = recipeFromOptions({ ...options, recipe: options.recipe ?? 'int8' });
  // A --masks folder inside the data holds labels, not samples.
  const calibData = await openDataFlags(graph, { ...dataFlags(options.calib, options), skipFolder: options.masks });
  const sameData = !options.eval || resolve(options.eval) === resolve(options.calib);
  // --box-labels and --masks name the files of the data the search and its check run on.
  const evalOpened = sameData ? calibData : await openDataFlags(graph, { ...dataFlags(options.eval!, options), skipFolder: options.masks });
  const evalData = await withMasksFlag(options, withBoxLabelsFlag(options.boxLabels, evalOpened, graph, rawDetection, options.eval ?? options.calib), graph);
  for (const note of new Set([...calibData.notes, ...evalData.notes])) process.stderr.write(`note: ${note}\n`);
  const parts = splitParts(calibData, evalData, sameData, {
    calibration: positiveInteger(options.calibCount, '--calib-count') ?? recipe.calibration.samples,
    search: positiveInteger(options.evalCount, '--eval-count') ?? DEFAULT_SEARCH_SAMPLES,
    check: positiveInteger(options.checkCount, '--check-count'),
  });
  process.stderr.write(`calibration ${parts.calibration.indices.length}, search ${parts.search.indices.length}, check ${parts.check.indices.length} samples\n`);
  const result = await searchPrecision({
    model,
    recipe,
    ...parts,
    metric,
    rawDetection,
    budget,
    objective,
    target,
    limits: { ...(arenaKb ? { arenaBytes: arenaKb * 1024 } : {}), ...(flashKb ? { flashBytes: flashKb * 1024 } : {}) },
    maxEvaluations: positiveInteger(options.maxEvaluations, '--max-evaluations'),
    sparsity: sparsityAskOf(options.sparsitySensitivity),
    onProgress: (event) => {
      if (event.kind === 'stage') process.stderr.write(`${event.stage}...\n`);
      else {
        const c = event.candidate;
        process.stderr.write(`  candidate ${event.evaluations}/${event.maxEvaluations}: ${c.label}, ${c.bytes} bytes${c.latency ? `, ${latencyText(c)}` : ''}, loss ${c.loss.toFixed(2)}${c.noiseMargin ? ` + ${c.noiseMargin.toFixed(2)} noise margin` : ''}${c.meets ? ' (meets the budget)' : c.fits ? '' : ` (does not fit: ${c.misfit})`}\n`);
      }
    },
  });
  writeFileSync(options.output, result.pick.model);
  process.stdout.write(summary(result));
  if (options.report) {
    const report = buildReport({
      model: { name: options.output, reference: path },
      output: options.output,
      label: result.pick.label,
      recipe,
      sizes: compareSizes(result.pick.model, model),
      notes: result.notes,
    });
    const { pick, ...rest } = result;
    const { model: _bytes, ...pickFacts } = pick;
    writeFileSync(options.report, reportToJson({ ...report, search: { ...rest, pick: pickFacts } } as typeof report));
  }
  process.stderr.write(`wrote ${options.output} (${result.pick.model.length} bytes) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return result.check.meets ? 0 : 3;
}

interface Counts {
  calibration: number;
  search: number;
  check?: number;
}

/** The three disjoint parts; see the file comment. */
export function splitParts(calibData: Dataset, evalData: Dataset, sameData: boolean, counts: Counts) {
  const calibOrder = randomIndices(calibData.size, calibData.size, 0);
  const calibration = calibOrder.slice(0, Math.min(counts.calibration, calibData.size));
  const rest = sameData ? calibOrder.slice(calibration.length) : randomIndices(evalData.size, evalData.size, 1);
  if (rest.length < 2) {
    throw new WorkbenchError('bad-input', `The search needs samples beyond calibration for its search and check splits; ${sameData ? `--calib holds ${calibData.size}, ${calibration.length} of them calibrate` : `--eval holds ${evalData.size}`}.`);
  }
  // At least one check sample: a pick nobody confirmed is not a result.
  const search = rest.slice(0, Math.min(counts.search, rest.length - 1));
  const left = rest.slice(search.length);
  const check = left.slice(0, Math.min(counts.check ?? left.length, left.length));
  return { calibration: { dataset: calibData, indices: calibration }, search: { dataset: evalData, indices: search }, check: { dataset: evalData, indices: check } };
}

/** "2.58 ms (median 2.61, 2.55-2.80)": the 10th percentile the search ranks by, the median and the spread (min to p90). */
function latencyText(c: Candidate): string {
  return c.latency ? `${c.latency.p10Ms.toFixed(2)} ms (median ${c.latency.medianMs.toFixed(2)}, ${c.latency.minMs.toFixed(2)}-${c.latency.p90Ms.toFixed(2)})` : '';
}

function summary(result: SearchResult): string {
  const lines = [`Search: ${result.metric}, budget ${result.budget}; ${result.evaluations} candidate(s) evaluated.`, ''];
  const arena = result.candidates.some((c) => c.arenaBytes !== undefined);
  const timed = result.candidates.some((c) => c.latency);
  const onFront = new Set(result.front ?? []);
  lines.push(
    `| candidate | bytes |${timed ? ' latency p10 (median, min-p90) |' : ''}${arena ? ' arena |' : ''} quality (search split) | loss | meets |`,
    `|---|---|${timed ? '---|' : ''}${arena ? '---|' : ''}---|---|---|`,
  );
  for (const c of result.candidates) {
    const meets = c.meets ? (onFront.has(c) ? 'yes, on the front' : 'yes') : c.fits ? 'no' : `no: ${c.misfit}`;
    lines.push(`| ${c.label} | ${c.bytes} |${timed ? ` ${latencyText(c)} |` : ''}${arena ? ` ${c.arenaBytes ?? ''} |` : ''} ${formatQuality(result.metric, c.quality.value, 2)} | ${c.loss.toFixed(2)}${c.noiseMargin ? ` (+${c.noiseMargin.toFixed(2)})` : ''} | ${meets} |`);
  }
  const kept = result.pick.floatOps.length;
  const keptText = `${kept} op(s) kept in float${result.pick.floatWeights === 'float16' ? ' with float16 weights' : ''}`;
  lines.push('', `Pick: ${result.pick.label} (${result.pick.activationBits === 16 ? '16x8, ' : ''}${result.pick.int16Ops?.length ? `${result.pick.int16Ops.length} op(s) at 16x8 inside int8, ` : ''}${keptText}${kept ? `: ${result.pick.floatOps.slice(0, 5).join(', ')}${kept > 5 ? ' ...' : ''}` : ''}${result.pick.perTensorOps?.length ? `; one weight scale for ${result.pick.perTensorOps.join(', ')}` : ''}${result.pick.latency ? `; ${latencyText(result.pick)}` : ''}).`);
  if (result.choice) lines.push(`Chosen by ${result.choice}.`);
  lines.push(`Check split (unseen): ${qualityLine(result.check.quality)}`);
  lines.push(`Float model there: ${formatQuality(result.metric, result.check.floatQuality.value, 2)}; loss ${result.check.loss.toFixed(2)}: ${result.check.meets ? 'meets' : 'MISSES'} the budget.`);
  // The per-op table, most sensitive at the search's precision first, a few rows (the report has all).
  const measured = SENSITIVITY_COLUMNS.filter((p) => result.sensitivity.some((r) => r.lossDb[p] !== undefined));
  if (measured.length) {
    const base = measured.includes('int8') ? 'int8' : measured[0];
    const rows = [...result.sensitivity].sort((a, b) => (b.lossDb[base] ?? 0) - (a.lossDb[base] ?? 0)).slice(0, 8);
    lines.push('', `SQNR lost across each op (dB), ${rows.length} most sensitive of ${result.sensitivity.length}:`, `| op | ${measured.join(' | ')} |`, `|---|${measured.map(() => '---|').join('')}`);
    for (const r of rows) lines.push(`| #${r.opIndex} ${r.op} | ${measured.map((p) => (r.lossDb[p] === undefined ? '' : r.lossDb[p]!.toFixed(1))).join(' | ')} |`);
  }
  for (const note of result.notes) lines.push(`Note: ${note}`);
  return `${lines.join('\n')}\n`;
}
