/** `tflite-opt optimize --recipe CHAIN` as a user runs it (a real process), with real images. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir, modelsDir, repoRoot } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { weightReport } from './sparsity-report';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const model = join(modelsDir, 'mobilenet_v1_0.25_224_float.tflite');
const images = join(dataDir, 'imagenet_val_subset');

describe('tflite-opt optimize with a chain', () => {
  it('prunes, clusters and quantizes with calibration images, then reports sizes, checks and accuracy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chain-cli-'));
    const out = join(dir, 'out.tflite');
    const reportPath = join(dir, 'report.json');
    const data = ['--labels', join(images, 'labels.csv'), '--label-column', 'label_1001', '--mean', '127.5', '--std', '127.5'];
    const run = cli('optimize', model, '--recipe', 'prune:0.5+cluster:16:per-channel+int8', '-o', out, '--calib', images, '--calib-count', '4', ...data, '--eval', images, '--eval-count', '8', '--exclude', 'Conv2d_0', '--report', reportPath);
    expect(run.stderr).toMatch(/pruned 14 weight tensor/); // 15 CONV_2D minus the excluded first one
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/gzip of the input model/);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report.chain.checks).toMatchObject({ zerosLost: 0, clusterViolations: 0 });
    expect(report.chain.checks.maxDistinctClustered).toBeLessThanOrEqual(16);
    expect(report.metrics.classification.accuracy.labeled).toBe(8);
    const weights = weightReport(new Uint8Array(readFileSync(out))).weights;
    const first = weights.find((w) => w.name.includes('Conv2d_0/'))!;
    expect(first.sparsity).toBeLessThan(0.1); // excluded: not pruned
  });

  it('qat+int8 with --train alone calibrates on the training data (no --calib)', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'chain-cli-'));
    const out = join(dir, 'qat.tflite');
    const mnist = join(modelsDir, 'mnist_conv_fc_float.tflite');
    const digits = join(dataDir, 'mnist_t10k');
    const run = cli('optimize', mnist, '--recipe', 'qat+int8', '--train', digits, '--train-count', '64', '--epochs', '1', '--calib-count', '32', '--eval', digits, '--eval-offset', '5000', '--eval-count', '200', '--report', join(dir, 'r.json'), '-o', out);
    expect(run.code, run.stderr).toBe(0);
    // Drawn from the 64 digits trained on: --eval on the same folder from 5000 stays unseen.
    expect(run.stderr).toMatch(/calibrating on 32 samples drawn from the --train data \(its first 64, those trained on\) \(no --calib given\)/);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    // Against labels the model never trained on: the float MNIST model scores about 99%.
    expect(report.metrics.classification.accuracy.labeled).toBe(200);
    expect(report.metrics.classification.accuracy.candidate.top1).toBeGreaterThan(0.95);
    expect(report.plan.subgraphs[0].ops.every((op: { mode: string }) => op.mode === 'quantized')).toBe(true);
  });

  it('qat+int8 --weights int4 on --train alone: LSQ from the W4A8 PTQ model (or that model kept), int4 weights in the file', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'chain-cli-'));
    const out = join(dir, 'qat4.tflite');
    const mnist = join(modelsDir, 'mnist_conv_fc_float.tflite');
    const digits = join(dataDir, 'mnist_t10k');
    const run = cli('optimize', mnist, '--recipe', 'qat+int8', '--weights', 'int4', '--small-layers', 'int4', '--train', digits, '--train-count', '300', '--epochs', '2', '--lr', '1e-4', '--loss', 'distillation', '--calib-count', '50', '--eval', digits, '--eval-offset', '5000', '--eval-count', '200', '--report', join(dir, 'r.json'), '-o', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/calibrating on 50 samples drawn from the --train data \(its first 300, those trained on\) \(no --calib given\)/);
    // The PTQ start is plain W4A8's (GPTQ rounding); it is the result when no epoch beats it on validation.
    expect(run.stderr).toMatch(/note: (PTQ start: )?weights rounded by gptq/);
    expect(run.stderr).toMatch(/note: (QAT \(LSQ int4\) from the W4A8 PTQ model: 3 int4 weight tensor\(s\) with learned steps|QAT \(LSQ int4\) did not beat the W4A8 PTQ model)/);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(report.metrics.classification.accuracy.candidate.top1).toBeGreaterThan(0.95);
    const ops = report.plan.subgraphs[0].ops as { op: string; weights?: { bits: number } }[];
    expect(ops.filter((op) => op.weights?.bits === 4).length).toBe(3); // every CONV_2D and FULLY_CONNECTED weight: --small-layers int4 (by default the conv and the 10-way dense stay int8)
    expect(report.chain.lsq).toMatchObject({ int4Tensors: 3 });
    expect(['qat', 'ptq']).toContain(report.chain.lsq.kept);
    const int4 = readModel(new Uint8Array(readFileSync(out))).subgraphs[0].tensors.filter((t) => t.type === TensorType.INT4);
    expect(int4.length).toBe(3);
  });

  it('refuses a chain in an impossible order with one clear line', () => {
    const run = cli('optimize', model, '--recipe', 'int8+prune:0.5', '-o', join(tmpdir(), 'never.tflite'));
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('tflite-opt: Invalid chain: "prune" after "int8": int8 leaves integer or float16 weights, and pruning works on float weights; put it first (e.g. prune:0.5+int8).');
  });
});
