/**
 * The evaluation report of one variant: what was done (the recipe, opaque here), what came out
 * (sizes, output metrics, accuracy, per-layer error, latency, ops left in float), as JSON to save
 * beside the model and as a short Markdown summary to read.
 *
 * JSON has no Infinity or NaN; `reportToJson` writes them as the strings "Infinity", "-Infinity"
 * and "NaN", and `parseReport` turns them back into numbers.
 */
import { formatBytes } from '../format-bytes';
import type { ComparisonResult, LayerComparison, OutputComparison } from './compare';
import type { LatencyResult } from './latency';
import type { ClassificationSummary } from './metrics';
import type { SizeComparison } from './size';

export const REPORT_FORMAT = 'tflite-workbench/evaluation-report';
export const REPORT_VERSION = 1;

export interface EvaluationReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  /** ISO time, when the caller gives one (reports stay reproducible without it). */
  createdAt?: string;
  /** File names (or labels) of the evaluated variant and of its reference. */
  model: { name: string; reference: string };
  /** The recipe that produced the variant, as given (plain JSON). */
  recipe: unknown;
  sizes?: SizeComparison;
  /** Samples compared and what the comparison found (per-layer results are below). */
  metrics?: {
    samples: number;
    outputs: OutputComparison[];
    classification: ClassificationSummary;
  };
  perLayer?: LayerComparison[];
  latency?: { reference?: LatencyResult; candidate?: LatencyResult };
  /** Ops the optimizer left in float, as the caller lists them (opaque). */
  floatOps?: unknown[];
  /** Where the numbers come from (runtime, machine...), free-form. */
  environment?: Record<string, string>;
}

export interface ReportParts {
  model: { name: string; reference: string };
  recipe: unknown;
  sizes?: SizeComparison;
  comparison?: ComparisonResult;
  latency?: { reference?: LatencyResult; candidate?: LatencyResult };
  floatOps?: unknown[];
  environment?: Record<string, string>;
  createdAt?: string;
}

export function buildReport(parts: ReportParts): EvaluationReport {
  const report: EvaluationReport = { format: REPORT_FORMAT, version: REPORT_VERSION, model: parts.model, recipe: parts.recipe ?? null };
  if (parts.createdAt) report.createdAt = parts.createdAt;
  if (parts.sizes) report.sizes = parts.sizes;
  if (parts.comparison) {
    const { samples, outputs, classification, perLayer } = parts.comparison;
    report.metrics = { samples, outputs, classification };
    if (perLayer) report.perLayer = perLayer;
  }
  if (parts.latency) report.latency = parts.latency;
  if (parts.floatOps) report.floatOps = parts.floatOps;
  if (parts.environment) report.environment = parts.environment;
  return report;
}

/** The report as pretty JSON; non-finite numbers become strings. */
export function reportToJson(report: EvaluationReport): string {
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
export function parseReport(json: string): EvaluationReport {
  const report = JSON.parse(json, (key, value: unknown) =>
    typeof value === 'string' && NUMERIC_KEYS.has(key) && value in NON_FINITE ? NON_FINITE[value] : value,
  ) as EvaluationReport;
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
export function reportMarkdown(report: EvaluationReport, options: { worstLayers?: number } = {}): string {
  const lines: string[] = [`# ${cell(report.model.name)} vs ${cell(report.model.reference)}`, ''];
  if (report.createdAt) lines.push(`Evaluated ${report.createdAt}.`, '');

  if (report.sizes) {
    const { candidate, reference, rawRatio, gzipRatio } = report.sizes;
    lines.push('## Size', '', '| | reference | variant | ratio |', '|---|---|---|---|');
    lines.push(`| raw | ${bytes(reference.rawBytes)} | ${bytes(candidate.rawBytes)} | ${rawRatio.toFixed(3)} |`);
    lines.push(`| gzip -9 | ${bytes(reference.gzipBytes)} | ${bytes(candidate.gzipBytes)} | ${gzipRatio.toFixed(3)} |`, '');
  }

  if (report.metrics) {
    const { samples, outputs, classification } = report.metrics;
    lines.push('## Quality', '', `${samples} sample${samples === 1 ? '' : 's'}.`, '');
    if (classification.accuracy) {
      const { labeled, reference, candidate } = classification.accuracy;
      lines.push('| | reference | variant |', '|---|---|---|');
      lines.push(`| top-1 accuracy (${labeled} labeled) | ${percent(reference.top1)} | ${percent(candidate.top1)} |`);
      lines.push(`| top-5 accuracy | ${percent(reference.top5)} | ${percent(candidate.top5)} |`, '');
    }
    lines.push(`Top-1 agreement with the reference: ${percent(classification.agreement)} of ${classification.count} predictions.`, '');
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

  if (report.floatOps) {
    lines.push('## Ops left in float', '');
    if (!report.floatOps.length) lines.push('None.');
    for (const op of report.floatOps) lines.push(`- ${cell(typeof op === 'string' ? op : JSON.stringify(op))}`);
    lines.push('');
  }

  if (report.environment && Object.keys(report.environment).length) {
    lines.push('## Environment', '');
    for (const [key, value] of Object.entries(report.environment)) lines.push(`- ${cell(key)}: ${cell(value)}`);
    lines.push('');
  }
  return lines.join('\n');
}
