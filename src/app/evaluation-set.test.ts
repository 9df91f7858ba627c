import { describe, expect, it } from 'vitest';
import { datasetFingerprint, datasetName, evaluationKey, fnv1a64 } from './evaluation-set';

describe('evaluation set identity', () => {
  it('fnv1a64 gives the published FNV-1a 64-bit test vectors', () => {
    // From the FNV reference test suite (Fowler/Noll/Vo, test_fnv.c).
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  const digits = { names: ['0/1.png', '7/0.png'], labels: [0, 7], preprocessing: [{ width: 28, height: 28, channels: 1 as const, mean: [0], std: [255], channelOrder: 'RGB' as const, resize: 'bilinear' as const }] };
  const files = [{ path: '7/0.png', size: 300 }, { path: '0/1.png', size: 280 }];

  it('a dataset keeps its fingerprint when re-read (file order aside) and changes with any sample, label, size or preprocessing', () => {
    const fp = datasetFingerprint(digits, files);
    expect(datasetFingerprint(digits, [...files].reverse())).toBe(fp);
    expect(datasetFingerprint({ ...digits, labels: [0, 1] }, files)).not.toBe(fp);
    expect(datasetFingerprint({ ...digits, names: ['0/1.png', '7/9.png'] }, files)).not.toBe(fp);
    expect(datasetFingerprint(digits, [{ path: '7/0.png', size: 301 }, files[1]])).not.toBe(fp);
    expect(datasetFingerprint({ ...digits, preprocessing: [{ ...digits.preprocessing[0], std: [127.5] }] }, files)).not.toBe(fp);
  });

  it('the evaluation key changes with the split (other evaluation samples) and is one key for random inputs', () => {
    const a = evaluationKey('abc', { calibration: 100, evaluation: 500, training: 0 });
    expect(evaluationKey('abc', { calibration: 100, evaluation: 500 })).toBe(a);
    expect(evaluationKey('abc', { calibration: 50, evaluation: 500 })).not.toBe(a);
    expect(evaluationKey('abd', { calibration: 100, evaluation: 500 })).not.toBe(a);
    expect(evaluationKey(null, null)).toBe('random');
  });

  it('names a zip, a folder or a list of files', () => {
    expect(datasetName([{ path: 'mnist-digits.zip' }])).toBe('mnist-digits.zip');
    expect(datasetName([{ path: 'digits/0/a.png' }, { path: 'digits/1/b.png' }])).toBe('digits/ (2 files)');
    expect(datasetName([{ path: 'a.npy' }, { path: 'b.npy' }])).toBe('2 files');
  });
});
