/**
 * The precision options of a variant as the experiment editor offers them: which apply to a recipe
 * (and why not, when they do not), how a choice changes the recipe, the reason behind each default,
 * and the one-line summary the tables show ("int8 · W4A8 · gptq"). Pure: no React, no store.
 * Every figure quoted comes from a bench script named beside it (bench/README.md, README.md).
 */
import {
  BLOCK_SIZES,
  CALIBRATION_ALGORITHMS,
  DEFAULT_ROUNDING,
  defaultRecipe,
  needsCalibration,
  ROUNDING_METHODS,
  scopeFromText,
  smallLayersStayInt8,
  type AbsorbMode,
  type CalibrationAlgorithm,
  type EqualizeMode,
  type Recipe,
  type RoundingMethod,
  type ScopedWeightBits,
  type SmallInt4Layers,
  type Technique,
  type WeightBits,
} from '../../optimize/recipe';
import type { VariantSteps } from '../../app/variant-chain';
import { WorkbenchError } from '../../errors';

export { BLOCK_SIZES, CALIBRATION_ALGORITHMS, ROUNDING_METHODS };

/** Why each choice is offered, the default first; shown beside the control for the current choice. */
export const ROUNDING_REASONS: Record<RoundingMethod, string> = {
  gptq: 'GPTQ (default): on MobileNetV1 0.25 int8 it agreed with float on 94.25% of images vs 92.25% rounding to nearest, for 1-4 s more (npm run bench:rounding).',
  nearest: 'Nearest: no layer inputs sampled, the fastest; on MobileNetV1 0.25 int8 92.25% agreement with float vs 94.25% with GPTQ (npm run bench:rounding).',
  adaround: 'AdaRound: learned rounding, 30-40x slower than GPTQ (about 1-2.5 min on MobileNetV1 0.25); no better on int8 (93.00% agreement), better on int4 (67.25% vs 64.00%) (npm run bench:rounding).',
};

export const SMALL_INT4_REASONS: Record<SmallInt4Layers, string> = {
  int8: 'int8 (default): the smallest layers int4 would take, together at most 2% of those weights, keep int8 weights; on MobileNetV1 0.25 W4A8 that is 6 of 15 layers for 4,012 bytes, and top-1 rose from 55.20% to 57.80%, agreement with float from 70.80% to 77.40% (5 folds of 500 images, npm run bench:w4a8).',
  int4: 'int4: every layer int4 takes, the smallest too, as AI Edge Quantizer does; they hold at most 2% of the int4 weights, so int4 saves them at most 1% of what those weights take at int8, and they lose the most to 4 bits.',
};

export const EQUALIZE_REASONS: Record<EqualizeMode, string> = {
  auto: 'auto (default, on): equalizing layer pairs raised per-channel int8 SQNR wherever it found them (BlazeFace +4.4 dB, selfie segmentation +2.3, MobileNetV2 +1.1) without costing top-1 (npm run bench:equalize); per-tensor it also equalizes through RELU6 in the channels that stay well under their clip on the calibration data, which took MobileNetV1 0.25 per-tensor int8 from 30% to 61% top-1 (float 62%) and MobileNetV2 from 68% to 77% (float 77%; npm run bench:pertensor).',
  on: 'on: tries RELU in place of RELU6 between layers, kept only where the float outputs stay within 30 dB; else does what auto does.',
  off: 'off: quantize the model as it is, without equalizing its layers.',
};

export const ALGORITHM_REASONS: Record<CalibrationAlgorithm, string> = {
  minmax: 'min/max (default): on MobileNetV1 0.25 the best output SQNR (18.2 dB) with top-1 within two images of the best; on MNIST within 0.1 dB of MSE (npm run bench:calibration).',
  percentile: 'percentile: clips rare outliers; on MobileNetV1 0.25 62.0% top-1 but 15.0 dB SQNR, vs min/max 61.6% and 18.2 dB (npm run bench:calibration).',
  mse: 'MSE-optimal clipping: on MobileNetV1 0.25 61.6% top-1, 18.1 dB, as min/max (npm run bench:calibration).',
  'moving-average': 'moving average of per-batch ranges: lost 8 pt on MobileNetV1 0.25 (53.6% vs 61.6% with min/max) (npm run bench:calibration).',
  'output-mse': "by the consuming op's output error: each conv / FC input clipped where that op's output errs least; with nearest rounding MobileNetV1 0.25 62.5% top-1, 18.4 dB vs min/max 61.3%, 18.0 dB, but with GPTQ 93.5% vs 94.3% agreement (npm run bench:act-ranges).",
};

/** The reason for the weight bits shown, by what the technique does with int4. */
export function weightBitsReason(recipe: Recipe): string {
  const full = needsCalibration(recipe);
  if (recipe.weightBits === 8) {
    return full
      ? 'int8 weights (default): int4 makes the file ~0.59x int8 but cost MobileNetV1 0.25 2.75 pt of top-1 (W4A8: 59.00% vs int8 61.75%, float 62.25%) and MobileNetV2 1.25 pt (76.25% vs 77.50%, float 77.00%; 400 images calibration never saw, npm run bench:w4a8).'
      : 'int8 weights (default): int4 halves the weight bytes again, at an accuracy cost the table measures for your model.';
  }
  return full
    ? `int4 weights (${precisionText(recipe)}): CONV_2D and FULLY_CONNECTED packed 4-bit per channel, depthwise convolutions and the smallest layers stay int8; on MobileNetV1 0.25 the file is 0.59x int8 and top-1 59.00% vs 61.75% (43.8% rounding to nearest, every layer int4), MobileNetV2 76.25% vs 77.50% (npm run bench:w4a8).`
    : 'int4 weights: 4 bits per weight instead of 8, per channel or in blocks; depthwise convolutions stay int8, as do ops LiteRT.js has no int4 kernel for (the notes name them).';
}

export function blockSizeReason(recipe: Recipe): string {
  return recipe.blockSize
    ? `Blocks of ${recipe.blockSize} input values, each with its own float16 scale: finer than one scale per channel, for FULLY_CONNECTED and embedding weights.`
    : 'Per channel (default): one scale per output channel. Blocks (32-256 values along the input) give large FULLY_CONNECTED / embedding weights finer scales.';
}

const INT4_TECHNIQUES: readonly Technique[] = ['weight-int8', 'dynamic', 'int8', 'int16x8'];
const BLOCKWISE_TECHNIQUES: readonly Technique[] = ['weight-int8', 'dynamic'];

/** Why int4 weights cannot be picked for this recipe, or null when they can. */
export function weightBitsProblem(recipe: Recipe): string | null {
  if (!INT4_TECHNIQUES.includes(recipe.technique)) return `${recipe.technique} stores float16 weights: int4 needs weight-int8, dynamic, int8 (W4A8) or int16x8 (W4A16).`;
  return null;
}

/** Why a block size cannot be picked, or null. */
export function blockSizeProblem(recipe: Recipe): string | null {
  if (recipe.weightBits !== 4) return 'Blocks are for int4 weights: pick int4 first.';
  if (!BLOCKWISE_TECHNIQUES.includes(recipe.technique)) return `${recipe.technique} stores int4 weights per channel, the form its integer kernels read: blocks need weight-int8 or dynamic.`;
  return null;
}

/** Chains with prune / cluster / training steps round to nearest (chain.ts): the reason, or null. */
export function roundingProblem(recipe: Recipe, steps?: VariantSteps): string | null {
  if (!needsCalibration(recipe)) return `Only int8 and int16x8 round their weights against calibration data; ${recipe.technique} rounds to nearest.`;
  if (steps?.prune || steps?.cluster || steps?.train) return 'After prune, cluster or QAT the weights round to nearest: better rounding would move pruned zeros and shared values, and QAT trained for nearest.';
  return null;
}

export const ABSORB_REASONS: Record<AbsorbMode, string> = {
  auto: "auto (default, off): high-bias absorption moves channels that RELU / RELU6 never clipped on the calibration data down into the next layer's bias, where that stays exact; it found almost nothing to move on MobileNets (1 of 2736 channels of MobileNetV1 0.25, 29 of 15552 of MobileNetV2: most feed a padded 3x3 depthwise convolution or reach their clip) and did not raise per-tensor int8 (V1 61.25% -> 61.00% top-1, V2 77.25% both; npm run bench:pertensor).",
  on: 'on: absorb high biases after equalizing (measures the float model on the first calibration samples); the notes count the channels moved and why the others were not.',
  off: 'off: no absorption.',
};

/** Absorption follows equalization: the reason it does not apply, or null. */
export function absorptionProblem(recipe: Recipe, steps?: VariantSteps): string | null {
  const problem = equalizeProblem(recipe, steps);
  if (problem) return problem;
  if (recipe.equalize === 'off') return 'High-bias absorption runs after cross-layer equalization, which is off.';
  return null;
}

/** Chains never equalize (chain.ts): the reason, or null. */
export function equalizeProblem(recipe: Recipe, steps?: VariantSteps): string | null {
  if (!needsCalibration(recipe)) return `Equalization prepares int8 / int16x8 calibration; ${recipe.technique} has none.`;
  if (steps?.prune || steps?.cluster || steps?.train) return 'Not in chains: per-channel rescaling would split shared cluster values and move pruned weights.';
  return null;
}

/**
 * The recipe with another technique, keeping what still applies and dropping what the new one
 * cannot take (so the recipe stays one parseRecipe accepts): int4 and per-op bits leave float16,
 * blocks leave int8 / int16x8, scoped bits (weights and activations) leave weight-only and dynamic, integer I/O leaves all but
 * int8 / int16x8 (uint8 only int8). A minWeightElements still at the old technique's default
 * follows the new one's (dynamic skips tiny tensors, the others do not).
 */
export function withTechnique(recipe: Recipe, technique: Technique): Recipe {
  const next: Recipe = { ...recipe, technique };
  const int = technique === 'int8' || technique === 'int16x8';
  if (!int) {
    next.io = 'float';
    next.integerOnly = false;
    next.weightBitsByScope = [];
    delete next.activationBitsByScope;
  }
  if (technique === 'int16x8' && next.io === 'uint8') next.io = 'float';
  if (!INT4_TECHNIQUES.includes(technique)) {
    next.weightBits = 8;
    next.opWeightBits = {};
  }
  if (!BLOCKWISE_TECHNIQUES.includes(technique)) next.blockSize = 0;
  if (recipe.minWeightElements === defaultRecipe(recipe.technique).minWeightElements) next.minWeightElements = defaultRecipe(technique).minWeightElements;
  return next;
}

/**
 * A recipe saved by an older page (IndexedDB sessions outlive deploys) with the fields added since
 * filled in, so the form and the summary never read a missing field: a recipe to run gets today's
 * defaults; the recipe of a result (`ran`) gets what the page that ran it did, before rounding
 * optimization and equalization existed: nearest rounding, no equalization; and an int4 one without
 * the small-layers field what the page saved at `ran.savedAt` did with the smallest layers.
 */
export function withRecipeDefaults(recipe: Recipe, ran: false | { savedAt?: number } = false): Recipe {
  const base: Recipe = { ...defaultRecipe(recipe.technique), ...(ran ? { rounding: 'nearest', equalize: 'off' } : {}) };
  const filled: Recipe = { ...base, ...recipe, calibration: { ...base.calibration, ...recipe.calibration } };
  if (!ran) return filled;
  // Pages before SMALL_INT4_DEFAULT_SINCE made every int4 layer int4 and saved no field for it (nor,
  // the oldest, a savedAt); from then until results carried the field, absent meant today's 'int8'.
  const before = ran.savedAt === undefined || ran.savedAt < SMALL_INT4_DEFAULT_SINCE;
  return before && undecidedSmallLayers(filled) ? { ...filled, smallInt4Layers: 'int4' } : withExplicitSmallLayers(filled);
}

/** When the smallest int4 layers became int8 by default (commit 78a9d9f). */
export const SMALL_INT4_DEFAULT_SINCE = Date.parse('2026-12-07T09:05:44Z');

/** An int4 recipe whose smallest layers follow the default because it names no choice. */
function undecidedSmallLayers(recipe: Recipe): boolean {
  return recipe.smallInt4Layers === undefined && smallLayersStayInt8(recipe);
}

/** A finished run's recipe with the small-layers choice written out, so a later default cannot reinterpret it. */
export function withExplicitSmallLayers(recipe: Recipe): Recipe {
  return undecidedSmallLayers(recipe) ? { ...recipe, smallInt4Layers: 'int8' } : recipe;
}

/** The recipe with int8 or int4 weights; back to int8 drops the block size (blocks are int4). */
export function withWeightBits(recipe: Recipe, bits: WeightBits): Recipe {
  if (bits === 4 && weightBitsProblem(recipe)) return recipe;
  return { ...recipe, weightBits: bits, blockSize: bits === 4 ? recipe.blockSize : 0 };
}

/** The recipe with a block size (0 = per channel); ignored where blocks do not apply. */
export function withBlockSize(recipe: Recipe, blockSize: number): Recipe {
  if (blockSize !== 0 && (blockSizeProblem(recipe) || !BLOCK_SIZES.includes(blockSize))) return recipe;
  return { ...recipe, blockSize };
}

/**
 * "REGEX|OP_TYPE=int4|int8" (as the CLI's --op-weights) -> a scoped bit width; throws a
 * WorkbenchError naming what is wrong (an unknown op type, a bad regex, a missing "=int4").
 */
export function scopedBitsFromText(text: string): ScopedWeightBits {
  const at = text.lastIndexOf('=');
  const bits = text.slice(at + 1).trim();
  if (at <= 0 || (bits !== 'int4' && bits !== 'int8')) throw new WorkbenchError('bad-input', `Write OP_TYPE=int4 or /regex/=int8 (got "${text}").`);
  let scopeText = text.slice(0, at).trim();
  if (scopeText.length > 1 && scopeText.startsWith('/') && scopeText.endsWith('/')) scopeText = scopeText.slice(1, -1);
  return { ...scopeFromText(scopeText), bits: bits === 'int4' ? 4 : 8 };
}

/**
 * Weights and activations in the W·A notation: "W8A8" / "W4A8" (int8), "W8A16" / "W4A16" (int16x8);
 * "int4 b32 weights" for blockwise weight-only / dynamic; "" where it says nothing (float16).
 * Per-op bits that differ from the rest show as "W4/8", and activations as "A8/16".
 */
export function precisionText(recipe: Recipe): string {
  const scoped = [...Object.values(recipe.opWeightBits), ...recipe.weightBitsByScope.map((s) => s.bits)];
  const mixed = scoped.some((b) => b !== recipe.weightBits);
  const w = mixed ? 'W4/8' : `W${recipe.weightBits}`;
  const own = recipe.technique === 'int16x8' ? 16 : 8;
  const a = recipe.activationBitsByScope?.some((s) => s.bits !== own) ? 'A8/16' : `A${own}`;
  switch (recipe.technique) {
    case 'int8':
    case 'int16x8':
      return `${w}${a}`;
    case 'float16':
      return '';
    default: {
      if (recipe.weightBits === 8 && !mixed) return '';
      return `${mixed ? 'int4/int8' : 'int4'}${recipe.blockSize ? ` b${recipe.blockSize}` : ''} weights`;
    }
  }
}

/**
 * What a result is, in one line for tables: technique, precision, rounding, activation ranges and
 * equalization where they apply, e.g. "int8 · W4A8 · gptq · minmax · CLE auto". `chain`: the chain
 * text when the variant ran as one; chains round to nearest and never equalize (chain.ts), whatever
 * the recipe says, so the line says what ran.
 */
export function recipeSummary(recipe: Recipe, chain?: string | null): string {
  if (chain && !TECHNIQUE_AT_END.test(chain)) return chain; // prune / cluster only: the model stays float
  const parts: string[] = [chain ?? recipe.technique];
  const precision = precisionText(recipe);
  if (precision) parts.push(precision);
  if (needsCalibration(recipe) && recipe.weightBits === 4 && !smallLayersStayInt8(recipe)) parts.push('smallest int4 too');
  if (recipe.granularity === 'per-tensor' && recipe.technique !== 'float16') parts.push('per-tensor');
  if (needsCalibration(recipe)) {
    parts.push(chain ? 'nearest' : recipe.rounding, recipe.calibration.algorithm);
    if (!chain) parts.push(`CLE ${recipe.equalize}`);
    if (!chain && recipe.biasAbsorption && recipe.biasAbsorption !== 'auto') parts.push(`absorb ${recipe.biasAbsorption}`);
  }
  if (recipe.io !== 'float') parts.push(`${recipe.io} I/O`);
  return parts.join(' · ');
}

const TECHNIQUE_AT_END = /(^|\+)(float16|weight-int8|dynamic|int8|int16x8)$/;
