/**
 * A variant compared with its input model on evaluation samples (the CLI's `--eval`), and what the
 * comparison tells the user about a one-shot chain result. Optimize makes the variant; judging it is
 * evaluate's, so the two meet here.
 */
import { compareModels, type ComparisonResult } from '../evaluate/compare';
import type { Chain } from '../optimize/chain';
import type { Samples } from '../runtime/samples';
import type { MadeVariant } from './make-variant';

/** Accuracy drop (top-1, absolute) or agreement below which a one-shot result is called lossy. */
const LOSSY_TOP1_DROP = 0.02;
const LOSSY_AGREEMENT = 0.9;

/** Samples to compare a variant with its input model on (accuracy with labels). */
export interface AccuracyEvaluation {
  samples: Samples;
  labels?: number[];
  total?: number;
}

/** The comparison of a made variant with its input model; a chain's accuracy notes go after its own notes. */
export async function compareWithInput(model: Uint8Array, made: MadeVariant, evaluation: AccuracyEvaluation): Promise<ComparisonResult> {
  const comparison = await compareModels(model, made.bytes, evaluation.samples, { labels: evaluation.labels, total: evaluation.total });
  if (made.chain) made.notes.push(...accuracyNotes(comparison, made.chain.steps));
  return comparison;
}

/** What the user should know about the accuracy of a one-shot result (no fine-tuning). */
export function accuracyNotes(comparison: ComparisonResult, chain: Chain): string[] {
  const c = comparison.classification;
  const oneShot = chain.prune || chain.cluster;
  const lines: string[] = [];
  let lossy = false;
  if (c.accuracy) {
    const drop = c.accuracy.reference.top1 - c.accuracy.candidate.top1;
    lines.push(`top-1 ${(c.accuracy.candidate.top1 * 100).toFixed(1)}% vs ${(c.accuracy.reference.top1 * 100).toFixed(1)}% for the input model on ${c.accuracy.labeled} labeled sample(s); agreement ${(c.agreement * 100).toFixed(1)}%`);
    lossy = drop > LOSSY_TOP1_DROP;
  } else {
    lines.push(`top-1 agreement with the input model ${(c.agreement * 100).toFixed(1)}% on ${c.count} sample(s)`);
    lossy = c.agreement < LOSSY_AGREEMENT;
  }
  if (lossy && oneShot && !chain.train) {
    if (chain.cluster && !chain.cluster.perChannel) {
      lines.push('Clusters per tensor share k values across output channels whose scales differ widely (batch norm folded into the weights); ":per-channel" clusters usually keep much more accuracy, at a larger gzip size.');
    }
    lines.push(
      'This one-shot result loses much accuracy: pruning/clustering without retraining is this lossy on this model. Fine-tuning recovers it: add "+finetune" before the quantization step (e.g. prune:0.75+finetune+int8) with training data (labels optional); or use a lower sparsity or more clusters, or exclude sensitive layers.',
    );
  }
  return lines;
}
