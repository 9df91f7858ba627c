/**
 * A variant's optional prune / cluster steps before its quantization technique, written as a chain
 * string (src/optimize/chain.ts), e.g. "prune:0.5:2of4+dynamic" or "cluster:32:per-channel+int8".
 * Pure (no React, no store): the page and the optimizer worker both use it.
 */
import { chainLabel, parseChain, type Chain } from '../optimize/chain';
import { recipeLabel, type Recipe } from '../optimize/recipe';

export interface VariantSteps {
  prune?: { sparsity: number; structure: 'unstructured' | '2of4' };
  cluster?: { clusters: number; perChannel: boolean };
  /** No quantization step: the pruned / clustered model stays float (technique "none"). */
  float?: boolean;
}

export const MAX_SPARSITY = 0.95;
export const MAX_CLUSTERS = 256;

export function hasSteps(steps: VariantSteps | undefined): steps is VariantSteps {
  return !!(steps?.prune || steps?.cluster);
}

/** What is wrong with the steps (shown next to them; the variant cannot run), or null. */
export function stepsProblem(steps: VariantSteps | undefined): string | null {
  if (steps?.prune) {
    const s = steps.prune.sparsity;
    if (!Number.isFinite(s) || s < 0 || s > MAX_SPARSITY) return `Sparsity must be between 0 and ${MAX_SPARSITY}.`;
  }
  if (steps?.cluster) {
    const k = steps.cluster.clusters;
    if (!Number.isInteger(k) || k < 2 || k > MAX_CLUSTERS) return `Clusters must be a whole number from 2 to ${MAX_CLUSTERS}.`;
  }
  return null;
}

/** The chain string, or null for a plain recipe (no steps). */
export function chainText(recipe: Recipe, steps: VariantSteps | undefined): string | null {
  if (!hasSteps(steps)) return null;
  const parts: string[] = [];
  if (steps.prune) parts.push(steps.prune.structure === '2of4' ? 'prune:0.5:2of4' : `prune:${steps.prune.sparsity}`);
  if (steps.cluster) parts.push(`cluster:${steps.cluster.clusters}${steps.cluster.perChannel ? ':per-channel' : ''}`);
  if (!steps.float) parts.push(recipe.technique);
  return parts.join('+');
}

/** The chain with the variant's own recipe (granularity, I/O, calibration, kept-float ops) as its quantization step. */
export function variantChain(recipe: Recipe, text: string): Chain {
  return parseChain(text, { recipeFor: (technique) => ({ ...recipe, technique }) });
}

/** A file-name-safe label, e.g. "cluster16pc-int8", "prune0.5-2of4-dynamic-per-tensor". */
export function chainRunLabel(chain: Chain): string {
  const steps = chainLabel({ ...chain, quantize: undefined });
  return chain.quantize ? `${steps}-${recipeLabel(chain.quantize)}` : `${steps}-float`;
}

export function variantLabel(recipe: Recipe, steps: VariantSteps | undefined): string {
  const text = chainText(recipe, steps);
  if (!text || stepsProblem(steps)) return text ?? recipeLabel(recipe);
  return chainRunLabel(variantChain(recipe, text));
}
