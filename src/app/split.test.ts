import { describe, expect, it } from 'vitest';
import { splitIndices } from './split';

const disjoint = (a: number[], b: number[]) => a.every((i) => !new Set(b).has(i));

describe('the split rule', () => {
  it('calibration and evaluation never share a sample; training is calibration plus more, never evaluation', () => {
    const s = splitIndices({ size: 1000 }, { calibration: 100, training: 200, evaluation: 300 });
    expect(s.calibration).toHaveLength(100);
    expect(s.training).toHaveLength(300);
    expect(s.evaluation).toHaveLength(300);
    expect(s.training.slice(0, 100)).toEqual(s.calibration);
    expect(disjoint(s.calibration, s.evaluation)).toBe(true);
    expect(disjoint(s.training, s.evaluation)).toBe(true);
    expect(new Set([...s.training, ...s.evaluation]).size).toBe(600);
    for (const i of [...s.training, ...s.evaluation]) expect(i >= 0 && i < 1000 && Number.isInteger(i)).toBe(true);
  });

  it('is one seeded shuffle: the same split every time, not the first samples (class folders sort by class)', () => {
    const a = splitIndices({ size: 500 }, { calibration: 50, evaluation: 100 });
    expect(splitIndices({ size: 500 }, { calibration: 50, evaluation: 100 })).toEqual(a);
    expect(a.calibration).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a.training).toEqual(a.calibration);
  });

  it('small datasets: training leaves one sample to evaluate; all-calibration evaluates on the first ones again', () => {
    const t = splitIndices({ size: 10 }, { calibration: 4, training: 100, evaluation: 5 });
    expect(t.training).toHaveLength(9);
    expect(t.evaluation).toHaveLength(1);
    expect(disjoint(t.training, t.evaluation)).toBe(true);
    const all = splitIndices({ size: 10 }, { calibration: 10, evaluation: 3 });
    expect(all.calibration).toHaveLength(10);
    expect(all.evaluation).toEqual(all.calibration.slice(0, 3));
  });
});
