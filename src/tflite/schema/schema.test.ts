/**
 * The committed generated TypeScript is what flatc makes of our schema today: nobody edited it by
 * hand, and nobody changed the schema without regenerating.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../test-support/shared';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('generated schema code', () => {
  it('matches flatc output for src/tflite/schema/tflite.fbs', () => {
    const out = mkdtempSync(join(tmpdir(), 'schema-'));
    execFileSync('flatc', ['--ts', '--gen-object-api', '-o', out, join(repoRoot, 'src/tflite/schema/tflite.fbs')]);
    const committedDir = join(repoRoot, 'src/tflite/schema/generated');
    const fresh = files(out).map((f) => relative(out, f)).sort();
    const committed = files(committedDir).map((f) => relative(committedDir, f)).sort();
    expect(committed).toEqual(fresh);
    expect(fresh.length).toBeGreaterThan(150);
    for (const file of fresh) {
      expect(readFileSync(join(committedDir, file), 'utf8'), file).toBe(readFileSync(join(out, file), 'utf8'));
    }
  });
});
