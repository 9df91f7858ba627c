/**
 * The pruned and clustered columns of the search's per-op table, where the user asks for them: for
 * each weight tensor the pruning (or clustering) technique takes by default, the float model with
 * that tensor alone pruned to a sparsity (magnitude) or clustered to k values. Compared layer by
 * layer, the op reading it gets the dB lost from its clean inputs to its output. One model per
 * tensor, not one for the whole model: with every weight pruned, an op's inputs already carry the
 * earlier ops' large errors and the loss across it reads about zero (MNIST's first dense layer: 0 dB).
 * They rank which ops take pruning or clustering worst; the search itself does not prune or cluster.
 */
import { WorkbenchError } from '../../errors';
import { CLUSTER_OP_TYPES, clusterModel } from '../../optimize/cluster';
import { defaultScope, PRUNE_OP_TYPES, pruneModel, scopedWeights } from '../../optimize/prune';
import { readModel } from '../../tflite/read';
import { writeModel } from '../../tflite/write';
import type { SparseForm } from './sensitivity';

export interface SparsityAsk {
  /** Fraction of each weight tensor set to zero, in (0, 1). */
  prune?: number;
  /** Values per weight tensor after clustering, 2..256. */
  clusters?: number;
}

/** One weight tensor in one form: the float model with just that tensor changed. */
export interface SparseModel {
  form: SparseForm;
  /** The weight tensor's name (the tensor the transforms report). */
  tensor: string;
  bytes: () => Uint8Array;
}

/** Checks the ask; a line for the notes per form. */
export function sparsityNotes(ask: SparsityAsk | undefined): string[] {
  if (!ask) return [];
  const notes: string[] = [];
  if (ask.prune !== undefined) {
    if (!(ask.prune > 0 && ask.prune < 1)) throw new WorkbenchError('bad-input', `The sensitivity to pruning needs a sparsity in (0, 1); got ${ask.prune}.`);
    notes.push(`pruned column: each weight tensor pruning takes by default, alone in the float model, pruned to ${(100 * ask.prune).toFixed(0)}% zeros (magnitude), compared layer by layer`);
  }
  if (ask.clusters !== undefined) {
    if (!(Number.isInteger(ask.clusters) && ask.clusters >= 2 && ask.clusters <= 256)) {
      throw new WorkbenchError('bad-input', `The sensitivity to clustering needs 2 to 256 clusters; got ${ask.clusters}.`);
    }
    notes.push(`clustered column: each weight tensor clustering takes by default, alone in the float model, clustered to ${ask.clusters} values, compared layer by layer`);
  }
  return notes;
}

/** Every (form, weight tensor) asked, each model written only when its bytes are asked for. */
export function sparseModels(model: Uint8Array, ask: SparsityAsk | undefined): SparseModel[] {
  sparsityNotes(ask);
  if (!ask) return [];
  // One parse: the transforms clone the graph they are given. The tensors are listed from the
  // techniques' default scopes, without pruning or clustering the whole model to name them.
  const graph = readModel(model);
  const only = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const models: SparseModel[] = [];
  if (ask.prune !== undefined) {
    const sparsity = ask.prune;
    for (const t of scopedWeights(graph, defaultScope(PRUNE_OP_TYPES))) {
      models.push({ form: 'pruned', tensor: t.name, bytes: () => writeModel(pruneModel(graph, { sparsity, namePattern: only(t.name) }).graph) });
    }
  }
  if (ask.clusters !== undefined) {
    const clusters = ask.clusters;
    for (const t of scopedWeights(graph, defaultScope(CLUSTER_OP_TYPES))) {
      models.push({ form: 'clustered', tensor: t.name, bytes: () => writeModel(clusterModel(graph, { clusters, namePattern: only(t.name) }).graph) });
    }
  }
  return models;
}
