import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');

describe('styles', () => {
  it('disabled buttons look disabled (faded, not-allowed cursor), plain and primary', () => {
    const rule = /\.button:disabled,[^{]*button:disabled\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
    expect(rule).toMatch(/opacity:\s*0\.\d+/);
    expect(rule).toMatch(/cursor:\s*not-allowed/);
    expect(css).toMatch(/\.button-primary:disabled/);
  });
});
