/**
 * The CLI as a user runs it (a real process through bin/tflite-opt.mjs), checked against
 * independent facts: the shapes, dtypes and op counts recorded in ../shared/models/SOURCES.md
 * (taken there from flatc's JSON dump of each file, not from our reader). Models SOURCES.md lists
 * only as a table row have the same facts in src/test-support/added-model-facts.md, written from
 * flatc's dump by scripts/model-facts.mjs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../data/npy';
import { modelsDir, repoRoot, sharedModelNames } from '../test-support/shared';
import type { QuantizationPlan } from '../optimize/quantize/plan';
import { readModel } from '../tflite/read';
import type { ModelSummary } from '../tflite/summary-types';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface RecordedFacts {
  inputs: { name: string; dtype: string; shape: number[] }[];
  outputs: { name: string; dtype: string; shape: number[] }[];
  ops: Record<string, number>;
}

function recordedFacts(): Map<string, RecordedFacts> {
  const text = [join(modelsDir, 'SOURCES.md'), join(repoRoot, 'src/test-support/added-model-facts.md')].map((f) => readFileSync(f, 'utf8')).join('\n');
  const facts = new Map<string, RecordedFacts>();
  const tensors = (line: string) =>
    [...line.matchAll(/`([^`]+)` (\w+) \[([\d, ]*)\]/g)].map((m) => ({
      name: m[1],
      dtype: m[2],
      shape: m[3].split(',').map((s) => s.trim()).filter(Boolean).map(Number),
    }));
  for (const section of text.split(/^### /m).slice(1)) {
    const name = /^`([^`]+)`/.exec(section)?.[1];
    const inputs = /^- \*\*Inputs:\*\* (.*)$/m.exec(section)?.[1];
    const outputs = /^- \*\*Outputs:\*\* (.*)$/m.exec(section)?.[1];
    const ops = /^- \*\*Ops \(.*\):\*\* (.*)$/m.exec(section)?.[1];
    if (!name || !inputs || !outputs || !ops) continue;
    facts.set(name, {
      inputs: tensors(inputs),
      outputs: tensors(outputs),
      ops: Object.fromEntries([...ops.matchAll(/([\w:]+) x(\d+)/g)].map((m) => [m[1].replace(/^CUSTOM:/, ''), Number(m[2])])),
    });
  }
  return facts;
}

describe('tflite-opt inspect --json', () => {
  const facts = recordedFacts();

  it('has recorded facts for every shared model', () => {
    for (const name of sharedModelNames()) expect(facts.has(name), name).toBe(true);
  });

  for (const name of sharedModelNames()) {
    it(`agrees with the file: ${name}`, () => {
      const { code, stdout, stderr } = cli('inspect', join(modelsDir, name), '--json');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as ModelSummary;
      const expected = facts.get(name)!;
      const io = (list: ModelSummary['inputs']) => list.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
      expect(io(summary.inputs)).toEqual(expected.inputs);
      expect(io(summary.outputs)).toEqual(expected.outputs);
      expect(summary.ops).toEqual(expected.ops);
      expect(summary.bytes).toBe(readFileSync(join(modelsDir, name)).length);
      expect(summary.gzipBytes).toBeGreaterThan(0);
      expect(typeof summary.params).toBe('number');
      expect(summary.quantization).toMatch(/^(float32|float16|dynamic-range|weight-only-int8|int8|uint8|16x8|mixed|no-weights)$/);
    });
  }

  it('names the quantization state of known models', () => {
    const state = (name: string) => (JSON.parse(cli('inspect', join(modelsDir, name), '--json').stdout) as ModelSummary).quantization;
    expect(state('mobilenet_v1_0.25_224_float.tflite')).toBe('float32');
    expect(state('mobilenet_v1_0.25_224_quant_uint8.tflite')).toBe('uint8');
    expect(state('kws_dscnn_int8.tflite')).toBe('int8');
    expect(state('kws_dscnn_hybrid.tflite')).toBe('dynamic-range');
    expect(state('mnist_conv_fc_weight_only_int8.tflite')).toBe('weight-only-int8');
    expect(state('selfie_segmentation_fp16.tflite')).toBe('float16');
  });

  it('prints a readable summary without --json', () => {
    const { code, stdout } = cli('inspect', join(modelsDir, 'mobilenet_v1_0.25_224_float_metadata.tflite'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/input\s+FLOAT32 \[1, 224, 224, 3\]/);
    expect(stdout).toMatch(/15\s+CONV_2D/);
    expect(stdout).toMatch(/associated files: labels.txt/);
  });
});

describe('tflite-opt optimize --recipe none', () => {
  it('writes a model that inspects the same', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tflite-opt-')), 'out.tflite');
    const model = join(modelsDir, 'vww_96_float.tflite');
    const { code, stderr } = cli('optimize', model, '--recipe', 'none', '-o', out);
    expect(code).toBe(0);
    expect(stderr).toMatch(/wrote .*out.tflite/);
    const before = JSON.parse(cli('inspect', model, '--json').stdout) as ModelSummary;
    const after = JSON.parse(cli('inspect', out, '--json').stdout) as ModelSummary;
    expect(after.ops).toEqual(before.ops);
    expect(after.inputs).toEqual(before.inputs);
    expect(after.bytesByDtype).toEqual(before.bytesByDtype);
  });
});

describe('tflite-opt run', () => {
  it('runs a model on seeded random input, the same twice', () => {
    const model = join(modelsDir, 'mobilenet_v1_0.25_224_float.tflite');
    const first = cli('run', model, '--json', '--seed', '7');
    expect(first.code).toBe(0);
    const output = JSON.parse(first.stdout).outputs[0];
    expect(output.shape).toEqual([1, 1001]);
    const sum = (output.data as number[]).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4); // softmax
    expect(cli('run', model, '--json', '--seed', '7').stdout).toBe(first.stdout);
    expect(cli('run', model, '--json', '--seed', '8').stdout).not.toBe(first.stdout);
  });

  it('runs on a .npy input and refuses one of the wrong shape', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-opt-'));
    const good = join(dir, 'x.npy');
    const bad = join(dir, 'bad.npy');
    writeFileSync(good, writeNpy({ dtype: 'float32', shape: [1, 28, 28, 1], data: new Float32Array(784).fill(0.5) }));
    writeFileSync(bad, writeNpy({ dtype: 'float32', shape: [1, 32, 32, 1], data: new Float32Array(1024) }));
    const model = join(modelsDir, 'mnist_conv_fc_float.tflite');
    const ok = cli('run', model, '--input', good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/float32 \[1, 10\]/);
    const refused = cli('run', model, '--input', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/takes float32 \[1, 28, 28, 1\] but .*bad.npy holds float32 \(1, 32, 32, 1\)/);
  });
});

describe('tflite-opt bad input', () => {
  it('exits non-zero with one line and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-opt-'));
    const junk = join(dir, 'junk.tflite');
    writeFileSync(junk, 'this is not a model at all');
    const cases = [
      cli('inspect', junk),
      cli('inspect', join(dir, 'missing.tflite')),
      cli('run', junk),
      cli('optimize', junk, '--recipe', 'none', '-o', join(dir, 'o.tflite')),
      cli('run', join(modelsDir, 'mnist_lstm_float.tflite')),
    ];
    for (const { code, stderr } of cases) {
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr).toMatch(/^tflite-opt: /);
    }
    expect(cases[4].stderr).toMatch(/variable/i);
  });

  it('usage errors exit 2', () => {
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('optimize', join(modelsDir, 'mnist_conv_fc_float.tflite'), '--recipe', 'int99', '-o', '/tmp/x').code).toBe(2);
    expect(cli('inspect').code).toBe(2);
  });
});

describe('tflite-opt optimize with real techniques, then eval', () => {
  it('int8 with MNIST calibration, a report, and an eval that reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-opt-'));
    const out = join(dir, 'mnist_int8.tflite');
    const reportPath = join(dir, 'report.json');
    const model = join(modelsDir, 'mnist_conv_fc_float.tflite');
    const data = join(modelsDir, '../data/mnist_t10k');
    const optimized = cli('optimize', model, '--recipe', 'int8', '--io', 'int8', '--calib', data, '--calib-count', '50', '--algo', 'mse', '-o', out, '--report', reportPath);
    expect(optimized.code, optimized.stderr).toBe(0);
    expect(optimized.stderr).toMatch(/calibrated on 50 sample\(s\) with mse ranges/);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report.recipe).toMatchObject({ technique: 'int8', io: 'int8', calibration: { algorithm: 'mse' } });
    expect(report.floatOps).toEqual([]);
    // The one report shape the page and every command write.
    expect(report).toMatchObject({ format: 'tflite-workbench/report', version: 2, model: { name: out, reference: model }, output: out, label: 'int8-int8io-mse' });
    expect(report.sizes.candidate.rawBytes).toBe(readFileSync(out).length);
    // The report's plan is what the written model holds: its input takes the planned int8 parameters.
    const plan = report.plan as QuantizationPlan;
    expect(plan.subgraphs[0].ops.every((op) => op.mode === 'quantized')).toBe(true);
    const written = readModel(new Uint8Array(readFileSync(out))).subgraphs[0];
    const input = written.tensors[written.inputs[0]];
    const planned = plan.subgraphs[0].tensors.find((t) => t.role === 'io' && t.name === input.name)!;
    expect(plan.subgraphs[0].io.inputs[0].dtype).toBe('int8');
    expect(input.quantization).toMatchObject({ scale: planned.scales.map(Math.fround), zeroPoint: planned.zeroPoints }); // the file stores float32
    const summary = JSON.parse(cli('inspect', out, '--json').stdout) as ModelSummary;
    expect(summary.quantization).toBe('int8');
    expect(summary.inputs[0].dtype).toBe('INT8');

    const evaluated = cli('eval', out, '--ref', model, '--data', data, '--count', '500', '--per-layer', '--json', '--overlay', join(dir, 'overlay.json'));
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout);
    expect(result.metrics.samples).toBe(500);
    expect(result.metrics.classification.accuracy.candidate.top1).toBeGreaterThan(0.95);
    expect(result.metrics.classification.agreement).toBeGreaterThan(0.97);
    // Labelled digits: the quality measure is top-1 against the labels, with its Wilson interval.
    const quality = result.metrics.quality;
    expect(quality).toMatchObject({ task: 'classification', metric: 'top1', against: 'labels', samples: 500 });
    expect(quality.value).toBe(result.metrics.classification.accuracy.candidate.top1);
    expect(quality.referenceValue).toBe(result.metrics.classification.accuracy.reference.top1);
    expect(quality.interval[0]).toBeLessThan(quality.value);
    expect(quality.interval[1]).toBeGreaterThan(quality.value);
    expect(quality.interval[1] - quality.interval[0]).toBeLessThan(0.05);
    expect(result.perLayer.length).toBeGreaterThanOrEqual(5);
    expect(result.sizes.rawRatio).toBeLessThan(0.3);
    const overlay = JSON.parse(readFileSync(join(dir, 'overlay.json'), 'utf8'));
    expect(Object.keys(overlay).length).toBeGreaterThan(0);
  });

  it('eval --metric: mAP of a detector against its own detections, and a metric that does not fit', () => {
    const ssd = join(modelsDir, 'ssd_mobilenet_v1_coco_quant_uint8.tflite');
    const photos = join(repoRoot, '../shared/data/sample_images');
    const evaluated = cli('eval', ssd, '--data', photos, '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout).metrics.quality).toMatchObject({ task: 'detection', metric: 'map', against: 'reference', samples: 4, value: 1 });
    const markdown = cli('eval', ssd, '--data', photos, '--metric', 'map');
    expect(markdown.stdout).toContain("mAP@0.5 against the reference model's outputs: 100.0% (95% interval 100.0% to 100.0%), 4 samples.");
    const wrong = cli('eval', ssd, '--data', photos, '--metric', 'miou');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/The metric "miou" does not fit a detection model; use one of: map\./);
    const unknown = cli('eval', ssd, '--data', photos, '--metric', 'f1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--metric must be one of top1, top5, agreement, map, miou, sqnr, cosine, got "f1"/);
  });

  it('search: the pick meets the budget on digits it never saw, the report lists every candidate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-opt-'));
    const model = join(modelsDir, 'mnist_conv_fc_float.tflite');
    const digits = join(repoRoot, '../shared/data/mnist_t10k');
    const out = join(dir, 'pick.tflite');
    const run = cli('search', model, '--budget', '44', '--metric', 'sqnr', '--calib', digits, '--calib-count', '50', '--eval-count', '200', '--check-count', '100', '-o', out, '--report', join(dir, 'r.json'));
    expect([0, 3]).toContain(run.code);
    expect(run.stderr).toMatch(/calibration 50, search 200, check 100 samples/);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(report.search.candidates.length).toBe(report.search.evaluations);
    expect(report.search.candidates[0].floatOps).toEqual([]);
    expect(report.search.pick.meets).toBe(report.search.candidates.some((c: { meets: boolean }) => c.meets));
    expect(report.search.check.quality.samples).toBe(100);
    expect(run.code).toBe(report.search.check.meets ? 0 : 3);
    expect(run.stdout).toMatch(/Check split \(unseen\): SQNR against the reference model's outputs: [\d.]+ dB \(95% interval/);
    expect(readFileSync(out).length).toBe(report.sizes.candidate.rawBytes);
    expect(cli('run', out).code).toBe(0);
    const bad = cli('search', model, '--budget', 'one', '--calib', digits, '-o', out);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--budget takes a number/);
    // The per-op table: int8 and 16x8 (int8 misses 44 dB, so the whole model is tried in 16x8).
    expect(report.search.sensitivity.some((r: { lossDb: Record<string, number> }) => r.lossDb.int8 !== undefined && r.lossDb.int16x8 !== undefined)).toBe(true);
    expect(run.stdout).toMatch(/SQNR lost across each op \(dB\), \d+ most sensitive of 6:\n\| op \|( int4 \|)? int8 \| int16x8/);

    // Objective both: every candidate timed, the front and the rule that chose the pick in the output and the report.
    const both = cli('search', model, '--budget', '30', '--metric', 'sqnr', '--objective', 'both', '--calib', digits, '--calib-count', '30', '--eval-count', '60', '--check-count', '30', '-o', out, '--report', join(dir, 'both.json'));
    expect(both.code).toBe(0);
    const bothReport = JSON.parse(readFileSync(join(dir, 'both.json'), 'utf8'));
    expect(bothReport.search.front.length).toBeGreaterThan(0);
    expect(bothReport.search.candidates.every((c: { latency?: { runs: number } }) => c.latency?.runs === 100)).toBe(true);
    expect(both.stdout).toMatch(/\| candidate \| bytes \| latency p10 \(median, min-p90\) \|/);
    expect(both.stdout).toMatch(/Chosen by objective both: of the \d+ candidate\(s\) on the size \/ latency front, the smallest whose latency \(10th percentile of 100 runs\) is within 10% of the fastest/);
    expect(cli('search', model, '--budget', '1', '--objective', 'speed', '--calib', digits, '-o', out).stderr).toMatch(/size, latency, both/);
  });

  it('float16, weight-int8, dynamic and dequantize from the command line; AEQ recipe files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-opt-'));
    const model = join(modelsDir, 'vww_96_float.tflite');
    for (const recipe of ['float16', 'weight-int8', 'dynamic']) {
      const out = join(dir, `${recipe}.tflite`);
      const { code, stderr } = cli('optimize', model, '--recipe', recipe, '-o', out);
      expect(code, stderr).toBe(0);
      expect(cli('run', out).code).toBe(0);
    }
    const aeq = join(dir, 'aeq.json');
    writeFileSync(aeq, JSON.stringify([{ regex: '.*', operation: '*', algorithm_key: 'float_casting', op_config: { weight_tensor_config: { num_bits: 16, dtype: 'FLOAT' }, compute_precision: 'FLOAT', explicit_dequantize: true } }]));
    const fromAeq = cli('optimize', model, '--recipe-file', aeq, '-o', join(dir, 'aeq.tflite'));
    expect(fromAeq.code, fromAeq.stderr).toBe(0);
    expect((JSON.parse(cli('inspect', join(dir, 'aeq.tflite'), '--json').stdout) as ModelSummary).quantization).toBe('float16');
    const dequantized = join(dir, 'dequantized.tflite');
    expect(cli('optimize', join(modelsDir, 'vww_96_int8.tflite'), '--recipe', 'dequantize', '-o', dequantized).code).toBe(0);
    expect((JSON.parse(cli('inspect', dequantized, '--json').stdout) as ModelSummary).quantization).toBe('float32');
  });

  it('bad inputs: no calibration data, an empty folder, a quantized model, an unknown op to keep float', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tflite-opt-'));
    const model = join(modelsDir, 'mnist_conv_fc_float.tflite');
    const cases: [ReturnType<typeof cli>, RegExp][] = [
      [cli('optimize', model, '--recipe', 'int8', '-o', join(dir, 'x.tflite')), /needs calibration data: pass --calib/],
      [cli('optimize', model, '--recipe', 'int8', '--calib', dir, '-o', join(dir, 'x.tflite')), /dataset is empty/],
      [cli('optimize', join(modelsDir, 'kws_dscnn_int8.tflite'), '--recipe', 'float16', '-o', join(dir, 'x.tflite')), /already quantized \(int8\).*dequantize/],
      [cli('optimize', model, '--recipe', 'float16', '--exclude', 'CONV_3X3', '-o', join(dir, 'x.tflite')), /Invalid recipe/],
    ];
    for (const [result, message] of cases) {
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n').pop()).toMatch(message);
    }
  });
});
