#!/usr/bin/env node
// Writes, for models SOURCES.md records only as a table row, the facts cli.test.ts checks (I/O names,
// dtypes, shapes, op counts) in SOURCES.md's own "### `name`" form. The facts come from flatc's JSON
// dump of each file, independent of our reader. Usage: node scripts/model-facts.mjs MODEL... > FILE
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const schema = join(root, 'src/tflite/schema/tflite.fbs');
const modelsDir = resolve(root, '../shared/models');
const opNames = new Map(
  [...readFileSync(schema, 'utf8').split('enum BuiltinOperator')[1].split('}')[0].matchAll(/(\w+) = (\d+)/g)].map((m) => [Number(m[2]), m[1]]),
);

function dump(model) {
  const dir = mkdtempSync(join(tmpdir(), 'facts-'));
  try {
    execFileSync('flatc', ['--json', '--strict-json', '--raw-binary', '--defaults-json', '-o', dir, schema, '--', model], { maxBuffer: 1 << 30 });
    return JSON.parse(readFileSync(join(dir, basename(model).replace(/\.tflite$/, '.json')), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const file of process.argv.slice(2)) {
  const model = dump(file);
  const graph = model.subgraphs[0];
  const tensor = (i) => {
    const t = graph.tensors[i];
    return `\`${t.name}\` ${t.type} [${(t.shape ?? []).join(', ')}]`;
  };
  const counts = new Map();
  for (const op of graph.operators ?? []) {
    const code = model.operator_codes[op.opcode_index ?? 0];
    // Old files fill only the 8-bit deprecated_builtin_code; the op is the larger of the two fields.
    const deprecated = opNames.get(code.deprecated_builtin_code ?? 0);
    const builtin = code.builtin_code === 'ADD' && deprecated !== 'ADD' ? deprecated : code.builtin_code;
    const name = builtin === 'CUSTOM' ? `CUSTOM:${code.custom_code}` : builtin;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const ops = [...counts].sort((a, b) => b[1] - a[1]);
  const total = ops.reduce((n, [, c]) => n + c, 0);
  console.log(`### \`${relative(modelsDir, resolve(file))}\`\n`);
  console.log(`- **Inputs:** ${graph.inputs.map(tensor).join('; ')}`);
  console.log(`- **Outputs:** ${graph.outputs.map(tensor).join('; ')}`);
  console.log(`- **Ops (${ops.length} kinds, ${total} total):** ${ops.map(([n, c]) => `${n} x${c}`).join(', ')}\n`);
}
