/**
 * Re-evaluating a finished variant on the session's current data: the same model bytes measured
 * again (accuracy, agreement, per-layer error, disagreements), without optimizing again. What does
 * not depend on the data (the bytes, sizes, latency, target checks, the recipe) is the earlier run's,
 * and the report says so.
 */
import { modelNodeData, nodeDataJson } from '../evaluate/model-explorer';
import { parseReport, reportMarkdown, reportToJson } from '../evaluate/report';
import { readModel } from '../tflite/read';
import { evaluateCandidate } from './evaluate-candidate';
import type { Session } from './session';
import type { ProgressCallback, RunResult, Split } from './worker-protocol';

export interface ReevaluateRequest {
  session: Session;
  previous: RunResult;
  split: Split;
  onProgress: ProgressCallback;
  signal?: AbortSignal;
  environment: Record<string, string>;
}

const NOTE_START = 'Re-evaluated on ';

export async function reevaluateVariant({ session, previous, split, onProgress, signal, environment }: ReevaluateRequest): Promise<RunResult> {
  const measured = await evaluateCandidate(session, previous.bytes, split, onProgress, signal, previous.channelScales, previous.channelShifts);
  const { comparison, evaluatedOn } = measured;
  const disagreements = await measured.disagreements();
  const overlayJson = comparison.perLayer?.length ? nodeDataJson(modelNodeData(readModel(previous.bytes), comparison.perLayer)) : null;
  const note = `${NOTE_START}${evaluatedOn.dataset} (${evaluatedOn.samples} samples): the model, its size, latency and target checks are the earlier run's.`;
  const notes = [...previous.notes.filter((n) => !n.startsWith(NOTE_START)), note];
  const report = parseReport(previous.reportJson);
  report.createdAt = new Date().toISOString();
  report.metrics = { samples: comparison.samples, outputs: comparison.outputs, classification: comparison.classification };
  report.perLayer = comparison.perLayer;
  report.notes = [...(report.notes ?? []).filter((n) => !n.startsWith(NOTE_START)), note];
  report.environment = environment;
  return {
    ...previous,
    comparison,
    evaluatedOn,
    randomInputs: evaluatedOn.random,
    disagreements,
    overlayJson,
    notes,
    reportJson: reportToJson(report),
    reportMarkdown: reportMarkdown(report),
  };
}
