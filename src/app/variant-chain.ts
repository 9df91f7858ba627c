/**
 * A variant's optional prune / cluster / training steps before its quantization technique, written
 * as a chain string (src/optimize/chain.ts), e.g. "prune:0.5:2of4+dynamic", "cluster:32:per-channel+int8",
 * "prune:0.9+finetune+int8" or "qat+int8" (whose recipe may ask int4 weights: QAT then learns the int4 steps).
 * Pure (no React, no store): the page builds the chain a variant runs (as data) here.
 */
import { WorkbenchError } from '../errors';
import { chainLabel, type Chain } from '../optimize/chain';
import { qatInt4Problem } from '../optimize/chain-qat-int4';
import { recipeLabel, type Recipe } from '../optimize/recipe';

/** Training settings the experiment editor shows (src/optimize/finetune.ts FinetuneOptions). */
export interface TrainSettings {
  mode: 'finetune' | 'qat';
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Distillation only (no labels): mirror training images left-right at random (training-batches.ts). */
  augment?: 'flip';
}

export interface VariantSteps {
  prune?: { sparsity: number; structure: 'unstructured' | '2of4' };
  cluster?: { clusters: number; perChannel: boolean };
  /** Fine-tune after prune / cluster, or quantization-aware training before int8. */
  train?: TrainSettings;
  /** No quantization step: the pruned / clustered model stays float (technique "none"). */
  float?: boolean;
}

export const MAX_SPARSITY = 0.95;
export const MAX_CLUSTERS = 256;
export const MAX_EPOCHS = 100;

/**
 * Defaults: 3 epochs of batch 16. QAT starts from a trained float model and only has to adapt to the
 * int8 grid, so a small step (1e-4) is enough; after heavy pruning the weights have far to go, and
 * 1e-3 recovered clearly more in the same epochs (measured on MNIST, prune:0.9).
 */
export function defaultTraining(mode: TrainSettings['mode']): TrainSettings {
  return { mode, epochs: 3, batchSize: 16, learningRate: mode === 'qat' ? 1e-4 : 1e-3 };
}

export function hasSteps(steps: VariantSteps | undefined): steps is VariantSteps {
  return !!(steps?.prune || steps?.cluster || steps?.train);
}

/** What is wrong with the steps (shown next to them; the variant cannot run), or null. */
export function stepsProblem(steps: VariantSteps | undefined, recipe?: Recipe): string | null {
  if (steps?.prune) {
    const s = steps.prune.sparsity;
    if (!Number.isFinite(s) || s < 0 || s > MAX_SPARSITY) return `Sparsity must be between 0 and ${MAX_SPARSITY}.`;
  }
  if (steps?.cluster) {
    const k = steps.cluster.clusters;
    if (!Number.isInteger(k) || k < 2 || k > MAX_CLUSTERS) return `Clusters must be a whole number from 2 to ${MAX_CLUSTERS}.`;
  }
  const t = steps?.train;
  if (t) {
    if (t.mode === 'finetune' && !steps.prune && !steps.cluster) return 'Fine-tuning follows a prune or cluster step.';
    if (t.mode === 'qat' && (steps.float || (recipe && recipe.technique !== 'int8'))) return 'Quantization-aware training simulates int8: the technique must be int8.';
    const int4 = t.mode === 'qat' ? qatInt4Problem(recipe, !!(steps.prune || steps.cluster)) : null;
    if (int4) return `${int4}.`;
    if (!Number.isInteger(t.epochs) || t.epochs < 1 || t.epochs > MAX_EPOCHS) return `Epochs must be a whole number from 1 to ${MAX_EPOCHS}.`;
    if (!Number.isInteger(t.batchSize) || t.batchSize < 1 || t.batchSize > 1024) return 'The batch size must be a whole number from 1 to 1024.';
    if (!(t.learningRate > 0 && t.learningRate < 1)) return 'The learning rate must be between 0 and 1 (e.g. 0.0001).';
  }
  return null;
}

/** The chain string, or null for a plain recipe (no steps). */
export function chainText(recipe: Recipe, steps: VariantSteps | undefined): string | null {
  if (!hasSteps(steps)) return null;
  const parts: string[] = [];
  if (steps.prune) parts.push(steps.prune.structure === '2of4' ? 'prune:0.5:2of4' : `prune:${steps.prune.sparsity}`);
  if (steps.cluster) parts.push(`cluster:${steps.cluster.clusters}${steps.cluster.perChannel ? ':per-channel' : ''}`);
  if (steps.train) parts.push(steps.train.mode);
  if (!steps.float) parts.push(recipe.technique);
  return parts.join('+');
}

/**
 * The variant's steps as a chain (data, as parseChain would read chainText: a cluster after a prune
 * keeps its zeros; both skip the ops the quantization step keeps in float), or null for a plain recipe.
 */
export function chainOf(recipe: Recipe, steps: VariantSteps | undefined): Chain | null {
  const text = chainText(recipe, steps);
  if (!text || !hasSteps(steps)) return null;
  const problem = stepsProblem(steps, recipe);
  if (problem) throw new WorkbenchError('bad-input', problem);
  const chain: Chain = { text };
  // As parseChain: the ops the quantization step keeps in float (none without one).
  const exclude = steps.float ? [] : (recipe.keepFloat ?? []);
  if (steps.prune) chain.prune = steps.prune.structure === '2of4' ? { sparsity: 0.5, structure: '2of4', exclude: [...exclude] } : { sparsity: steps.prune.sparsity, exclude: [...exclude] };
  if (steps.cluster) {
    chain.cluster = { clusters: steps.cluster.clusters, exclude: [...exclude] };
    if (steps.cluster.perChannel) chain.cluster.perChannel = true;
    if (steps.prune) chain.cluster.preserveZeros = true;
  }
  if (steps.train) chain.train = { mode: steps.train.mode };
  if (!steps.float) chain.quantize = { ...recipe };
  return chain;
}

/** A file-name-safe label, e.g. "cluster16pc-int8", "prune0.5-2of4-dynamic-per-tensor", "qat-int8". */
export function chainRunLabel(chain: Chain): string {
  const steps = chainLabel({ ...chain, quantize: undefined });
  return chain.quantize ? `${steps}-${recipeLabel(chain.quantize)}` : `${steps}-float`;
}

export function variantLabel(recipe: Recipe, steps: VariantSteps | undefined): string {
  const text = chainText(recipe, steps);
  if (!text || stepsProblem(steps, recipe)) return text ?? recipeLabel(recipe);
  return chainRunLabel(chainOf(recipe, steps)!);
}

/**
 * The label of the same variant without its training step ("prune0.9-finetune-int8" ->
 * "prune0.9-int8", "qat-int8" -> "int8"): the post-training result a trained one is compared with.
 */
export function untrainedLabel(label: string): string | null {
  const stripped = label.replace(/(^|-)(finetune|qat)(?=-|$)/, '').replace(/^-/, '');
  return stripped === label ? null : stripped;
}
