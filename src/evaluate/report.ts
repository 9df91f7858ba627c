/**
 * The one report the workbench writes for a variant, from the page (report.json / report.md) and
 * from the CLI (`optimize --report`, chains included, and `eval --report` / `--json`): what was done
 * (recipe, chain steps), what came out (sizes, output metrics, accuracy, per-layer error, latency,
 * target checks, ops left in float, or why the run was refused), as JSON to save beside the model
 * and as a short Markdown summary to read. Parts a run does not have are left out.
 *
 * JSON has no Infinity or NaN; `reportToJson` writes them as the strings "Infinity", "-Infinity"
 * and "NaN", and `parseReport` turns them back into numbers.
 */
import { formatBytes } from '../format-bytes';
import type { ChainChecks, ChainResult, Chain } from '../optimize/chain';
import type { FloatOpCause } from '../optimize/fallback';
import type { QuantizationPlan } from '../optimize/quantize/plan-types';
import type { ModelWeightReport } from '../optimize/sparsity-report';
import type { WebGpuCheck } from '../runtime/webgpu-probe';
import type { ComparisonResult, LayerComparison, OutputComparison } from './compare';
import type { LatencyResult } from './latency';
import type { ClassificationSummary } from './metrics';
import { rateInterval } from './confidence';
import type { PerClassSummary } from './per-class';
import { perClassLines } from './per-class-text';
import { qualityLine, type QualitySummary } from './quality';
import type { SizeComparison } from './size';
import type { McuEstimate, Target, TargetIssue } from './target-check';

export const REPORT_FORMAT = 'tflite-workbench/report';
export const REPORT_VERSION = 2;

export interface WorkbenchReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  /** ISO time, when the caller gives one (reports stay reproducible without it). */
  createdAt?: string;
  /** File names (or paths) of the variant and of the model it was made from / compared with. */
  model: { name: string; reference: string };
  /** CLI: the path written, or null when the run was refused. */
  output?: string | null;
  /** File-name-safe label of the variant, e.g. "int8", "prune0.5-int8". */
  label?: string;
  /** The recipe that produced the variant (the chain's quantization step for a chain), as given; null for `eval`. */
  recipe?: unknown;
  /** Chains: the steps and what they left in the weights. */
  chain?: ChainReport;
  /** Why a run was refused (float fallback), with a hint; the causes and ops below. */
  failure?: string;
  hint?: string;
  floatOpCauses?: FloatOpCause[];
  /** Ops the optimizer left in float, as the caller lists them. */
  floatOps?: unknown[];
  /** int8 / 16x8: the quantization plan the model was written from (per op and per tensor). */
  plan?: QuantizationPlan;
  sizes?: SizeComparison;
  /** Samples compared and what the comparison found (per-layer results are below). */
  metrics?: {
    samples: number;
    outputs: OutputComparison[];
    classification: ClassificationSummary;
    /** The task's quality measure with its sample count and 95% interval (quality.ts). */
    quality?: QualitySummary;
    /** Classifiers: per-class recall / precision, top confusions and the sparse confusion matrix (per-class.ts). */
    perClass?: PerClassSummary;
  };
  perLayer?: LayerComparison[];
  latency?: { reference?: LatencyResult; candidate?: LatencyResult };
  target?: TargetReport;
  /** Things the user should know, one line each. */
  notes?: string[];
  timingsMs?: Record<string, number>;
  /** Where the numbers come from (runtime, machine...), free-form. */
  environment?: Record<string, string>;
}

export interface ChainReport {
  /** The chain as text, e.g. "prune:0.5+int8". */
  text: string;
  steps?: Pick<Chain, 'prune' | 'cluster' | 'train' | 'quantize'>;
  pruned?: ChainResult['pruned'];
  trained?: Omit<NonNullable<ChainResult['trained']>, 'activationRanges' | 'learnedSteps' | 'learnedActivationRanges'>;
  /** qat with int4 weights: the int4 tensors whose steps trained, and which model is the result. */
  lsq?: ChainResult['lsq'];
  clustered?: ChainResult['clustered'];
  checks?: ChainChecks;
  /** Sparsity, distinct values and sizes of the result's weights. */
  weights?: ModelWeightReport;
}

export interface TargetReport {
  name: Target;
  issues: TargetIssue[];
  mcu?: McuEstimate | null;
  webgpu?: WebGpuCheck | null;
}

export type ReportParts = Omit<WorkbenchReport, 'format' | 'version' | 'metrics' | 'perLayer' | 'chain'> & {
  comparison?: ComparisonResult;
  /** A chain: its steps, and what running it gave (when it ran). */
  chain?: { steps: Chain; result?: ChainResult };
};

/** The report from its parts, in one field order; parts left undefined stay out. */
export function buildReport(parts: ReportParts): WorkbenchReport {
  const { comparison, chain, ...rest } = parts;
  const report: WorkbenchReport = {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    createdAt: rest.createdAt,
    model: rest.model,
    output: rest.output,
    label: rest.label,
    recipe: rest.recipe,
    chain: chain && chainReport(chain.steps, chain.result),
    failure: rest.failure,
    hint: rest.hint,
    floatOpCauses: rest.floatOpCauses,
    floatOps: rest.floatOps,
    plan: rest.plan,
    sizes: rest.sizes,
    metrics: comparison && { samples: comparison.samples, outputs: comparison.outputs, classification: comparison.classification, ...(comparison.quality && { quality: comparison.quality }), ...(comparison.perClass && { perClass: comparison.perClass }) },
    perLayer: comparison?.perLayer,
    latency: rest.latency,
    target: rest.target,
    notes: rest.notes,
    timingsMs: rest.timingsMs,
    environment: rest.environment,
  };
  for (const key of Object.keys(report) as (keyof WorkbenchReport)[]) if (report[key] === undefined) delete report[key];
  return report;
}

/** QAT's activation ranges and learned steps are Maps handed to the writer: internal state, not something to read. */
function withoutActivationRanges(trained: NonNullable<ChainResult['trained']>): ChainReport['trained'] {
  const { activationRanges: _, learnedSteps: _s, learnedActivationRanges: _a, ...rest } = trained;
  return rest;
}

function chainReport(steps: Chain, result: ChainResult | undefined): ChainReport {
  const { prune, cluster, train, quantize } = steps;
  if (!result) return { text: steps.text, steps: { prune, cluster, train, quantize } };
  return {
    text: steps.text,
    steps: { prune, cluster, train, quantize },
    pruned: result.pruned,
    trained: result.trained && withoutActivationRanges(result.trained),
    ...(result.lsq ? { lsq: result.lsq } : {}),
    clustered: result.clustered,
    checks: result.checks,
    weights: result.report,
  };
}

/** The report as pretty JSON; non-finite numbers become strings. */
export function reportToJson(report: WorkbenchReport): string {
  return `${JSON.stringify(
    report,
    (_key, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
      return value;
    },
    2,
  )}\n`;
}

const NON_FINITE: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };
const NUMERIC_KEYS = new Set(['sqnrDb', 'cosine', 'maxAbsError', 'mse', 'agreement', 'top1', 'top5', 'rawRatio', 'gzipRatio', 'medianMs', 'p90Ms', 'meanMs', 'minMs', 'maxMs']);

/** Reads a report written by reportToJson (the strings of non-finite metric values back to numbers). */
export function parseReport(json: string): WorkbenchReport {
  const report = JSON.parse(json, (key, value: unknown) =>
    typeof value === 'string' && NUMERIC_KEYS.has(key) && value in NON_FINITE ? NON_FINITE[value] : value,
  ) as WorkbenchReport;
  if (report?.format !== REPORT_FORMAT) throw new Error(`not a ${REPORT_FORMAT} document`);
  if (report.version !== REPORT_VERSION) throw new Error(`unsupported report version ${String(report.version)}`);
  return report;
}

// ---------------------------------------------------------------------------------------------
// Markdown

const bytes = formatBytes;

function db(value: number): string {
  if (value === Infinity) return 'exact';
  if (value === -Infinity) return '-inf dB';
  return Number.isNaN(value) ? 'n/a' : `${value.toFixed(1)} dB`;
}

function percent(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${(100 * value).toFixed(1)}%`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e-3 && abs < 1e4 ? value.toPrecision(4) : value.toExponential(2);
}

/** Markdown table cells must not contain pipes or newlines. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

/** A readable summary: sizes, accuracy/agreement, output error, latency, worst layers, float ops. */
export function reportMarkdown(report: WorkbenchReport, options: { worstLayers?: number } = {}): string {
  const lines: string[] = [`# ${cell(report.model.name)} vs ${cell(report.model.reference)}`, ''];
  if (report.createdAt) lines.push(`Evaluated ${report.createdAt}.`, '');
  if (report.failure) lines.push(`**Refused:** ${report.failure}${report.hint ? ` (${report.hint})` : ''}`, '');
  if (report.chain) lines.push(...chainMarkdown(report.chain));

  if (report.sizes) {
    const { candidate, reference, rawRatio, gzipRatio } = report.sizes;
    lines.push('## Size', '', '| | reference | variant | ratio |', '|---|---|---|---|');
    lines.push(`| raw | ${bytes(reference.rawBytes)} | ${bytes(candidate.rawBytes)} | ${rawRatio.toFixed(3)} |`);
    lines.push(`| gzip -9 | ${bytes(reference.gzipBytes)} | ${bytes(candidate.gzipBytes)} | ${gzipRatio.toFixed(3)} |`, '');
  }

  if (report.metrics) {
    const { samples, outputs, classification, quality, perClass } = report.metrics;
    lines.push('## Quality', '', `${samples} sample${samples === 1 ? '' : 's'}; intervals are 95%.`, '');
    if (quality) lines.push(qualityLine(quality), '');
    if (classification.accuracy) {
      const { labeled, reference, candidate } = classification.accuracy;
      const withInterval = (p: number) => {
        const { low, high } = rateInterval(p, labeled);
        return `${percent(p)} (${percent(low)}-${percent(high)})`;
      };
      lines.push('| | reference | variant |', '|---|---|---|');
      lines.push(`| top-1 accuracy (${labeled} labeled) | ${withInterval(reference.top1)} | ${withInterval(candidate.top1)} |`);
      lines.push(`| top-5 accuracy | ${withInterval(reference.top5)} | ${withInterval(candidate.top5)} |`, '');
    }
    // A detector's rows are boxes or anchors, not class scores: their argmax agreement means nothing.
    if (classification.count > 0 && Number.isFinite(classification.agreement) && quality?.task !== 'detection') {
      const { low, high } = rateInterval(classification.agreement, classification.count);
      lines.push(`Top-1 agreement with the reference: ${percent(classification.agreement)} (${percent(low)}-${percent(high)}) of ${classification.count} predictions.`, '');
    }
    if (perClass) lines.push(...perClassLines(perClass));
    lines.push('| output | SQNR | cosine | max abs error | MSE |', '|---|---|---|---|---|');
    for (const o of outputs) lines.push(`| ${cell(o.name)} | ${db(o.sqnrDb)} | ${number(o.cosine)} | ${number(o.maxAbsError)} | ${number(o.mse)} |`);
    lines.push('');
  }

  if (report.latency && (report.latency.reference || report.latency.candidate)) {
    const { reference, candidate } = report.latency;
    const ms = (r: LatencyResult | undefined, key: 'medianMs' | 'p90Ms') => (r ? `${r[key].toFixed(2)} ms` : '-');
    lines.push('## Latency (LiteRT, WASM)', '', '| | reference | variant |', '|---|---|---|');
    lines.push(`| median | ${ms(reference, 'medianMs')} | ${ms(candidate, 'medianMs')} |`);
    lines.push(`| p90 | ${ms(reference, 'p90Ms')} | ${ms(candidate, 'p90Ms')} |`);
    const runs = candidate ?? reference!;
    lines.push('', `${runs.runs} timed runs after ${runs.warmup} warm-up runs.`, '');
  }

  if (report.perLayer?.length) {
    const count = options.worstLayers ?? 5;
    const worst = [...report.perLayer].filter((l) => !Number.isNaN(l.sqnrDb)).sort((a, b) => a.sqnrDb - b.sqnrDb).slice(0, count);
    lines.push('## Layers with the largest error', '', '| op | tensor | SQNR | cosine |', '|---|---|---|---|');
    for (const l of worst) lines.push(`| #${l.opIndex} ${l.op} | ${cell(l.tensor)} | ${db(l.sqnrDb)} | ${number(l.cosine)} |`);
    lines.push('', `${report.perLayer.length} layers compared.`, '');
  }

  if (report.plan) lines.push(...weightBitsMarkdown(report.plan));

  if (report.floatOps) {
    lines.push('## Ops left in float', '');
    if (!report.floatOps.length) lines.push('None.');
    for (const op of report.floatOps) lines.push(`- ${cell(typeof op === 'string' ? op : JSON.stringify(op))}`);
    lines.push('');
  }

  if (report.target) {
    const { name, issues, mcu } = report.target;
    lines.push(`## Target: ${name}`, '');
    if (!issues.length) lines.push('No issues.');
    for (const issue of issues) lines.push(`- ${cell(issue.message)}`);
    if (mcu) lines.push(`- flash ${bytes(mcu.flashBytes)}, tensor arena ${bytes(mcu.arenaBytes)} (estimates)`);
    lines.push('');
  }

  if (report.notes?.length) {
    lines.push('## Notes', '');
    for (const note of report.notes) lines.push(`- ${cell(note)}`);
    lines.push('');
  }

  if (report.environment && Object.keys(report.environment).length) {
    lines.push('## Environment', '');
    for (const [key, value] of Object.entries(report.environment)) lines.push(`- ${cell(key)}: ${cell(value)}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Each quantized op's weight bits, when they are not int8 throughout (int4 asked or given). */
function weightBitsMarkdown(plan: QuantizationPlan): string[] {
  const ops = plan.subgraphs.flatMap((sp) => sp.ops.filter((op) => op.mode === 'quantized' && op.weights).map((op) => ({ subgraph: sp.index, op })));
  if (!ops.some(({ op }) => op.weightBits !== 8 || op.weightBitsNote)) return [];
  const lines = ['## Weight bits', '', '| op | weights | bits | granularity | note |', '|---|---|---|---|---|'];
  for (const { subgraph, op } of ops) {
    const where = subgraph ? `${subgraph}:#${op.opIndex}` : `#${op.opIndex}`;
    lines.push(`| ${where} ${op.op} | ${cell(op.weights!.name)} | ${op.weightBits} | ${op.weights!.granularity} | ${cell(op.weightBitsNote ?? '')} |`);
  }
  lines.push('');
  return lines;
}

function chainMarkdown(chain: ChainReport): string[] {
  const lines = [`Chain: \`${chain.text}\`.`];
  if (chain.weights) lines.push(`Weights: ${percent(chain.weights.sparsity)} zeros, ${bytes(chain.weights.size.gzipBytes)} gzip -9.`);
  if (chain.lsq) {
    lines.push(`QAT LSQ int4: ${chain.lsq.int4Tensors} int4 weight tensors trained their steps from the W4A8 PTQ model; ${chain.lsq.kept === 'qat' ? 'the trained model is the result' : 'no epoch beat the PTQ model on validation, so the PTQ model is the result'}.`);
  }
  const c = chain.checks;
  if (c) {
    const checks = [c.zerosLost !== undefined && `${c.zerosLost} pruned zeros lost`, c.maxDistinctClustered !== undefined && `at most ${c.maxDistinctClustered} distinct values per clustered tensor`, c.clusterViolations !== undefined && `${c.clusterViolations} cluster violations`].filter(Boolean);
    if (checks.length) lines.push(`Checks: ${checks.join(', ')}.`);
  }
  return [...lines, ''];
}
