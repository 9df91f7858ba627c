import { describe, expect, test } from 'vitest';
import { BLOCK_SIZES, defaultRecipe, parseRecipe, recipeLabel, TECHNIQUES, type Recipe, type Technique } from '../../optimize/recipe';
import { ABSORB_REASONS, absorptionProblem, SMALL_INT4_DEFAULT_SINCE, withExplicitSmallLayers, withRecipeDefaults, blockSizeProblem, equalizeProblem, precisionText, recipeSummary, roundingProblem, scopedBitsFromText, weightBitsProblem, withBlockSize, withTechnique, withWeightBits } from './recipe-options';

/** parseRecipe is the independent judge: what the form builds must be a recipe the pipeline accepts as is. */
const accepted = (r: Recipe) => expect(parseRecipe(JSON.parse(JSON.stringify(r)))).toEqual(r);

describe('form choices -> recipe', () => {
  test('every technique x weights x block size the form enables gives a recipe parseRecipe accepts unchanged', () => {
    let enabled = 0;
    for (const technique of TECHNIQUES) {
      for (const bits of [8, 4] as const) {
        for (const block of [0, ...BLOCK_SIZES]) {
          let r = withWeightBits(defaultRecipe(technique), bits);
          r = withBlockSize(r, block);
          accepted(r);
          if (r.weightBits === bits && r.blockSize === block) enabled++;
        }
      }
    }
    // int8 weights for all 5; int4 per channel for 4; blocks of 4 sizes for weight-int8 and dynamic.
    expect(enabled).toBe(5 + 4 + 2 * 4);
  });

  test('a choice the form disables is one parseRecipe refuses, and the form says why', () => {
    const f16 = defaultRecipe('float16');
    expect(weightBitsProblem(f16)).toMatch(/float16 weights: int4 needs weight-int8, dynamic, int8 \(W4A8\) or int16x8 \(W4A16\)/);
    expect(() => parseRecipe({ technique: 'float16', weightBits: 4 })).toThrow(/int4 weights need/);
    expect(withWeightBits(f16, 4)).toBe(f16);
    const w4a8 = withWeightBits(defaultRecipe('int8'), 4);
    expect(blockSizeProblem(w4a8)).toMatch(/per channel.*blocks need weight-int8 or dynamic/);
    expect(() => parseRecipe({ technique: 'int8', weightBits: 4, blockSize: 32 })).toThrow(/blockSize needs technique/);
    expect(blockSizeProblem(defaultRecipe('dynamic'))).toMatch(/pick int4 first/);
    expect(() => parseRecipe({ technique: 'dynamic', blockSize: 32 })).toThrow(/blockSize needs weightBits 4/);
    for (const technique of TECHNIQUES) {
      const r = defaultRecipe(technique);
      expect(weightBitsProblem(r) === null).toBe(technique !== 'float16');
      expect(roundingProblem(r) === null).toBe(technique === 'int8' || technique === 'int16x8');
      expect(equalizeProblem(r) === null).toBe(technique === 'int8' || technique === 'int16x8');
    }
  });

  test('back to int8 weights drops the block size; rounding and equalization are disabled in chains, with the reason', () => {
    const b32 = withBlockSize(withWeightBits(defaultRecipe('dynamic'), 4), 32);
    expect(b32).toMatchObject({ weightBits: 4, blockSize: 32 });
    expect(withWeightBits(b32, 8)).toMatchObject({ weightBits: 8, blockSize: 0 });
    const int8 = defaultRecipe('int8');
    expect(roundingProblem(int8, { prune: { sparsity: 0.5, structure: 'unstructured' } })).toMatch(/round to nearest/);
    expect(roundingProblem(int8, { train: { mode: 'qat', epochs: 1, batchSize: 8, learningRate: 1e-4 } })).toMatch(/QAT/);
    expect(equalizeProblem(int8, { cluster: { clusters: 16, perChannel: true } })).toMatch(/Not in chains/);
  });

  test('bias absorption follows equalization: disabled with it, in chains and without calibration, with the reason; the summary names it when not auto', () => {
    const int8 = defaultRecipe('int8');
    expect(absorptionProblem(int8)).toBeNull();
    expect(absorptionProblem({ ...int8, equalize: 'off' })).toMatch(/after cross-layer equalization, which is off/);
    expect(absorptionProblem(int8, { cluster: { clusters: 16, perChannel: true } })).toMatch(/Not in chains/);
    expect(absorptionProblem(defaultRecipe('dynamic'))).toMatch(/has none/);
    expect(recipeSummary({ ...int8, biasAbsorption: 'on' })).toBe('int8 · W8A8 · gptq · minmax · CLE auto · absorb on');
    expect(recipeSummary({ ...int8, biasAbsorption: 'auto' })).toBe(recipeSummary(int8));
    expect(ABSORB_REASONS.auto).toMatch(/bench:pertensor/);
  });

  test('switching technique keeps what still applies and drops what the new one cannot take', () => {
    const all: Recipe = { ...withWeightBits(defaultRecipe('int8'), 4), io: 'uint8', integerOnly: true, rounding: 'nearest', equalize: 'off', weightBitsByScope: [{ opTypes: ['FULLY_CONNECTED'], bits: 8 }] };
    accepted(all);
    for (const technique of TECHNIQUES) for (const from of TECHNIQUES) accepted(withTechnique(withTechnique(all, from), technique));
    expect(withTechnique(all, 'int16x8')).toMatchObject({ technique: 'int16x8', weightBits: 4, io: 'float', integerOnly: true, rounding: 'nearest', equalize: 'off', weightBitsByScope: all.weightBitsByScope });
    expect(withTechnique(all, 'dynamic')).toMatchObject({ technique: 'dynamic', weightBits: 4, io: 'float', integerOnly: false, weightBitsByScope: [], minWeightElements: 1024 });
    expect(withTechnique({ ...all, activationBitsByScope: [{ opTypes: ['SOFTMAX'], bits: 16 }] }, 'dynamic').activationBitsByScope).toBeUndefined();
    expect(withTechnique({ ...all, activationBitsByScope: [{ opTypes: ['SOFTMAX'], bits: 16 }] }, 'int16x8').activationBitsByScope).toEqual([{ opTypes: ['SOFTMAX'], bits: 16 }]);
    expect(withTechnique(all, 'float16')).toMatchObject({ weightBits: 8, blockSize: 0, opWeightBits: {} });
    const dyn = withBlockSize(withWeightBits(defaultRecipe('dynamic'), 4), 64);
    expect(withTechnique(dyn, 'weight-int8')).toMatchObject({ weightBits: 4, blockSize: 64, minWeightElements: 0 });
    expect(withTechnique(dyn, 'int8')).toMatchObject({ weightBits: 4, blockSize: 0 });
    // A minimum the user set stays.
    expect(withTechnique({ ...defaultRecipe('dynamic'), minWeightElements: 99 }, 'int8').minWeightElements).toBe(99);
  });

  test('bits by op read as the CLI reads --op-weights', () => {
    expect(scopedBitsFromText('CONV_2D=int4')).toEqual({ opTypes: ['CONV_2D'], bits: 4 });
    expect(scopedBitsFromText('/logits/=int8')).toEqual({ tensorNamePattern: 'logits', bits: 8 });
    expect(scopedBitsFromText('dense_\\d+=int4')).toEqual({ tensorNamePattern: 'dense_\\d+', bits: 4 });
    expect(() => scopedBitsFromText('CONV2D=int4')).toThrow(/unknown op type "CONV2D"/);
    expect(() => scopedBitsFromText('CONV_2D')).toThrow(/OP_TYPE=int4/);
    expect(() => scopedBitsFromText('CONV_2D=int2')).toThrow(/OP_TYPE=int4/);
    expect(() => scopedBitsFromText('/(/=int4')).toThrow(/not a valid regular expression/);
    accepted({ ...defaultRecipe('int8'), weightBitsByScope: [scopedBitsFromText('CONV_2D=int4')] });
  });
});

describe('what the tables say a variant is', () => {
  const r = (technique: Technique, patch: Partial<Recipe> = {}): Recipe => ({ ...defaultRecipe(technique), ...patch });
  test('W·A notation by technique and bits', () => {
    expect(precisionText(r('int8'))).toBe('W8A8');
    expect(precisionText(r('int8', { weightBits: 4 }))).toBe('W4A8');
    expect(precisionText(r('int16x8', { weightBits: 4 }))).toBe('W4A16');
    expect(precisionText(r('int16x8'))).toBe('W8A16');
    expect(precisionText(r('int8', { activationBitsByScope: [{ opTypes: ['SOFTMAX'], bits: 16 }] }))).toBe('W8A8/16');
    expect(precisionText(r('int16x8', { activationBitsByScope: [{ opTypes: ['SOFTMAX'], bits: 16 }] }))).toBe('W8A16');
    expect(precisionText(r('int8', { weightBitsByScope: [{ opTypes: ['CONV_2D'], bits: 4 }] }))).toBe('W4/8A8');
    expect(precisionText(r('dynamic', { weightBits: 4, blockSize: 32 }))).toBe('int4 b32 weights');
    expect(precisionText(r('weight-int8', { weightBits: 4 }))).toBe('int4 weights');
    expect(precisionText(r('dynamic'))).toBe('');
    expect(precisionText(r('float16'))).toBe('');
  });

  test('the summary names technique, precision, rounding, ranges and equalization; a chain says what ran', () => {
    expect(recipeSummary(r('int8', { weightBits: 4, rounding: 'nearest' }))).toBe('int8 · W4A8 · nearest · minmax · CLE auto');
    // The smallest layers stay int8 unless the recipe says otherwise; the line says so when it does.
    expect(recipeSummary(r('int8', { weightBits: 4, smallInt4Layers: 'int4' }))).toBe('int8 · W4A8 · smallest int4 too · gptq · minmax · CLE auto');
    expect(recipeSummary(r('int8', { smallInt4Layers: 'int4' }))).toBe('int8 · W8A8 · gptq · minmax · CLE auto');
    expect(recipeSummary(r('int8'))).toBe('int8 · W8A8 · gptq · minmax · CLE auto');
    expect(recipeSummary(r('int16x8', { weightBits: 4, granularity: 'per-tensor', calibration: { algorithm: 'mse', percentile: 99.99, samples: 100 }, equalize: 'off', io: 'int8' }))).toBe('int16x8 · W4A16 · per-tensor · gptq · mse · CLE off · int8 I/O');
    expect(recipeSummary(r('dynamic', { weightBits: 4, blockSize: 128 }))).toBe('dynamic · int4 b128 weights');
    expect(recipeSummary(r('float16'))).toBe('float16');
    // Chains round to nearest and never equalize, whatever the recipe says (chain.ts).
    expect(recipeSummary(r('int8'), 'cluster:32:per-channel+int8')).toBe('cluster:32:per-channel+int8 · W8A8 · nearest · minmax');
    expect(recipeSummary(r('int8'), 'prune:0.5')).toBe('prune:0.5');
    // The file-name label stays as it was (downloads, e2e selectors).
    expect(recipeLabel(r('int8', { weightBits: 4, rounding: 'nearest' }))).toBe('int8-int4-round-nearest');
  });
});

describe('recipes saved by an older page', () => {
  test('fields added since get their defaults (a result: what ran then); what was saved stays', () => {
    const old = { technique: 'int8', granularity: 'per-tensor', calibration: { algorithm: 'mse', samples: 50 }, io: 'int8', integerOnly: true, keepFloat: [{ opTypes: ['SOFTMAX'] }], minWeightElements: 0 } as unknown as Recipe;
    const filled = withRecipeDefaults(old);
    accepted(filled);
    expect(filled).toMatchObject({ granularity: 'per-tensor', io: 'int8', integerOnly: true, weightBits: 8, blockSize: 0, rounding: 'gptq', equalize: 'auto', weightBitsByScope: [], opWeightBits: {} });
    expect(filled.calibration).toEqual({ algorithm: 'mse', percentile: 99.99, samples: 50 });
    expect(recipeSummary(filled)).toBe('int8 · W8A8 · per-tensor · gptq · mse · CLE auto · int8 I/O');
    // A result saved then ran before rounding optimization and equalization: the summary says what ran.
    expect(recipeSummary(withRecipeDefaults(old, { savedAt: 0 }))).toBe('int8 · W8A8 · per-tensor · nearest · mse · CLE off · int8 I/O');
    expect(recipeSummary(withRecipeDefaults(old, {}))).toBe('int8 · W8A8 · per-tensor · nearest · mse · CLE off · int8 I/O');
    expect(withRecipeDefaults({ ...defaultRecipe('int8'), weightBits: 4, smallInt4Layers: 'int8' }, {})).toEqual({ ...defaultRecipe('int8'), weightBits: 4, smallInt4Layers: 'int8' });
  });

  test("an int4 result without the small-layers field says what its page did: every layer int4 before the default changed, int8 after", () => {
    const w4a8 = { ...defaultRecipe('int8'), weightBits: 4 } as Recipe;
    expect(withRecipeDefaults(w4a8, {}).smallInt4Layers).toBe('int4'); // no savedAt: the oldest saves
    expect(withRecipeDefaults(w4a8, { savedAt: SMALL_INT4_DEFAULT_SINCE - 1 }).smallInt4Layers).toBe('int4');
    expect(withRecipeDefaults(w4a8, { savedAt: SMALL_INT4_DEFAULT_SINCE + 1 }).smallInt4Layers).toBe('int8');
    expect(withRecipeDefaults(w4a8).smallInt4Layers).toBeUndefined(); // a recipe to run keeps today's default
    expect(withRecipeDefaults({ ...defaultRecipe('int8'), weightBits: 8 } as Recipe, {}).smallInt4Layers).toBeUndefined();
    // New results carry the field, so no later default can reinterpret them.
    expect(withExplicitSmallLayers(w4a8).smallInt4Layers).toBe('int8');
    expect(withExplicitSmallLayers({ ...w4a8, smallInt4Layers: 'int4' }).smallInt4Layers).toBe('int4');
    expect(withExplicitSmallLayers(defaultRecipe('int8'))).toEqual(defaultRecipe('int8'));
  });
});
