import { describe, expect, it } from 'vitest';
import { closestSpelling, editDistance } from './closest-spelling';

describe('editDistance', () => {
  it('counts edits as the textbook examples do', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3); // Levenshtein's classic example
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('flaw', 'lawn')).toBe(2);
    expect(editDistance('ca', 'ac')).toBe(1); // a swap of neighbours is one edit
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('closestSpelling', () => {
  const flags = ['--calib', '--calib-count', '--labels', '--label-column', '--eval', '--eval-count'];
  it('finds the intended option for common slips', () => {
    expect(closestSpelling('--calib-cout', flags)).toBe('--calib-count');
    expect(closestSpelling('--calib_count', flags)).toBe('--calib-count');
    expect(closestSpelling('--lables', flags)).toBe('--labels');
    expect(closestSpelling('--label-colum', flags)).toBe('--label-column');
  });
  it('guesses nothing when nothing is close', () => {
    expect(closestSpelling('--frobnicate', flags)).toBeUndefined();
    expect(closestSpelling('--seed', flags)).toBeUndefined();
  });
});
