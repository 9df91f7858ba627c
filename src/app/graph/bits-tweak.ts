/**
 * The op details' actions "keep in float", "more bits" and "fewer bits", as recipe changes. A recipe
 * sets bit widths for a whole technique or by op type (opWeightBits), not op by op, so "more bits" on
 * one conv of a weight-int4 variant raises every op of its type, and on a full-integer variant it
 * moves the variant to 16-bit activations; each tweak says what it covers, or why there is none.
 */
import type { Recipe } from '../../optimize/recipe';

export type BitsDirection = 'more' | 'fewer';

export type Tweak = { ok: true; recipe: Recipe; says: string } | { ok: false; why: string };

const WEIGHT_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'TRANSPOSE_CONV', 'CONV_3D', 'BATCH_MATMUL', 'EMBEDDING_LOOKUP', 'GATHER']);

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Keep the op writing `outputTensor` in float: a scope over that exact tensor name. */
export function keepFloatTweak(recipe: Recipe, outputTensor: string): Tweak {
  const pattern = `^${escape(outputTensor)}$`;
  if (recipe.keepFloat.some((s) => s.tensorNamePattern === pattern)) return { ok: false, why: 'This op is already kept in float by the recipe.' };
  return { ok: true, recipe: { ...recipe, keepFloat: [...recipe.keepFloat, { tensorNamePattern: pattern }] }, says: `keeps the op writing ${outputTensor} in float` };
}

/** Weight bits the recipe gives ops of this type today (weight-only and dynamic; see weightBitsFor). */
function weightBitsOf(recipe: Recipe, op: string): number {
  return recipe.opWeightBits[op] ?? (op === 'DEPTHWISE_CONV_2D' ? 8 : recipe.weightBits);
}

export function bitsTweak(recipe: Recipe, op: string, direction: BitsDirection): Tweak {
  switch (recipe.technique) {
    case 'int8':
      return direction === 'more'
        ? { ok: true, recipe: { ...recipe, technique: 'int16x8' }, says: 'runs the whole variant with 16-bit activations (16x8): a recipe has no per-op activation width' }
        : { ok: false, why: 'Full-integer int8 has no narrower form here yet (W4A8 is not done).' };
    case 'int16x8':
      return direction === 'fewer'
        ? { ok: true, recipe: { ...recipe, technique: 'int8' }, says: 'runs the whole variant with 8-bit activations (int8): a recipe has no per-op activation width' }
        : { ok: false, why: '16x8 is the widest integer scheme: keep this op in float instead.' };
    case 'weight-int8':
    case 'dynamic': {
      if (!WEIGHT_OPS.has(op)) return { ok: false, why: `${op} has no weights this technique quantizes.` };
      const bits = weightBitsOf(recipe, op);
      const to = direction === 'more' ? (bits === 4 ? 8 : null) : bits === 8 ? 4 : null;
      if (to === null) return { ok: false, why: direction === 'more' ? `${op} weights are already 8-bit, the most this technique stores: keep the op in float instead.` : `${op} weights are already 4-bit, the fewest this technique stores.` };
      return { ok: true, recipe: { ...recipe, opWeightBits: { ...recipe.opWeightBits, [op]: to as 8 | 4 } }, says: `stores the weights of every ${op} in ${to} bits (the recipe sets bits by op type)` };
    }
    case 'float16':
      return { ok: false, why: direction === 'more' ? 'float16 has no per-op width: keep this op in float instead.' : 'float16 has no narrower per-op form: try a weight-int8 variant.' };
  }
}
