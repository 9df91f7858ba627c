/**
 * The layers of ../shared/DESIGN.md, held by a test: every reference between the files of `src/`
 * and `workers/` (src/test-support/import-graph.ts says which count) runs down this table, never up
 * or sideways, and no file reaches itself again through its imports.
 *
 *   base      src/*.ts (errors, seeded-random: used everywhere), src/test-support/ (paths to the
 *             shared models, this graph reader: tests only)
 *   tflite    the format
 *   runtime   LiteRT.js
 *   engine    the tfjs executor
 *   data      datasets
 *   optimize  recipes, calibration, quantization, prune, cluster, finetune, chains
 *   evaluate  compare, metrics, latency, size, report, target checks
 *   app       use cases and protocol types shared by the CLI, the workers and the page
 *   cli, workers   the Node and worker entry points (beside each other: neither imports the other)
 *   ui        the page; it starts the workers, so it sits above them (beside the CLI)
 *
 * Type-only imports count too: a type from above is a dependency on what defines it. The
 * flatc-generated schema code is part of tflite like the rest.
 *
 * Tests (*.test.ts) may import from any layer, though: nothing imports a test, so a test reaching
 * up can neither make its layer's code depend on the layers above nor close a circle, and the
 * tests that do so measure a layer's output with the instruments above it, as DESIGN.md asks of a
 * test (optimize's with evaluate's comparison in LiteRT; the engine's simulation on models our
 * quantizer wrote). They still sit in a layer and take part in the cycle check. The other way is
 * closed: test code (src/test-support/, *.test.ts) reads the shared models from disk, and only
 * tests may import it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCycles, importGraph, layerViolations, type ImportEdge, type Layer, type LayerOf } from './test-support/import-graph';
import { repoRoot } from './test-support/shared';

const ORDER = ['base', 'tflite', 'runtime', 'engine', 'data', 'optimize', 'evaluate', 'app', ['cli', 'workers'], 'ui'] as const;

const BESIDE: Record<string, string[]> = { ui: ['cli'] };

const LAYERS = new Map<string, Layer>(
  ORDER.flatMap((entry, rank) => (typeof entry === 'string' ? [entry] : entry).map((name) => [name, { name, rank, beside: BESIDE[name] }] as const)),
);

/** workers/..., src/<layer>/..., and the base: src/*.ts and src/test-support/. Anything else has no layer. */
const layerOf: LayerOf = (file) => {
  if (file.startsWith('workers/')) return LAYERS.get('workers')!;
  if (/^src\/[^/]+$/.test(file) || file.startsWith('src/test-support/')) return LAYERS.get('base')!;
  const folder = /^src\/([^/]+)\//.exec(file)?.[1];
  return folder && folder !== 'base' && folder !== 'workers' ? (LAYERS.get(folder) ?? null) : null;
};

const isTest = (file: string) => /\.test\.tsx?$/.test(file);
const isTestCode = (file: string) => isTest(file) || file.startsWith('src/test-support/');

/** Edges from code that ships (not test code) into test code. */
function testCodeViolations(edges: ImportEdge[]): string[] {
  return edges.filter((e) => !isTestCode(e.from) && isTestCode(e.to)).map((e) => `${e.from}:${e.line} -> ${e.to} (${e.kind}): only tests may import test code`);
}

describe('architecture', () => {
  const edges = importGraph(repoRoot, ['src', 'workers']);

  it('reads the import graph (static, type-only, re-exports, dynamic, new URL)', () => {
    expect(edges.length).toBeGreaterThan(500);
    for (const kind of ['import', 'type', 'export', 'dynamic', 'url'] as const) expect(edges.some((e) => e.kind === kind), kind).toBe(true);
  });

  it('every arrow runs down the layers (tests may reach up)', () => {
    expect(layerViolations(edges, layerOf, isTest).map((v) => v.message)).toEqual([]);
  });

  it('only tests import test code', () => {
    expect(testCodeViolations(edges)).toEqual([]);
  });

  it('no import cycle among files', () => {
    expect(importCycles(edges).map((c) => `${c.cycle.join(' -> ')} (component: ${c.files.join(', ')})`)).toEqual([]);
  });

  it('workers stay thin adapters over src/app: no file in workers/ reaches 150 lines', () => {
    const long = readdirSync(join(repoRoot, 'workers'))
      .map((name) => ({ name, lines: readFileSync(join(repoRoot, 'workers', name), 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines >= 150);
    expect(long).toEqual([]);
  });
});

describe('the checker, on a planted tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'architecture-fixture-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'src/tflite/read.ts': `import { helper } from '../errors';\nexport const read = helper;\n`,
    'src/errors.ts': `export const helper = 1;\n`,
    // A back-arrow: tflite (bottom) importing a type from optimize.
    'src/tflite/write.ts': `import type { Plan } from '../optimize/plan';\nexport const write = (p: Plan) => p;\n`,
    // A circle through a dynamic import and a re-export.
    'src/optimize/plan.ts': `export type Plan = number;\nexport const load = () => import('./steps');\n`,
    'src/optimize/steps.ts': `export { load } from './plan';\n`,
    // The core naming a worker by URL.
    'src/optimize/start.ts': `export const start = () => new Worker(new URL('../../workers/w.worker.ts', import.meta.url));\n`,
    'workers/w.worker.ts': `import { read } from '../src/tflite/read';\nexport default read;\n`,
    // Sideways: the CLI and the workers are beside each other.
    'src/cli/main.ts': `import read from '../../workers/w.worker';\nexport const main = read;\n`,
    // The page beside the CLI: not below it although listed after it.
    'src/ui/App.tsx': `import { main } from '../cli/main';\nexport const App = main;\n`,
    // A folder no layer claims.
    'src/misc/thing.ts': `import { read } from '../tflite/read';\nexport const thing = read;\n`,
    // A test reaching up (allowed), and shipped code importing test code (not).
    'src/tflite/read.test.ts': `import { load } from '../optimize/plan';\nimport { models } from '../test-support/shared';\nexport { load, models };\n`,
    'src/test-support/shared.ts': `export const models = 'models';\n`,
    'src/engine/kernel.ts': `import { models } from '../test-support/shared';\nexport const kernel = models;\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const planted = importGraph(root, ['src', 'workers']);

  it('reports the back-arrows, naming both files and layers', () => {
    const messages = layerViolations(planted, layerOf, isTest).map((v) => v.message);
    expect(messages).toEqual([
      'src/cli/main.ts:1 -> workers/w.worker.ts (import): cli may not import workers (a layer beside it)',
      'src/misc/thing.ts:1 -> src/tflite/read.ts (import): src/misc/thing.ts belongs to no layer',
      'src/optimize/start.ts:1 -> workers/w.worker.ts (url): optimize may not import workers (a higher layer)',
      'src/tflite/write.ts:1 -> src/optimize/plan.ts (type): tflite may not import optimize (a higher layer)',
      'src/ui/App.tsx:1 -> src/cli/main.ts (import): ui may not import cli (a layer beside it)',
    ]);
  });

  it('reports shipped code importing test code', () => {
    expect(testCodeViolations(planted)).toEqual(['src/engine/kernel.ts:1 -> src/test-support/shared.ts (import): only tests may import test code']);
  });

  it('reports the cycle', () => {
    expect(importCycles(planted)).toEqual([{ files: ['src/optimize/plan.ts', 'src/optimize/steps.ts'], cycle: ['src/optimize/plan.ts', 'src/optimize/steps.ts', 'src/optimize/plan.ts'] }]);
  });
});
