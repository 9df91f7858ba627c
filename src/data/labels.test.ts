import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv';
import { classIndices } from './labels';

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, commas and newlines in quotes, CRLF, BOM and blank lines', () => {
    const text = '\uFEFFfile,name\r\na.jpg,"chow, chow chow"\r\n\r\nb.jpg,"say ""hi""\nthere"\nc.jpg,';
    expect(parseCsv(text)).toEqual([
      ['file', 'name'],
      ['a.jpg', 'chow, chow chow'],
      ['b.jpg', 'say "hi"\nthere'],
      ['c.jpg', ''],
    ]);
  });

  it('refuses an unterminated quote', () => {
    expect(() => parseCsv('a,b\n"x,1\n', 'l.csv')).toThrow(/^Cannot read l\.csv: a quoted field opened before line 3 is never closed\.$/);
  });
});

describe('classIndices', () => {
  it('takes whole numbers as indices', () => {
    expect(classIndices(['3', '10', '3'], undefined, 'label')).toEqual({ indices: [3, 10, 3], classNames: null, how: 'numbers' });
  });

  it('maps names through class names, loosely, or numbers them in sorted order', () => {
    const names = ['background', 'great white shark', 'Tench'];
    expect(classIndices(['tench', 'great_white_shark'], names, 'label')).toMatchObject({ indices: [2, 1], how: 'class-names' });
    expect(classIndices(['b', 'a', 'B'], names, 'label')).toEqual({ indices: [2, 1, 0], classNames: ['B', 'a', 'b'], how: 'sorted' });
    expect(() => classIndices(['tench', 'trout'], names, 'class folder')).toThrow(/^1 class folder \('trout'\) match no class name/);
  });
});
