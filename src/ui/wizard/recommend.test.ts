import { describe, expect, test } from 'vitest';
import { chainText } from '../../app/variant-chain';
import { recommend } from './recommend';

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
