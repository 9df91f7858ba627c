/** The search's --sparsity-sensitivity option: which pruned / clustered columns the per-op table gets. */
import type { SparsityAsk } from '../app/search/sparse-forms';
import { UsageError } from './usage-error';

/** --sparsity-sensitivity prune:0.5,cluster:16 (either or both). */
export function sparsityAskOf(text: string | undefined): SparsityAsk | undefined {
  if (text === undefined) return undefined;
  const ask: SparsityAsk = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [kind, value, extra] = part.split(':');
    const number = Number(value);
    if (extra !== undefined || value === undefined || value.trim() === '' || !Number.isFinite(number)) {
      throw new UsageError(`--sparsity-sensitivity takes prune:S and / or cluster:K (e.g. prune:0.5,cluster:16); "${part}" is not one of them.`, false);
    }
    if (kind === 'prune') {
      if (!(number > 0 && number < 1)) throw new UsageError(`--sparsity-sensitivity prune:S takes a sparsity between 0 and 1 (exclusive); got ${value}.`, false);
      ask.prune = number;
    } else if (kind === 'cluster') {
      if (!(Number.isInteger(number) && number >= 2 && number <= 256)) throw new UsageError(`--sparsity-sensitivity cluster:K takes 2 to 256 clusters; got ${value}.`, false);
      ask.clusters = number;
    } else {
      throw new UsageError(`--sparsity-sensitivity takes prune:S and / or cluster:K; "${kind}" is neither.`, false);
    }
  }
  if (ask.prune === undefined && ask.clusters === undefined) throw new UsageError('--sparsity-sensitivity needs prune:S, cluster:K or both.', false);
  return ask;
}
