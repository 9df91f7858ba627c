/** The recipe of `tflite-opt optimize`: --recipe-file (ours or AEQ's format) or --recipe TECHNIQUE, then the options on top. */
import { fromAeqRecipe, parseRecipe, scopeFromText, TECHNIQUES, type Recipe, type Technique } from '../optimize/recipe';
import type { OptimizeOptions } from './command-options';
import { RECIPE_NAMES } from './option-groups';
import { readInputFile } from './read-input-file';
import { UsageError } from './usage-error';

export type RecipeOptions = Pick<OptimizeOptions, 'recipe' | 'recipeFile' | 'io' | 'perTensor' | 'algo' | 'exclude' | 'integerOnly' | 'equalize' | 'biasAbsorption' | 'rounding' | 'weights' | 'smallLayers' | 'opWeights' | 'opActivations' | 'blockSize'>;

export function recipeFromOptions(options: RecipeOptions): Recipe {
  let base: Record<string, unknown>;
  if (options.recipeFile) {
    const json = JSON.parse(new TextDecoder().decode(readInputFile(options.recipeFile, 'recipe file'))) as unknown;
    if (Array.isArray(json)) {
      const { recipe, notMapped } = fromAeqRecipe(json);
      for (const line of notMapped) process.stderr.write(`note: AEQ recipe: not mapped: ${line}\n`);
      base = { ...recipe };
    } else base = json as Record<string, unknown>;
  } else {
    if (!options.recipe) throw new UsageError(`missing --recipe (${RECIPE_NAMES.join('|')}, or a CHAIN) or --recipe-file`);
    if (!TECHNIQUES.includes(options.recipe as Technique)) throw new UsageError(`unknown recipe "${options.recipe}" (known: ${RECIPE_NAMES.join(', ')})`);
    base = { technique: options.recipe };
  }
  if (options.io) base.io = options.io;
  if (options.perTensor) base.granularity = 'per-tensor';
  if (options.algo) base.calibration = { ...(base.calibration as object), algorithm: options.algo };
  if (options.integerOnly) base.integerOnly = true;
  if (options.equalize) base.equalize = options.equalize;
  if (options.biasAbsorption) base.biasAbsorption = options.biasAbsorption;
  if (options.rounding) base.rounding = options.rounding;
  if (options.weights) {
    if (options.weights !== 'int8' && options.weights !== 'int4') throw new UsageError(`--weights must be int8 or int4, got "${options.weights}"`);
    base.weightBits = options.weights === 'int4' ? 4 : 8;
  }
  if (options.smallLayers) {
    if (options.smallLayers !== 'int8' && options.smallLayers !== 'int4') throw new UsageError(`--small-layers must be int8 or int4, got "${options.smallLayers}"`);
    base.smallInt4Layers = options.smallLayers;
  }
  if (options.opWeights?.length) {
    const scoped = options.opWeights.map((text) => {
      const at = text.lastIndexOf('=');
      const bits = text.slice(at + 1);
      if (at <= 0 || (bits !== 'int4' && bits !== 'int8')) throw new UsageError(`--op-weights takes REGEX|OP_TYPE=int4 or =int8, got "${text}"`);
      return { ...scopeFromText(text.slice(0, at)), bits: bits === 'int4' ? 4 : 8 };
    });
    base.weightBitsByScope = [...((base.weightBitsByScope as unknown[]) ?? []), ...scoped];
  }
  if (options.opActivations?.length) {
    const scoped = options.opActivations.map((text) => {
      const at = text.lastIndexOf('=');
      const bits = text.slice(at + 1);
      if (at <= 0 || (bits !== 'int16' && bits !== 'int8')) throw new UsageError(`--op-activations takes REGEX|OP_TYPE=int16 or =int8, got "${text}"`);
      return { ...scopeFromText(text.slice(0, at)), bits: bits === 'int16' ? 16 : 8 };
    });
    base.activationBitsByScope = [...((base.activationBitsByScope as unknown[]) ?? []), ...scoped];
  }
  if (options.blockSize) {
    const n = Number(options.blockSize);
    if (!Number.isInteger(n)) throw new UsageError(`--block-size must be a number (32, 64, 128 or 256), got "${options.blockSize}"`);
    base.blockSize = n;
  }
  if (options.exclude.length) base.keepFloat = [...((base.keepFloat as unknown[]) ?? []), ...options.exclude];
  return parseRecipe(base);
}
