/**
 * Measuring a variant's bytes against the float model on the session's current data (or seeded
 * random inputs without data): the comparison, what it was measured on, and the inputs where the
 * two disagree. Shared by a full run and by a re-evaluation of a finished variant on other data.
 */
import { compareModels, type ComparisonResult } from '../evaluate/compare';
import { findDisagreements } from './disagreements';
import { evaluationSamples } from './evaluation-samples';
import { evaluationKey, type EvaluatedOn } from './evaluation-set';
import type { Session } from './session';
import { splitIndices } from './split';
import type { Disagreement, ProgressCallback, Split } from './worker-protocol';

export interface CandidateEvaluation {
  comparison: ComparisonResult;
  evaluatedOn: EvaluatedOn;
  /** Finds up to 4 evaluation inputs where the two disagree (classifiers; none on random inputs). */
  disagreements(): Promise<Disagreement[]>;
}

/**
 * `channelScales`: what cross-layer equalization rescaled in the candidate (OptimizeResult.channelScales),
 * `channelShifts`: what high-bias absorption lowered (OptimizeResult.channelShifts); both undone per layer.
 */
export async function evaluateCandidate(
  session: Session,
  candidate: Uint8Array,
  split: Split,
  onProgress: ProgressCallback,
  signal?: AbortSignal,
  channelScales?: Record<string, number[]>,
  channelShifts?: Record<string, number[]>,
): Promise<CandidateEvaluation> {
  const { bytes: reference } = session.requireModel();
  const d = session.dataset;
  const indices = d ? splitIndices(d, split) : null;
  const evaluation = await evaluationSamples(reference, d, indices);
  onProgress('evaluate', 0, evaluation.total);
  const comparison = await compareModels(reference, candidate, evaluation.samples, {
    labels: evaluation.labels,
    perLayer: true,
    channelScales,
    channelShifts,
    // The task's own measure beside top-1 (mAP@0.5 for detectors, mIoU for segmenters, from the
    // model's outputs; against the labels, boxes or masks when there are some, else the float model's outputs).
    quality: {
      truth: { ...(evaluation.labels ? { labels: evaluation.labels } : {}), ...(evaluation.boxes ? { boxes: evaluation.boxes } : {}), ...(evaluation.masks ? { masks: evaluation.masks } : {}) },
      rawDetection: session.rawDetection ?? undefined,
    },
    // Classifiers: per-class recall / precision and confusions, named as the page names classes.
    perClass: { classNames: d?.classNames ?? session.model?.classNames ?? null },
    total: evaluation.total,
    signal,
    onProgress: (done, total) => onProgress('evaluate', done, total),
  });
  const fingerprint = evaluation.random ? 'random' : (session.datasetFingerprint ?? 'unknown');
  const evaluatedOn: EvaluatedOn = {
    dataset: evaluation.random ? 'random inputs' : (session.datasetName ?? 'dataset'),
    fingerprint,
    samples: comparison.samples,
    random: evaluation.random,
    split: evaluation.random ? null : { ...split, training: split.training ?? 0 },
    key: evaluationKey(fingerprint, evaluation.random ? null : split),
    finishedAt: Date.now(),
  };
  return {
    comparison,
    evaluatedOn,
    disagreements: async () =>
      d && indices && comparison.classification.agreement < 1 ? findDisagreements(reference, candidate, d, indices.evaluation, (i) => session.className(i), signal) : [],
  };
}
