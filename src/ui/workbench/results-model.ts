/**
 * What the results panel shows, as plain functions of the finished results (no React): which
 * results were measured on the evaluation samples in use now (the others are stale and are neither
 * drawn nor ranked with them), each one's quality with its sample count and 95% interval, and the
 * comparison table as CSV.
 */
import { evaluationKey } from '../../app/evaluation-set';
import type { DatasetInfo, RunResult, Split } from '../../app/worker-protocol';
import { rateInterval, type RateInterval } from '../../evaluate/confidence';

export interface ResultEntry {
  id: string;
  result: RunResult;
  /** A re-run of this variant is queued or running: the result shown is the previous one. */
  rerunning: boolean;
}

/** The result's evaluation key; results saved before results carried one fall back to what is known. */
export function resultKey(result: RunResult): string {
  return result.evaluatedOn?.key ?? (result.randomInputs ? 'random' : 'unknown data');
}

/**
 * The evaluation the table compares against: the loaded dataset with the current split when there
 * is one; without data (after a reload, say) the newest result's, so restored results stay comparable
 * with each other. Null when there is nothing to compare.
 */
export function currentKey(data: { status: string; info?: Pick<DatasetInfo, 'fingerprint'> }, split: Split, entries: ResultEntry[]): string | null {
  if (data.status === 'ready' && data.info?.fingerprint) return evaluationKey(data.info.fingerprint, split);
  let newest: ResultEntry | null = null;
  for (const e of entries) if (!newest || (e.result.evaluatedOn?.finishedAt ?? 0) > (newest.result.evaluatedOn?.finishedAt ?? 0)) newest = e;
  return newest ? resultKey(newest.result) : null;
}

export function isStale(result: RunResult, key: string | null): boolean {
  return key !== null && resultKey(result) !== key;
}

/** "mnist-digits.zip, 500 samples" / "random inputs, 16 samples". */
export function evaluatedOnText(result: RunResult): string {
  const on = result.evaluatedOn;
  if (!on) return `${result.randomInputs ? 'random inputs' : 'an earlier dataset'}, ${result.comparison.samples} samples`;
  return `${on.dataset}, ${on.samples} samples${on.split ? `, split ${on.split.calibration}/${on.split.training ?? 0}/${on.split.evaluation}` : ''}`;
}

/** Whether every result compared has labels (accuracy), else agreement with the float model is the quality. */
export function allLabeled(results: RunResult[]): boolean {
  return results.length > 0 && results.every((r) => !!r.comparison.classification.accuracy);
}

/** Top-1 accuracy of the variant, with its interval over the labeled samples (null without labels). */
export function accuracyOf(result: RunResult): RateInterval | null {
  const a = result.comparison.classification.accuracy;
  return a ? rateInterval(a.candidate.top1, a.labeled) : null;
}

/** The float model's accuracy on the same samples as this result. */
export function referenceAccuracyOf(result: RunResult): RateInterval | null {
  const a = result.comparison.classification.accuracy;
  return a ? rateInterval(a.reference.top1, a.labeled) : null;
}

/** Top-1 agreement with the float model, with its interval. */
export function agreementOf(result: RunResult): RateInterval {
  const c = result.comparison.classification;
  return rateInterval(Number.isNaN(c.agreement) ? 0 : c.agreement, c.count);
}

/**
 * A detector's mAP@0.5 or a segmenter's mIoU against the float model's outputs (or the labels), as a
 * rate with its interval; null for other tasks (and results saved before the page measured it).
 */
export function taskQualityOf(result: RunResult): (RateInterval & { metric: 'map' | 'miou'; against: 'labels' | 'reference' }) | null {
  const q = result.comparison.quality;
  if (!q || (q.metric !== 'map' && q.metric !== 'miou')) return null;
  return { metric: q.metric, against: q.against, rate: q.value, low: q.interval[0], high: q.interval[1], n: q.samples };
}

/**
 * The float model's own value of that measure when it was taken against labels (e.g. a detector's
 * mAP against the data's boxes.csv), on the same samples; null against the float model itself.
 */
export function taskReferenceOf(result: RunResult): RateInterval | null {
  const q = result.comparison.quality;
  if (!q || q.against !== 'labels' || q.referenceValue === undefined || (q.metric !== 'map' && q.metric !== 'miou')) return null;
  const [low, high] = q.referenceInterval ?? [q.referenceValue, q.referenceValue];
  return { rate: q.referenceValue, low, high, n: q.samples };
}

export const TASK_METRIC_NAMES = { map: 'mAP@0.5', miou: 'mIoU' } as const;

/** "mAP@0.5 vs labels" / "mIoU vs float": the measure and what it was taken against, as the table heads it. */
export function taskQualityName(q: { metric: 'map' | 'miou'; against: 'labels' | 'reference' }): string {
  return `${TASK_METRIC_NAMES[q.metric]} vs ${q.against === 'labels' ? 'labels' : 'float'}`;
}

export function qualityOf(result: RunResult, labeled: boolean): RateInterval {
  return (labeled && accuracyOf(result)) || taskQualityOf(result) || agreementOf(result);
}

/** "97.4% (95% CI 95.6–98.5%, n = 500)". */
export function intervalText(ci: RateInterval | null): string {
  if (!ci || Number.isNaN(ci.rate)) return '—';
  const p = (x: number) => `${(x * 100).toFixed(1)}`;
  return `${p(ci.rate)}% (95% CI ${p(ci.low)}–${p(ci.high)}%, n = ${ci.n})`;
}

// ---------------------------------------------------------------------------------------------
// CSV

const CSV_COLUMNS = [
  'variant', 'stale', 'evaluated on', 'samples', 'accuracy', 'accuracy 95% low', 'accuracy 95% high',
  'agreement', 'agreement 95% low', 'agreement 95% high', 'output SQNR dB', 'size bytes', 'gzip bytes', 'latency median ms', 'ops in float',
] as const;

function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : '-inf') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The comparison table as CSV (RFC 4180, CRLF): the float model's row on the current samples
 * first, then one row per result in the order given, exact numbers (fractions, bytes, ms), stale
 * results marked.
 */
export function resultsCsv(entries: ResultEntry[], key: string | null): string {
  const rows: (string | number | boolean | null | undefined)[][] = [[...CSV_COLUMNS]];
  const reference = entries.find((e) => !isStale(e.result, key)) ?? entries[0];
  if (reference) {
    const r = reference.result;
    const acc = referenceAccuracyOf(r);
    rows.push([
      'float model', false, evaluatedOnText(r), r.comparison.samples, acc?.rate, acc?.low, acc?.high, 1, null, null, Infinity,
      r.sizes.reference.rawBytes, r.sizes.reference.gzipBytes, r.referenceLatency.medianMs, 'all',
    ]);
  }
  for (const { result: r } of entries) {
    const acc = accuracyOf(r);
    const agree = agreementOf(r);
    rows.push([
      r.label, isStale(r, key), evaluatedOnText(r), r.comparison.samples, acc?.rate, acc?.low, acc?.high, agree.rate, agree.low, agree.high,
      r.comparison.outputs[0]?.sqnrDb, r.sizes.candidate.rawBytes, r.sizes.candidate.gzipBytes, r.latency.medianMs, r.floatOps.length,
    ]);
  }
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
