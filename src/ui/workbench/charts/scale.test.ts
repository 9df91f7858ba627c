import { describe, expect, test } from 'vitest';
import { linearScale, niceStep, niceTicks } from './scale';

describe('chart scales', () => {
  test('linearScale maps the domain onto the range, inverted ranges too', () => {
    const y = linearScale([0, 1], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(1)).toBe(0);
    expect(y(0.25)).toBe(150);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });

  test('niceStep picks 1, 2 or 5 x 10^n', () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(0.07, 5)).toBeCloseTo(0.02);
    expect(niceStep(3e6, 5)).toBe(1e6);
  });

  test('niceTicks cover the values with round numbers', () => {
    expect(niceTicks(0, 93)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0, 0.07)).toEqual([0, 0.02, 0.04, 0.06, 0.08]);
    const ticks = niceTicks(-10, 80);
    expect(ticks[0]).toBeLessThanOrEqual(-10);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(80);
  });
});
