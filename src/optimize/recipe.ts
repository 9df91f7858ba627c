/**
 * A recipe: what to do to a model, as plain JSON saved with every result so it can be re-run.
 * Import and export in AI Edge Quantizer's (AEQ) recipe format for the schemes both tools share.
 */
import { WorkbenchError } from '../errors';
import type { ModelGraph, Operator } from '../tflite/graph';
import { builtinCodeOf, opName } from '../tflite/ops';
import { elementCount } from '../tflite/shape';
import { BuiltinOperator } from '../tflite/schema/generated/tflite_generated';
import type { OpPrecision } from './quantize/plan-types';
import { ruleFor } from './quantize/rules';
import { ROUNDING_METHODS, type RoundingMethod } from './rounding/problem';

export { ROUNDING_METHODS, type RoundingMethod } from './rounding/problem';

export type Technique = 'float16' | 'weight-int8' | 'dynamic' | 'int8' | 'int16x8';
export const TECHNIQUES: readonly Technique[] = ['float16', 'weight-int8', 'dynamic', 'int8', 'int16x8'];
/**
 * How calibration chooses activation ranges: the histogram algorithms of calibrate/ranges.ts, or
 * 'output-mse' (calibrate/output-ranges.ts), which searches each conv / FC input's clipping on the
 * op's output error over sampled input rows (mse for every other tensor).
 */
export type CalibrationAlgorithm = 'minmax' | 'moving-average' | 'percentile' | 'mse' | 'output-mse';
export const CALIBRATION_ALGORITHMS: readonly CalibrationAlgorithm[] = ['minmax', 'moving-average', 'percentile', 'mse', 'output-mse'];
export type IoType = 'float' | 'int8' | 'uint8';
export type Granularity = 'per-channel' | 'per-tensor';
/** Cross-layer equalization before calibration (int8, int16x8); 'auto' is the measured default (equalizeApplies). */
export type EqualizeMode = 'auto' | 'on' | 'off';
export const EQUALIZE_MODES: readonly EqualizeMode[] = ['auto', 'on', 'off'];
/** High-bias absorption after CLE (absorb.ts); 'auto' is the measured default (absorptionApplies). */
export type AbsorbMode = 'auto' | 'on' | 'off';
export const ABSORB_MODES: readonly AbsorbMode[] = ['auto', 'on', 'off'];
export type WeightBits = 8 | 4;
/**
 * How int8 / int16x8 weights are rounded for their scales (rounding/): 'nearest', or 'gptq' /
 * 'adaround', which minimize each layer's output error on the calibration data. gptq by default:
 * on MobileNetV1 0.25 per-channel int8 (100 calibration images, 400 others) it raised top-1
 * agreement with float from 92.25% to 94.25% and SQNR by 1 dB for ~4 s of rounding, where
 * adaround reached 93.00% in ~140 s (npm run bench:rounding, figures in bench/README.md).
 */
export const DEFAULT_ROUNDING: RoundingMethod = 'gptq';
/** Block sizes for blockwise int4 (AEQ's BLOCKWISE_32 ... BLOCKWISE_256); 0 = not blockwise. */
export const BLOCK_SIZES: readonly number[] = [32, 64, 128, 256];
/** Techniques whose weights may be int4: weight-only, dynamic, W4A8 (int8) and W4A16 (int16x8). */
const INT4_TECHNIQUES: readonly Technique[] = ['weight-int8', 'dynamic', 'int8', 'int16x8'];
/** Techniques that take blockwise int4 (full-integer kernels read per-channel int4 only). */
const BLOCKWISE_TECHNIQUES: readonly Technique[] = ['weight-int8', 'dynamic'];

/** Ops matched by type ("CONV_2D") or by a regex over their output tensor names. */
export interface Scope {
  opTypes?: string[];
  tensorNamePattern?: string;
}

/** Weight bits for the ops a scope matches (op by op, e.g. from a search); over opWeightBits. */
export type ScopedWeightBits = Scope & { bits: WeightBits };

/** Activation bits of an integer op: 8 (int8) or 16 (16x8: int16 activations, int8 weights, int64 bias). */
export type ActivationWidth = 8 | 16;
/** Activation bits for the ops a scope matches, inside a model of the technique's width. */
export type ScopedActivationBits = Scope & { bits: ActivationWidth };
/** Weight granularity for the ops a scope matches (int8 / int16x8 weights), over the recipe's. */
export type ScopedGranularity = Scope & { granularity: Granularity };

export interface Recipe {
  technique: Technique;
  granularity: Granularity;
  calibration: { algorithm: CalibrationAlgorithm; percentile: number; samples: number };
  io: IoType;
  /** Fail instead of leaving ops in float (Edge TPU, microcontrollers). */
  integerOnly: boolean;
  /** Ops left in float. */
  keepFloat: Scope[];
  /** Weight tensors smaller than this stay float (dynamic and weight-only). */
  minWeightElements: number;
  /** Cross-layer equalization of the float model before calibration (int8, int16x8). */
  equalize: EqualizeMode;
  /** High-bias absorption after equalization (absent: 'auto'); nothing without equalization. */
  biasAbsorption?: AbsorbMode;
  /** Bits per weight (8 or 4): weight-only, dynamic, and int8 / int16x8 (W4A8 / W4A16). */
  weightBits: WeightBits;
  /** Blockwise int4 block size along the input dimension; 0 = per channel. Needs weightBits 4. */
  blockSize: number;
  /** Bits by op type ("DEPTHWISE_CONV_2D": 4), over weightBits; depthwise stays 8 unless named. */
  opWeightBits: Record<string, WeightBits>;
  /**
   * Bits by scope (op type or output tensor-name regex), over opWeightBits; the last matching entry
   * wins. Applied by int8 / int16x8, which plan weights op by op (weight-only and dynamic: by op type).
   */
  weightBitsByScope: ScopedWeightBits[];
  /** Weight rounding of int8 / int16x8 (DEFAULT_ROUNDING says which is the default and why). */
  rounding: RoundingMethod;
  /**
   * int8 / int16x8: activation bits by scope, over the technique's (the last matching entry wins), e.g.
   * [{opTypes: ['SOFTMAX'], bits: 16}] runs the softmax 16x8 inside an int8 model, with QUANTIZE int8
   * <-> int16 at its borders; ops that only move data follow the width of the ops they share a scale
   * with. keepFloat wins over it. Absent: every op at the technique's width.
   */
  activationBitsByScope?: ScopedActivationBits[];
  /**
   * int8 / int16x8: how the ops left in float store their float32 constants. 'float16' stores them
   * as FLOAT16 behind DEQUANTIZE (what the float16 technique does to a whole model), about half their
   * bytes, compute still float32. Absent: float32.
   */
  floatWeights?: 'float16';
  /**
   * int8 / int16x8: int8 weight granularity by scope, over `granularity` (the last matching entry
   * wins). Per-channel scales cost 16 bytes a channel in the file (a float scale and an int64 zero
   * point for the weights and for the bias, the zero points shared); a 1001-way classifier's are 16 KB,
   * 3% of MobileNetV1 0.25 int8, which the precision search can take back where they buy nothing.
   * int4 weights stay per channel. Absent: `granularity` for every op.
   */
  granularityByScope?: ScopedGranularity[];
  /**
   * int8 / int16x8 with weightBits 4: whether the smallest ops it makes int4 stay int8 (absent:
   * 'int8'; see SMALL_INT4_SHARE). Ops a scope or an op type asks int4 of are int4 either way.
   */
  smallInt4Layers?: SmallInt4Layers;
}

export type SmallInt4Layers = 'int8' | 'int4';
export const SMALL_INT4_LAYERS: readonly SmallInt4Layers[] = ['int8', 'int4'];

/**
 * With int4 weights by the recipe's weightBits, the smallest such ops, together holding at most this
 * share of their weights, keep int8 weights: int4 would save them at most 1% of those weights'
 * bytes, and the small layers (a first convolution on 3 channels, the narrow early pointwise ones)
 * lose the most to 4 bits. MobileNetV1 0.25 W4A8, 5 folds of the 500 images (100 calibrate, 100 held
 * out each; bench/README.md), top-1 / agreement with float / SQNR:
 * - every layer int4: 55.20% / 70.80% / 7.89 dB, 309,104 bytes;
 * - 1% (5 ops, 3,928 of 472,696 weights; 1,964 bytes more): 56.60% / 75.60% / 9.29 dB;
 * - 2% (6 ops, 8,024 weights; 4,012 bytes more; the default): 57.80% / 77.40% / 10.06 dB;
 * - 4% (7 ops, 16,216 weights; 8,108 bytes more): 57.80% / 78.00% / 10.45 dB.
 * QAT from the 2% start gains 1.00 pt on the same folds (57.80% -> 58.80%; from the 1% start 1.20 pt)
 * and -0.80 pt on folds of the same images taken i % 5 (56.80% -> 56.00%).
 */
export const SMALL_INT4_SHARE = 0.02;

export function defaultRecipe(technique: Technique): Recipe {
  return {
    technique,
    granularity: 'per-channel',
    calibration: { algorithm: 'minmax', percentile: 99.99, samples: 100 },
    io: 'float',
    integerOnly: false,
    keepFloat: [],
    minWeightElements: technique === 'dynamic' ? 1024 : 0,
    equalize: 'auto',
    weightBits: 8,
    blockSize: 0,
    opWeightBits: {},
    weightBitsByScope: [],
    rounding: DEFAULT_ROUNDING,
  };
}

/**
 * Whether the pipeline equalizes: every int8 / int16x8 recipe unless 'off'. 'auto' is on because
 * npm run bench:equalize found it raising per-channel int8 SQNR wherever it found pairs, without
 * costing top-1 (figures in bench/README.md). 'auto' equalizes the pairs it keeps exact (no RELU6
 * between) and, per-tensor, also through RELU6 in the channels that stay well under the clip on calibration
 * (npm run bench:pertensor); 'on' tries RELU in place of RELU6 where the float outputs stay within
 * 30 dB, else does what 'auto' does (pipeline.ts equalizeStrategyOf).
 */
export function equalizeApplies(recipe: Recipe): boolean {
  return needsCalibration(recipe) && recipe.equalize !== 'off';
}

/**
 * Whether the pipeline absorbs high biases after equalizing (absorb.ts): 'on' / 'off' as said;
 * 'auto' is off, measured: where it stays exact it found 1 of 2736 channels to move on MobileNetV1
 * 0.25 and 29 of 15552 on MobileNetV2 (the rest feed a padded 3x3 depthwise convolution, reach their
 * RELU6 clip or touch 0), and int8 did not gain (per-tensor top-1 V1 61.25% -> 61.00%, V2 77.25% ->
 * 77.25%; per-channel output SQNR V1 18.95 -> 18.72 dB, V2 26.62 -> 26.79 dB; npm run
 * bench:pertensor, bench/README.md), while costing a tapped float pass per-channel.
 */
export function absorptionApplies(recipe: Recipe): boolean {
  if (!equalizeApplies(recipe)) return false;
  const mode = recipe.biasAbsorption ?? 'auto';
  if (mode !== 'auto') return mode === 'on';
  return false;
}

/** Whether any op's weights are asked to be int4 (weightBits, by op type or by scope). */
export function asksInt4(recipe: Recipe): boolean {
  return recipe.weightBits === 4 || Object.values(recipe.opWeightBits).includes(4) || recipe.weightBitsByScope.some((e) => e.bits === 4);
}

export function needsCalibration(recipe: Recipe): boolean {
  return recipe.technique === 'int8' || recipe.technique === 'int16x8';
}

const fail = (message: string): never => {
  throw new WorkbenchError('bad-input', `Invalid recipe: ${message}.`);
};

/** Checks a recipe (e.g. parsed from JSON) and fills in defaults; names what is wrong. */
export function parseRecipe(json: unknown): Recipe {
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('expected a JSON object');
  const input = json as Record<string, unknown>;
  const technique = input.technique as Technique;
  if (!TECHNIQUES.includes(technique)) fail(`unknown technique ${JSON.stringify(input.technique)} (known: ${TECHNIQUES.join(', ')})`);
  const recipe = defaultRecipe(technique);
  const known = new Set(['technique', 'granularity', 'calibration', 'io', 'integerOnly', 'keepFloat', 'minWeightElements', 'equalize', 'biasAbsorption', 'weightBits', 'blockSize', 'opWeightBits', 'weightBitsByScope', 'activationBitsByScope', 'rounding', 'floatWeights', 'granularityByScope', 'smallInt4Layers']);
  for (const key of Object.keys(input)) if (!known.has(key)) fail(`unknown field "${key}"`);
  if (input.granularity !== undefined) {
    if (input.granularity !== 'per-channel' && input.granularity !== 'per-tensor') fail(`granularity must be per-channel or per-tensor`);
    recipe.granularity = input.granularity as Granularity;
  }
  if (input.io !== undefined) {
    if (!['float', 'int8', 'uint8'].includes(input.io as string)) fail(`io must be float, int8 or uint8, got ${JSON.stringify(input.io)}`);
    recipe.io = input.io as IoType;
  }
  if (input.integerOnly !== undefined) recipe.integerOnly = input.integerOnly === true;
  if (input.equalize !== undefined) {
    if (!EQUALIZE_MODES.includes(input.equalize as EqualizeMode)) fail(`equalize must be ${EQUALIZE_MODES.join(', ')}, got ${JSON.stringify(input.equalize)}`);
    recipe.equalize = input.equalize as EqualizeMode;
  }
  if (input.biasAbsorption !== undefined) {
    if (!ABSORB_MODES.includes(input.biasAbsorption as AbsorbMode)) fail(`biasAbsorption must be ${ABSORB_MODES.join(', ')}, got ${JSON.stringify(input.biasAbsorption)}`);
    recipe.biasAbsorption = input.biasAbsorption as AbsorbMode;
  }
  if (input.rounding !== undefined) {
    if (!ROUNDING_METHODS.includes(input.rounding as RoundingMethod)) fail(`rounding must be ${ROUNDING_METHODS.join(', ')}, got ${JSON.stringify(input.rounding)}`);
    recipe.rounding = input.rounding as RoundingMethod;
  }
  if (input.smallInt4Layers !== undefined) {
    if (!SMALL_INT4_LAYERS.includes(input.smallInt4Layers as SmallInt4Layers)) fail(`smallInt4Layers must be ${SMALL_INT4_LAYERS.join(' or ')}, got ${JSON.stringify(input.smallInt4Layers)}`);
    recipe.smallInt4Layers = input.smallInt4Layers as SmallInt4Layers;
  }
  if (input.minWeightElements !== undefined) {
    const n = Number(input.minWeightElements);
    if (!Number.isInteger(n) || n < 0) fail('minWeightElements must be a non-negative integer');
    recipe.minWeightElements = n;
  }
  if (input.calibration !== undefined) {
    const c = input.calibration as Record<string, unknown>;
    if (c.algorithm !== undefined) {
      if (!CALIBRATION_ALGORITHMS.includes(c.algorithm as CalibrationAlgorithm)) {
        fail(`unknown calibration algorithm ${JSON.stringify(c.algorithm)} (known: ${CALIBRATION_ALGORITHMS.join(', ')})`);
      }
      recipe.calibration.algorithm = c.algorithm as CalibrationAlgorithm;
    }
    if (c.percentile !== undefined) {
      const p = Number(c.percentile);
      if (!(p > 50 && p <= 100)) fail('calibration.percentile must be in (50, 100]');
      recipe.calibration.percentile = p;
    }
    if (c.samples !== undefined) {
      const n = Number(c.samples);
      if (!Number.isInteger(n) || n < 1) fail('calibration.samples must be a positive integer');
      recipe.calibration.samples = n;
    }
  }
  if (input.keepFloat !== undefined) {
    if (!Array.isArray(input.keepFloat)) fail('keepFloat must be a list of scopes');
    recipe.keepFloat = (input.keepFloat as unknown[]).map(parseScope);
  }
  if (input.weightBits !== undefined) recipe.weightBits = parseWeightBits(input.weightBits, 'weightBits');
  if (input.blockSize !== undefined) {
    const n = Number(input.blockSize);
    if (n !== 0 && !BLOCK_SIZES.includes(n)) fail(`blockSize must be 0 or one of ${BLOCK_SIZES.join(', ')}, got ${JSON.stringify(input.blockSize)}`);
    recipe.blockSize = n;
  }
  if (input.opWeightBits !== undefined) {
    if (!input.opWeightBits || typeof input.opWeightBits !== 'object' || Array.isArray(input.opWeightBits)) fail('opWeightBits must map op types to 8 or 4');
    for (const [op, bits] of Object.entries(input.opWeightBits as Record<string, unknown>)) {
      checkOpName(op);
      recipe.opWeightBits[op] = parseWeightBits(bits, `opWeightBits.${op}`);
    }
  }
  if (input.weightBitsByScope !== undefined) {
    recipe.weightBitsByScope = scopedList(input.weightBitsByScope, 'weightBitsByScope', 'bits', (bits, where) => parseWeightBits(bits, where)).map(([scope, bits]) => ({ ...scope, bits }));
  }
  if (input.activationBitsByScope !== undefined) {
    const scoped = scopedList(input.activationBitsByScope, 'activationBitsByScope', 'bits', (bits, where) => {
      if (bits !== 8 && bits !== 16) fail(`${where} must be 8 or 16, got ${JSON.stringify(bits)}`);
      return bits as ActivationWidth;
    });
    if (scoped.length && !needsCalibration(recipe)) fail(`activationBitsByScope needs technique int8 or int16x8, not ${recipe.technique}`);
    if (scoped.length) recipe.activationBitsByScope = scoped.map(([scope, bits]) => ({ ...scope, bits }));
  }
  if (input.granularityByScope !== undefined) {
    const scoped = scopedList(input.granularityByScope, 'granularityByScope', 'granularity', (granularity, where) => {
      if (granularity !== 'per-channel' && granularity !== 'per-tensor') fail(`${where} must be per-channel or per-tensor, got ${JSON.stringify(granularity)}`);
      return granularity as Granularity;
    });
    if (scoped.length && !needsCalibration(recipe)) fail(`granularityByScope needs technique int8 or int16x8, not ${recipe.technique}`);
    if (scoped.length) recipe.granularityByScope = scoped.map(([scope, granularity]) => ({ ...scope, granularity }));
  }
  if (input.floatWeights !== undefined) {
    if (input.floatWeights !== 'float16') fail(`floatWeights must be "float16" (or absent: float32), got ${JSON.stringify(input.floatWeights)}`);
    if (!needsCalibration(recipe)) fail(`floatWeights needs technique int8 or int16x8 (the ops they leave in float), not ${recipe.technique}`);
    recipe.floatWeights = 'float16';
  }
  if (asksInt4(recipe) && !INT4_TECHNIQUES.includes(recipe.technique)) fail(`int4 weights need technique ${INT4_TECHNIQUES.join(', ')}, not ${recipe.technique}`);
  if (Object.keys(recipe.opWeightBits).length && !INT4_TECHNIQUES.includes(recipe.technique)) fail(`opWeightBits needs technique ${INT4_TECHNIQUES.join(', ')}`);
  if (recipe.weightBitsByScope.length && !needsCalibration(recipe)) {
    fail('weightBitsByScope needs technique int8 or int16x8 (weight-only and dynamic set bits by op type: opWeightBits)');
  }
  if (recipe.blockSize && recipe.weightBits !== 4) fail('blockSize needs weightBits 4 (blockwise weights are int4)');
  if (recipe.blockSize && !BLOCKWISE_TECHNIQUES.includes(recipe.technique)) {
    fail(`blockSize needs technique ${BLOCKWISE_TECHNIQUES.join(' or ')}: ${recipe.technique} stores int4 weights per channel, the form its integer kernels read`);
  }
  if (recipe.integerOnly && !['int8', 'int16x8'].includes(recipe.technique)) fail(`integerOnly needs technique int8 or int16x8, not ${recipe.technique}`);
  if (recipe.io !== 'float' && !['int8', 'int16x8'].includes(recipe.technique)) fail(`io ${recipe.io} needs technique int8 or int16x8`);
  if (recipe.io === 'uint8' && recipe.technique === 'int16x8') fail('io uint8 is for int8 models; 16x8 models take float or int16 I/O');
  return recipe;
}

function parseWeightBits(value: unknown, field: string): WeightBits {
  if (value !== 8 && value !== 4) fail(`${field} must be 8 or 4, got ${JSON.stringify(value)}`);
  return value as WeightBits;
}

/**
 * A recipe list of {opTypes or tensorNamePattern, <field>} entries: each entry's scope and its value
 * (`parse` checks the value; `where` names it in messages, e.g. "weightBitsByScope[2].bits").
 */
function scopedList<T>(value: unknown, name: string, field: string, parse: (value: unknown, where: string) => T): [Scope, T][] {
  if (!Array.isArray(value)) fail(`${name} must be a list of {opTypes or tensorNamePattern, ${field}}`);
  return (value as unknown[]).map((entry, i) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) fail(`${name}[${i}] must be an object {opTypes or tensorNamePattern, ${field}}`);
    const { [field]: own, ...scope } = entry as Record<string, unknown>;
    const unknown = Object.keys(scope).filter((k) => k !== 'opTypes' && k !== 'tensorNamePattern');
    if (unknown.length) fail(`${name}[${i}] has unknown field "${unknown[0]}"`);
    return [parseScope(scope), parse(own, `${name}[${i}].${field}`)];
  });
}

export function parseScope(value: unknown): Scope {
  if (typeof value === 'string') return scopeFromText(value);
  if (!value || typeof value !== 'object') fail('a keepFloat scope must be an object or a string');
  const scope = value as Scope;
  if (scope.opTypes !== undefined) {
    if (!Array.isArray(scope.opTypes)) fail('opTypes must be a list of op names');
    for (const name of scope.opTypes) checkOpName(name);
  }
  if (scope.tensorNamePattern !== undefined) checkRegex(scope.tensorNamePattern);
  if (!scope.opTypes?.length && scope.tensorNamePattern === undefined) fail('a keepFloat scope needs opTypes or tensorNamePattern');
  return scope;
}

/**
 * "CONV_2D" (an op type) or any other text (a regex over output tensor names). A word in capitals
 * and underscores is read as an op type, so a typo such as "CONV2D" is an error, not a pattern that
 * silently matches nothing; to match such a tensor name, anchor it ("^NAME$").
 */
export function scopeFromText(text: string): Scope {
  if (/^[A-Z][A-Z0-9_]*$/.test(text)) {
    if (!isBuiltinName(text)) fail(`unknown op type "${text}" (to match a tensor name instead, write a regex such as "^${text}$")`);
    return { opTypes: [text] };
  }
  checkRegex(text);
  return { tensorNamePattern: text };
}

function isBuiltinName(name: string): boolean {
  return (BuiltinOperator as unknown as Record<string, number>)[name] !== undefined;
}

function checkOpName(name: string): void {
  if (!isBuiltinName(name)) fail(`unknown op type "${name}"`);
}

function checkRegex(pattern: string): void {
  try {
    new RegExp(pattern);
  } catch {
    fail(`"${pattern}" is not a valid regular expression`);
  }
}

/** Does a scope cover this op? By op type, or when any output tensor name matches the pattern. */
export function scopeMatches(scope: Scope, graph: ModelGraph, subgraph: number, op: Operator): boolean {
  if (scope.opTypes?.includes(opName(graph, op))) return true;
  if (scope.tensorNamePattern !== undefined) {
    const pattern = new RegExp(scope.tensorNamePattern);
    return op.outputs.some((t) => t >= 0 && pattern.test(graph.subgraphs[subgraph].tensors[t].name));
  }
  return false;
}

export function keepsFloat(recipe: Recipe, graph: ModelGraph, subgraph: number, op: Operator): boolean {
  return recipe.keepFloat.some((scope) => scopeMatches(scope, graph, subgraph, op));
}

/**
 * The weight bits the recipe asks of one op: the last weightBitsByScope entry that matches it, else
 * its op type's opWeightBits, else 8 for depthwise convolutions (their 9-tap channels lose most to 4
 * bits), else weightBits. The quantizer may still keep 8 where LiteRT.js has no int4 kernel (it says so).
 */
export function weightBitsOfOp(recipe: Recipe, graph: ModelGraph, subgraph: number, op: Operator): WeightBits {
  const named = namedWeightBits(recipe, graph, subgraph, op);
  if (named) return named;
  if (smallInt4Ops(recipe, graph, subgraph).has(op)) return 8;
  return recipe.weightBits;
}

/** The bits a scope, the op type or the depthwise rule sets for this op, or null when weightBits decides. */
function namedWeightBits(recipe: Recipe, graph: ModelGraph, subgraph: number, op: Operator): WeightBits | null {
  for (let i = recipe.weightBitsByScope.length - 1; i >= 0; i--) {
    if (scopeMatches(recipe.weightBitsByScope[i], graph, subgraph, op)) return recipe.weightBitsByScope[i].bits;
  }
  const name = opName(graph, op);
  return recipe.opWeightBits[name] ?? (name === 'DEPTHWISE_CONV_2D' ? 8 : null);
}

/** Whether the recipe's int4 keeps its smallest layers int8 (SMALL_INT4_SHARE): int8 / int16x8 with weightBits 4, unless smallInt4Layers is 'int4'. */
export function smallLayersStayInt8(recipe: Recipe): boolean {
  return needsCalibration(recipe) && recipe.weightBits === 4 && recipe.smallInt4Layers !== 'int4';
}

/** The ops weightBits alone makes int4 (no scope or op-type entry names them), with their weight counts. */
function defaultInt4Ops(recipe: Recipe, graph: ModelGraph, subgraph: number): { op: Operator; weights: number }[] {
  const { tensors, operators } = graph.subgraphs[subgraph];
  const found: { op: Operator; weights: number }[] = [];
  for (const op of operators) {
    const rule = ruleFor(builtinCodeOf(graph.operatorCodes[op.opcodeIndex]));
    if (!rule?.weights || !rule.int4 || namedWeightBits(recipe, graph, subgraph, op) !== null) continue;
    const w = op.inputs[rule.weights.input];
    if (w === undefined || w < 0) continue;
    found.push({ op, weights: elementCount(tensors[w].shape) });
  }
  return found;
}

const smallOpsMemo = new WeakMap<ModelGraph, WeakMap<Recipe, Map<number, Map<Operator, number>>>>();

/**
 * The smallest of the ops weightBits makes int4, taken smallest first while together they hold at most
 * SMALL_INT4_SHARE of those ops' weights: they stay int8 (none unless smallLayersStayInt8). Each with
 * its weight count.
 */
export function smallInt4Ops(recipe: Recipe, graph: ModelGraph, subgraph: number): Map<Operator, number> {
  if (!smallLayersStayInt8(recipe)) return new Map();
  const byRecipe = smallOpsMemo.get(graph) ?? new WeakMap<Recipe, Map<number, Map<Operator, number>>>();
  smallOpsMemo.set(graph, byRecipe);
  const bySubgraph = byRecipe.get(recipe) ?? new Map<number, Map<Operator, number>>();
  byRecipe.set(recipe, bySubgraph);
  let small = bySubgraph.get(subgraph);
  if (!small) {
    const ops = defaultInt4Ops(recipe, graph, subgraph).sort((a, b) => a.weights - b.weights);
    const allowed = SMALL_INT4_SHARE * ops.reduce((sum, o) => sum + o.weights, 0);
    small = new Map();
    let taken = 0;
    for (const o of ops) {
      if (taken + o.weights > allowed) break;
      taken += o.weights;
      small.set(o.op, o.weights);
    }
    bySubgraph.set(subgraph, small);
  }
  return small;
}

/** The int8 weight granularity the recipe asks of one op: the last granularityByScope entry that matches it, else the recipe's. */
export function granularityOfOp(recipe: Recipe, graph: ModelGraph, subgraph: number, op: Operator): Granularity {
  const scoped = recipe.granularityByScope ?? [];
  for (let i = scoped.length - 1; i >= 0; i--) {
    if (scopeMatches(scoped[i], graph, subgraph, op)) return scoped[i].granularity;
  }
  return recipe.granularity;
}

/**
 * How the recipe asks one op to run: 'float' when keepFloat covers it, else the bits of the last
 * activationBitsByScope entry that matches it, else the technique's width. The quantizer may still
 * keep an op float (no kernel at that width) or move an op that only moves data to its scale group's width.
 */
export function opPrecisionOf(recipe: Recipe, graph: ModelGraph, subgraph: number, op: Operator): OpPrecision {
  if (keepsFloat(recipe, graph, subgraph, op)) return 'float';
  const scoped = recipe.activationBitsByScope ?? [];
  for (let i = scoped.length - 1; i >= 0; i--) {
    if (scopeMatches(scoped[i], graph, subgraph, op)) return scoped[i].bits === 16 ? 'int16x8' : 'int8';
  }
  return recipe.technique === 'int16x8' ? 'int16x8' : 'int8';
}

/** A one-line name for file names and tables, e.g. "int8-uint8io" or "dynamic". */
export function recipeLabel(recipe: Recipe): string {
  const parts: string[] = [recipe.technique];
  if (recipe.granularity === 'per-tensor' && recipe.technique !== 'float16') parts.push('per-tensor');
  if (recipe.io !== 'float') parts.push(`${recipe.io}io`);
  if (recipe.weightBits === 4) parts.push('int4');
  if (recipe.blockSize) parts.push(`b${recipe.blockSize}`);
  const opBits = Object.entries(recipe.opWeightBits);
  if (opBits.length) parts.push(opBits.map(([op, bits]) => `${op.toLowerCase()}${bits}`).join('-'));
  if (recipe.weightBitsByScope.length) parts.push(`${recipe.weightBitsByScope.length}bitscope`);
  if (recipe.activationBitsByScope?.length) parts.push(`${recipe.activationBitsByScope.length}actscope`);
  if (recipe.granularityByScope?.length) parts.push(`${recipe.granularityByScope.length}granscope`);
  if (needsCalibration(recipe) && recipe.calibration.algorithm !== 'minmax') parts.push(recipe.calibration.algorithm);
  if (recipe.keepFloat.length) parts.push(`${recipe.keepFloat.length}float`);
  if (recipe.floatWeights === 'float16' && needsCalibration(recipe)) parts.push('f16float');
  if (needsCalibration(recipe) && recipe.equalize !== 'auto') parts.push(`cle-${recipe.equalize}`);
  if (needsCalibration(recipe) && (recipe.biasAbsorption ?? 'auto') !== 'auto') parts.push(`absorb-${recipe.biasAbsorption}`);
  if (needsCalibration(recipe) && recipe.rounding !== DEFAULT_ROUNDING) parts.push(`round-${recipe.rounding}`);
  if (needsCalibration(recipe) && recipe.weightBits === 4 && !smallLayersStayInt8(recipe)) parts.push('allint4');
  return parts.join('-');
}

// ---------------------------------------------------------------------------------------------
// AI Edge Quantizer recipes: a list of {regex, operation, algorithm_key, op_config}; later entries
// override earlier ones for the ops they match.

interface AeqTensorConfig {
  num_bits: number;
  symmetric?: boolean;
  granularity?: 'TENSORWISE' | 'CHANNELWISE' | 'BLOCKWISE_32' | 'BLOCKWISE_64' | 'BLOCKWISE_128' | 'BLOCKWISE_256';
  channel_wise?: boolean;
  dtype?: 'INT' | 'FLOAT';
  block_size?: number;
}

export interface AeqEntry {
  regex: string;
  operation: string;
  algorithm_key: string;
  op_config?: {
    activation_tensor_config?: AeqTensorConfig;
    weight_tensor_config?: AeqTensorConfig;
    compute_precision?: 'INTEGER' | 'FLOAT';
    explicit_dequantize?: boolean;
    skip_checks?: boolean;
    min_weight_elements?: number;
  };
}

export interface AeqExport {
  entries: AeqEntry[];
  /** What of our recipe AEQ's format cannot carry. */
  notMapped: string[];
}

export function toAeqRecipe(recipe: Recipe): AeqExport {
  const notMapped: string[] = [];
  const granularity = recipe.granularity === 'per-channel' ? 'CHANNELWISE' : 'TENSORWISE';
  const weights8: AeqTensorConfig = { num_bits: 8, symmetric: true, granularity, dtype: 'INT', block_size: 0 };
  const weightsOf = (bits: WeightBits): AeqTensorConfig =>
    bits === 4 && recipe.blockSize
      ? { num_bits: 4, symmetric: true, granularity: `BLOCKWISE_${recipe.blockSize}` as AeqTensorConfig['granularity'], dtype: 'INT', block_size: recipe.blockSize }
      : { ...weights8, num_bits: bits };
  let main: AeqEntry;
  switch (recipe.technique) {
    case 'float16':
      main = {
        regex: '.*',
        operation: '*',
        algorithm_key: 'float_casting',
        op_config: { weight_tensor_config: { num_bits: 16, dtype: 'FLOAT' }, compute_precision: 'FLOAT', explicit_dequantize: true, skip_checks: false },
      };
      break;
    case 'weight-int8':
      main = {
        regex: '.*',
        operation: '*',
        algorithm_key: 'min_max_uniform_quantize',
        op_config: { weight_tensor_config: weightsOf(recipe.weightBits), compute_precision: 'FLOAT', explicit_dequantize: true, skip_checks: false, min_weight_elements: recipe.minWeightElements },
      };
      break;
    case 'dynamic':
      main = {
        regex: '.*',
        operation: '*',
        algorithm_key: 'min_max_uniform_quantize',
        op_config: { weight_tensor_config: weightsOf(recipe.weightBits), compute_precision: 'INTEGER', explicit_dequantize: false, skip_checks: false, min_weight_elements: recipe.minWeightElements },
      };
      break;
    case 'int8':
    case 'int16x8': {
      const bits = recipe.technique === 'int8' ? 8 : 16;
      main = {
        regex: '.*',
        operation: '*',
        algorithm_key: 'min_max_uniform_quantize',
        op_config: {
          activation_tensor_config: aeqActivations(bits),
          weight_tensor_config: weightsOf(recipe.weightBits),
          compute_precision: 'INTEGER',
          explicit_dequantize: false,
          skip_checks: false,
        },
      };
      if (recipe.calibration.algorithm !== 'minmax') {
        notMapped.push(`calibration algorithm "${recipe.calibration.algorithm}" (AEQ calibrates with min/max)`);
      }
      if (recipe.io !== 'float') notMapped.push(`${recipe.io} model I/O (AEQ keeps the model's I/O types)`);
      if (recipe.integerOnly) notMapped.push('integerOnly (AEQ has no such check)');
      if (equalizeApplies(recipe)) notMapped.push('cross-layer equalization (AEQ has none; its run would quantize the model unequalized)');
      if (absorptionApplies(recipe)) notMapped.push('high-bias absorption (AEQ has none)');
      if (recipe.rounding !== 'nearest') notMapped.push(`${recipe.rounding} weight rounding (AEQ's min_max_uniform_quantize rounds to nearest)`);
      break;
    }
  }
  const entries = [main];
  // Per-op bit widths: one entry per op type, the main scheme with other num_bits. With int4 weights
  // depthwise convolutions stay int8 unless named, which AEQ must be told.
  const opBits = { ...recipe.opWeightBits };
  if (recipe.weightBits === 4 && opBits.DEPTHWISE_CONV_2D === undefined) opBits.DEPTHWISE_CONV_2D = 8;
  for (const [operation, bits] of Object.entries(opBits)) {
    entries.push({ ...main, regex: '.*', operation, op_config: { ...main.op_config, weight_tensor_config: weightsOf(bits) } });
  }
  // Scoped bits after them: later AEQ entries override earlier ones, as the last matching scope wins here.
  for (const scope of recipe.weightBitsByScope) {
    const config = { ...main.op_config, weight_tensor_config: weightsOf(scope.bits) };
    for (const operation of scope.opTypes ?? []) entries.push({ ...main, regex: '.*', operation, op_config: config });
    if (scope.tensorNamePattern !== undefined) entries.push({ ...main, regex: scope.tensorNamePattern, operation: '*', op_config: config });
  }
  // Activation widths by scope after the weight entries (the later entry wins in AEQ as here); each
  // carries the main weight config, so an op also in a weight-bits scope gets the technique's weight bits.
  const actScopes = recipe.activationBitsByScope ?? [];
  for (const scope of actScopes) {
    const config = { ...main.op_config, activation_tensor_config: aeqActivations(scope.bits) };
    for (const operation of scope.opTypes ?? []) entries.push({ ...main, regex: '.*', operation, op_config: config });
    if (scope.tensorNamePattern !== undefined) entries.push({ ...main, regex: scope.tensorNamePattern, operation: '*', op_config: config });
  }
  if (actScopes.length && (recipe.weightBitsByScope.length || Object.keys(opBits).length)) {
    notMapped.push('per-op weight bits of ops that also have their own activation bits (AEQ takes the later entry: the activation scope, with the technique\'s weight bits)');
  }
  // Weight granularity by scope: the main scheme with that granularity (int8 weights; int4 stays per channel here).
  for (const scope of recipe.granularityByScope ?? []) {
    const config = { ...main.op_config, weight_tensor_config: { ...weights8, granularity: scope.granularity === 'per-channel' ? ('CHANNELWISE' as const) : ('TENSORWISE' as const) } };
    for (const operation of scope.opTypes ?? []) entries.push({ ...main, regex: '.*', operation, op_config: config });
    if (scope.tensorNamePattern !== undefined) entries.push({ ...main, regex: scope.tensorNamePattern, operation: '*', op_config: config });
  }
  if (recipe.granularityByScope?.length && (recipe.weightBitsByScope.length || actScopes.length)) {
    notMapped.push('per-op granularity of ops that also have their own bits (AEQ takes the later entry, the granularity one, with the technique\'s bits)');
  }
  // Ops kept in float with float16 weights: AEQ's float casting on those ops, as its float16 recipe does to all.
  const keptFloat: Omit<AeqEntry, 'regex' | 'operation'> =
    recipe.floatWeights === 'float16'
      ? { algorithm_key: 'float_casting', op_config: { weight_tensor_config: { num_bits: 16, dtype: 'FLOAT' }, compute_precision: 'FLOAT', explicit_dequantize: true, skip_checks: false } }
      : { algorithm_key: 'no_quantize' };
  for (const scope of recipe.keepFloat) {
    for (const op of scope.opTypes ?? []) entries.push({ regex: '.*', operation: op, ...keptFloat });
    if (scope.tensorNamePattern !== undefined) entries.push({ regex: scope.tensorNamePattern, operation: '*', ...keptFloat });
  }
  if (recipe.floatWeights === 'float16' && !recipe.keepFloat.length) notMapped.push('float16 weights for the ops left in float without a kernel (AEQ leaves those to its own checks)');
  if (smallLayersStayInt8(recipe)) {
    notMapped.push(`the smallest int4 layers kept int8 (at most ${100 * SMALL_INT4_SHARE}% of the int4 weights; AEQ makes them int4: name them in a scope with 8 bits to keep them so there)`);
  }
  return { entries, notMapped };
}

/** AEQ's activation config: int8 asymmetric, int16 symmetric (zero point 0), per tensor. */
function aeqActivations(bits: ActivationWidth): AeqTensorConfig {
  return { num_bits: bits, symmetric: bits === 16, granularity: 'TENSORWISE', dtype: 'INT', block_size: 0 };
}

export function fromAeqRecipe(json: unknown): { recipe: Recipe; notMapped: string[] } {
  if (!Array.isArray(json) || json.length === 0) fail('an AEQ recipe is a non-empty JSON list of entries');
  const entries = json as AeqEntry[];
  const notMapped: string[] = [];
  const main = entries[0];
  if (main.regex !== '.*' || main.operation !== '*') notMapped.push(`the first entry applies to regex ${main.regex} / operation ${main.operation}; it is taken as the whole-model scheme`);
  const technique = aeqTechnique(main);
  const recipe = defaultRecipe(technique);
  const weights = main.op_config?.weight_tensor_config;
  if (weights) {
    const blockSize = aeqBlockSize(weights);
    const channelwise = blockSize > 0 || (weights.granularity ? weights.granularity === 'CHANNELWISE' : weights.channel_wise !== false);
    recipe.granularity = channelwise ? 'per-channel' : 'per-tensor';
    if (technique !== 'float16') recipe.weightBits = weights.num_bits as WeightBits;
    // AEQ's int4 applies to every matching op, the smallest ones too.
    if (recipe.weightBits === 4 && needsCalibration(recipe)) recipe.smallInt4Layers = 'int4';
    if (technique === 'weight-int8' || technique === 'dynamic') {
      recipe.blockSize = blockSize;
      if (blockSize && weights.num_bits !== 4) fail(`blockwise weights are int4 here, got num_bits ${weights.num_bits}`);
    } else if (blockSize) {
      notMapped.push(`blockwise ${blockSize} weights with integer activations (stored per channel: LiteRT's integer kernels read per-channel int4)`);
    }
    if (weights.symmetric === false && technique !== 'float16') notMapped.push('asymmetric weights (we store weights symmetric, as the TFLite spec requires for int8 kernels)');
  }
  if (main.op_config?.min_weight_elements !== undefined) recipe.minWeightElements = main.op_config.min_weight_elements;
  for (const entry of entries.slice(1)) {
    const bits = entry.op_config?.weight_tensor_config?.num_bits;
    const entryTechnique = entry.algorithm_key === main.algorithm_key && needsCalibration(recipe) && entry.op_config?.activation_tensor_config ? aeqTechnique(entry) : null;
    if (entryTechnique && (entryTechnique !== technique || recipe.activationBitsByScope?.length)) {
      // The main scheme at the other activation width (num_bits 16 in an int8 model, or 8 in a 16x8
      // one), or back at the main width after such an entry (it overrides the earlier one there).
      const scope = aeqScope(entry);
      if (!scope) {
        notMapped.push(`${entryTechnique} activations for ${entry.operation} / ${entry.regex} (a scope by both op type and tensor name is not supported; ignored)`);
        continue;
      }
      recipe.activationBitsByScope = [...(recipe.activationBitsByScope ?? []), { ...scope, bits: entryTechnique === 'int16x8' ? 16 : 8 }];
      if (bits !== recipe.weightBits && (bits === 8 || bits === 4)) recipe.weightBitsByScope.push({ ...scope, bits });
      continue;
    }
    if (entry.algorithm_key === 'no_quantize') {
      recipe.keepFloat.push(entry.operation !== '*' ? { opTypes: [entry.operation] } : { tensorNamePattern: entry.regex });
    } else if (entry.algorithm_key === main.algorithm_key && (bits === 8 || bits === 4) && technique !== 'float16' && aeqTechnique(entry) === technique) {
      // The main scheme at another bit width: for one op type, or (int8 / int16x8) for a tensor-name
      // scope. An op type after a scope stays a scope, so the later entry still wins as in AEQ.
      if (entry.regex === '.*' && entry.operation !== '*' && needsCalibration(recipe) && recipe.weightBitsByScope.length) {
        checkOpName(entry.operation);
        recipe.weightBitsByScope.push({ opTypes: [entry.operation], bits });
      } else if (entry.regex === '.*' && entry.operation !== '*') {
        checkOpName(entry.operation);
        recipe.opWeightBits[entry.operation] = bits;
      } else if (entry.operation === '*' && needsCalibration(recipe)) {
        checkRegex(entry.regex);
        recipe.weightBitsByScope.push({ tensorNamePattern: entry.regex, bits });
      } else {
        notMapped.push(`${bits}-bit weights for ${entry.operation} / ${entry.regex} (a scope by both op type and tensor name, or by tensor name for ${technique}, is not supported; ignored)`);
      }
    } else {
      notMapped.push(`entry for ${entry.operation} / ${entry.regex} with ${entry.algorithm_key} (per-op schemes other than "no_quantize" are not supported; the whole-model scheme applies)`);
    }
  }
  return { recipe, notMapped };
}

/** The scope of an AEQ entry: an op type (regex .*) or a tensor-name regex (operation *); null for both. */
function aeqScope(entry: AeqEntry): Scope | null {
  if (entry.regex === '.*' && entry.operation !== '*') {
    checkOpName(entry.operation);
    return { opTypes: [entry.operation] };
  }
  if (entry.operation === '*') {
    checkRegex(entry.regex);
    return { tensorNamePattern: entry.regex };
  }
  return null;
}

/** Block size of an AEQ weight config: granularity BLOCKWISE_N or the older block_size field; 0 if neither. */
function aeqBlockSize(weights: AeqTensorConfig): number {
  const match = /^BLOCKWISE_(\d+)$/.exec(weights.granularity ?? '');
  const size = match ? Number(match[1]) : (weights.block_size ?? 0);
  if (size && !BLOCK_SIZES.includes(size)) fail(`block size ${size} is not supported (${BLOCK_SIZES.join(', ')})`);
  return size;
}

function aeqTechnique(entry: AeqEntry): Technique {
  const config = entry.op_config;
  if (entry.algorithm_key === 'float_casting') return 'float16';
  if (entry.algorithm_key !== 'min_max_uniform_quantize') fail(`algorithm "${entry.algorithm_key}" is not supported (known: min_max_uniform_quantize, float_casting, no_quantize)`);
  const weights = config?.weight_tensor_config;
  if (!weights || (weights.num_bits !== 8 && weights.num_bits !== 4)) fail(`only 8- and 4-bit weights are supported, got ${weights?.num_bits ?? 'none'}`);
  const activations = config?.activation_tensor_config;
  if (activations) {
    if (activations.num_bits === 8) return 'int8';
    if (activations.num_bits === 16) return 'int16x8';
    fail(`activations of ${activations.num_bits} bits are not supported (8 or 16)`);
  }
  return config?.compute_precision === 'FLOAT' || config?.explicit_dequantize ? 'weight-int8' : 'dynamic';
}
