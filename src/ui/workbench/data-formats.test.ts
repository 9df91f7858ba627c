import { describe, expect, it } from 'vitest';
import { isIdxPath } from '../../data/idx';
import { DATA_FILE_ACCEPT, DATA_FORMATS_TEXT } from './data-formats';

describe('the data panel names every format the datasets read', () => {
  it('says IDX is read and lets the picker choose gzipped IDX files', () => {
    expect(DATA_FORMATS_TEXT).toMatch(/IDX/);
    const accepted = DATA_FILE_ACCEPT.split(',');
    // What the dataset reader takes as IDX (src/data/idx.ts), named as MNIST ships it.
    for (const name of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      expect(isIdxPath(name)).toBe(true);
      expect(accepted.some((ext) => name.endsWith(ext)), name).toBe(true);
    }
  });
});
