import { describe, expect, test } from 'vitest';
import { chainText } from '../../app/variant-chain';
import { defaultRecipe } from '../../optimize/recipe';
import { observedDrops, recommend, type ObservedRun } from './recommend';

describe('wizard and chains', () => {
  test('the wizard recommends cluster:32:per-channel+int8 when size matters and data is available', () => {
    const chains = (r: ReturnType<typeof recommend>) => r.map((x) => chainText(x.recipe, x.steps)).filter(Boolean);
    expect(chains(recommend({ target: 'cpu', data: 'unlabeled', loss: 'small', priority: 'size', sensitive: false }))).toEqual(['cluster:32:per-channel+int8']);
    expect(chains(recommend({ target: 'web', data: 'none', loss: 'small', priority: 'size', sensitive: false }))).toEqual([]);
    expect(chains(recommend({ target: 'web', data: 'labeled', loss: 'small', priority: 'both', sensitive: false }))).toEqual([]);
  });
});

describe('wizard and QAT', () => {
  const qat = (r: ReturnType<typeof recommend>) => r.filter((x) => x.steps?.train?.mode === 'qat');
  test('up front when almost no loss is acceptable and there is data', () => {
    expect(qat(recommend({ target: 'cpu', data: 'unlabeled', loss: 'tiny', priority: 'both', sensitive: false }))).toHaveLength(1);
    expect(qat(recommend({ target: 'cpu', data: 'none', loss: 'tiny', priority: 'both', sensitive: false }))).toHaveLength(0);
    expect(qat(recommend({ target: 'cpu', data: 'labeled', loss: 'small', priority: 'both', sensitive: false }))).toHaveLength(0);
  });
  test('first, with the reason, when int8 missed the target', () => {
    const r = recommend({ target: 'web', data: 'labeled', loss: 'small', priority: 'both', sensitive: false }, { int8Drop: 0.04 });
    expect(r[0].steps?.train?.mode).toBe('qat');
    expect(r[0].reason).toMatch(/lost 4\.0 pt, more than the 1\.0 pt/);
    expect(qat(recommend({ target: 'web', data: 'labeled', loss: 'moderate', priority: 'both', sensitive: false }, { int8Drop: 0.02 }))).toHaveLength(0);
  });
});

describe('wizard speed claims', () => {
  const dynamic = (r: ReturnType<typeof recommend>) => r.find((x) => x.recipe.technique === 'dynamic' && !x.steps)!;
  test('dynamic range promises no speed-up: on the web it says LiteRT.js runs hybrid graphs slower than float', () => {
    const web = dynamic(recommend({ target: 'web', data: 'none', loss: 'small', priority: 'both', sensitive: false }));
    expect(web.reason).not.toMatch(/faster/);
    expect(web.reason).toMatch(/slower than float/);
    const cpu = dynamic(recommend({ target: 'cpu', data: 'none', loss: 'small', priority: 'both', sensitive: false }));
    expect(cpu.reason).not.toMatch(/2-3x faster/);
  });
  test('a measured latency ratio replaces the general note', () => {
    const r = recommend({ target: 'web', data: 'unlabeled', loss: 'small', priority: 'both', sensitive: false }, { latencyRatio: { dynamic: 2.02, int8: 0.64 } });
    expect(dynamic(r).reason).toMatch(/measured here: 2\.02x the float model's latency/);
    expect(r.find((x) => x.recipe.technique === 'int8' && !x.steps)!.reason).toMatch(/measured here: 0\.64x/);
  });
});

describe('wizard and int4 weights', () => {
  const int4 = (r: ReturnType<typeof recommend>) => r.filter((x) => x.recipe.weightBits === 4);
  test('smallest size with a few points of loss accepted: W4A8 with data, with the measured cost in the reason', () => {
    const r = int4(recommend({ target: 'cpu', data: 'unlabeled', loss: 'moderate', priority: 'size', sensitive: false }));
    expect(r).toHaveLength(1);
    expect(r[0].recipe).toMatchObject({ technique: 'int8', weightBits: 4, blockSize: 0, rounding: 'gptq' });
    expect(r[0].reason).toMatch(/W4A8/);
    expect(r[0].reason).toMatch(/0\.59x int8 but top-1 fell 2\.75 pt/);
    expect(int4(recommend({ target: 'web', data: 'labeled', loss: 'moderate', priority: 'size', sensitive: true }))[0].recipe.technique).toBe('int8');
  });
  test('without data: dynamic range with int4 weights, rounded to nearest', () => {
    const r = int4(recommend({ target: 'web', data: 'none', loss: 'moderate', priority: 'size', sensitive: false }));
    expect(r).toHaveLength(1);
    expect(r[0].recipe).toMatchObject({ technique: 'dynamic', weightBits: 4 });
    expect(r[0].reason).toMatch(/nearest/);
    expect(r[0].reason).toMatch(/slower than float/);
  });
  test('not when the loss must stay small, size is not the priority, or the target is integer-only hardware', () => {
    expect(int4(recommend({ target: 'cpu', data: 'unlabeled', loss: 'small', priority: 'size', sensitive: false }))).toHaveLength(0);
    expect(int4(recommend({ target: 'cpu', data: 'unlabeled', loss: 'moderate', priority: 'both', sensitive: false }))).toHaveLength(0);
    expect(int4(recommend({ target: 'cpu', data: 'unlabeled', loss: 'tiny', priority: 'size', sensitive: false }))).toHaveLength(0);
    expect(int4(recommend({ target: 'mcu', data: 'unlabeled', loss: 'moderate', priority: 'size', sensitive: false }))).toHaveLength(0);
  });
  test('plain int8 still comes first: int4 is offered to compare with, not instead', () => {
    const r = recommend({ target: 'cpu', data: 'unlabeled', loss: 'moderate', priority: 'size', sensitive: false });
    const first4 = r.findIndex((x) => x.recipe.weightBits === 4);
    const int8 = r.findIndex((x) => x.recipe.technique === 'int8' && x.recipe.weightBits === 8 && !x.steps);
    expect(int8).toBeGreaterThanOrEqual(0);
    expect(int8).toBeLessThan(first4);
  });
});

describe('wizard and W4A8 + QAT', () => {
  const w4a8Qat = (r: ReturnType<typeof recommend>) => r.filter((x) => x.recipe.weightBits === 4 && x.steps?.train?.mode === 'qat');
  const size = { target: 'web', data: 'labeled', loss: 'moderate', priority: 'size', sensitive: false } as const;
  test('first, with the measured loss and the budget in the reason, when the smallest model is asked and W4A8 missed', () => {
    const r = recommend(size, { w4a8Drop: 0.0975 });
    expect(w4a8Qat(r)).toHaveLength(1);
    expect(r[0].recipe).toMatchObject({ technique: 'int8', weightBits: 4 });
    expect(r[0].steps?.train).toMatchObject({ mode: 'qat' });
    expect(chainText(r[0].recipe, r[0].steps)).toBe('qat+int8');
    expect(r[0].reason).toMatch(/W4A8 after post-training quantization lost 9\.8 pt, more than the 3\.0 pt you accept/);
    expect(r[0].reason).toMatch(/on your labels/);
    expect(recommend({ ...size, data: 'unlabeled' }, { w4a8Drop: 0.05 })[0].reason).toMatch(/distillation/);
    // The plain W4A8 is still offered (to compare with), after it.
    expect(r.slice(1).some((x) => x.recipe.weightBits === 4 && !x.steps)).toBe(true);
  });
  test('not when W4A8 was not measured, stayed within the budget, there is no data, size is not the priority, or the target is not a CPU', () => {
    expect(w4a8Qat(recommend(size))).toHaveLength(0);
    expect(w4a8Qat(recommend(size, { w4a8Drop: 0.02 }))).toHaveLength(0);
    expect(w4a8Qat(recommend({ ...size, data: 'none' }, { w4a8Drop: 0.1 }))).toHaveLength(0);
    expect(w4a8Qat(recommend({ ...size, priority: 'both' }, { w4a8Drop: 0.1 }))).toHaveLength(0);
    expect(w4a8Qat(recommend({ ...size, target: 'mcu' }, { w4a8Drop: 0.1 }))).toHaveLength(0);
    // A smaller budget makes the same loss a miss.
    expect(w4a8Qat(recommend({ ...size, loss: 'small' }, { w4a8Drop: 0.02 }))).toHaveLength(1);
  });
  test('observedDrops keeps W4A8 runs apart from int8 ones (a W4A8 loss is no int8 miss), and ignores trained or unfinished variants', () => {
    const run = (weightBits: 4 | 8, candidate: number, extra: Partial<ObservedRun> = {}): ObservedRun => ({
      status: 'done',
      recipe: { ...defaultRecipe('int8'), weightBits },
      result: { comparison: { classification: { agreement: 0.9, accuracy: { reference: { top1: 0.62 }, candidate: { top1: candidate } } } } },
      ...extra,
    });
    const drops = observedDrops([run(8, 0.615), run(4, 0.52), run(4, 0.5), run(4, 0.6, { steps: { train: { mode: 'qat' } } }), run(4, 0.61, { status: 'running' })]);
    expect(drops.int8Drop).toBeCloseTo(0.005, 9);
    expect(drops.w4a8Drop).toBeCloseTo(0.1, 9);
    expect(observedDrops([run(4, 0.52)]).int8Drop).toBeUndefined();
    // Unlabeled: disagreement with the float model.
    expect(observedDrops([{ ...run(4, 0), result: { comparison: { classification: { agreement: 0.8 } } } }]).w4a8Drop).toBeCloseTo(0.2, 9);
  });
});
