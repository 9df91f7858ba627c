/**
 * `tflite-opt eval` beyond top-1, as a user runs it (a real process): per-class figures of MNIST
 * against the labels of the IDX file (read here independently), and BlazeFace's raw head measured
 * with an anchors file from our SSD anchor generator.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { anchorsToCsv } from '../evaluate/anchors';
import { dataDir, modelsDir, repoRoot } from '../test-support/shared';
import { BLAZE_FACE_SHORT_RANGE, ssdAnchors } from '../test-support/ssd-anchors';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'eval-measures-'));

describe('tflite-opt eval: per class', () => {
  it('MNIST int8 vs float: worst classes and confusions printed, per-class counts in the report equal the labels', () => {
    const report = join(dir, 'mnist.json');
    const run = cli('eval', join(modelsDir, 'mnist_conv_fc_int8.tflite'), '--ref', join(modelsDir, 'mnist_conv_fc_float.tflite'), '--data', join(dataDir, 'mnist_t10k'), '--count', '300', '--report', report);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Per class (truth: the label; 10 of 10 classes have samples). Worst recall:');
    expect(run.stdout).toMatch(/\| 6 \| 24 \| 22\/24 = 91\.7% \(\d+\.\d%-\d+\.\d%\) \| /);
    expect(run.stdout).toMatch(/Top confusions \(truth -> predicted: samples\): \d -> \d: 1/);
    const labels = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-labels-idx1-ubyte.gz'))).subarray(8, 8 + 300);
    const written = JSON.parse(readFileSync(report, 'utf8'));
    const perClass = written.metrics.perClass;
    expect(perClass.against).toBe('labels');
    expect(perClass.perClass.map((c: { samples: number }) => c.samples)).toEqual(Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length));
    // The sparse matrix holds every sample once.
    expect(perClass.matrix.reduce((n: number, [, , k]: number[]) => n + k, 0)).toBe(300);
  }, 300_000);
});

describe('tflite-opt eval / search: raw detection heads with --anchors', () => {
  const model = join(modelsDir, 'face_detection_short_range_fp16.tflite');
  const anchors = ssdAnchors(BLAZE_FACE_SHORT_RANGE);
  const good = join(dir, 'face-anchors.csv');
  const wrong = join(dir, 'wrong-anchors.csv');
  writeFileSync(good, anchorsToCsv(anchors));
  writeFileSync(wrong, anchorsToCsv({ ...anchors, count: 800 }));
  const faceData = ['--data', join(dataDir, 'imagenet_val_subset'), '--count', '60', '--mean', '127.5', '--std', '127.5'];

  it('a dynamic-range BlazeFace: mAP@0.5 against the float model above 0.8 in the JSON report', () => {
    const dynamic = join(dir, 'face-dynamic.tflite');
    expect(cli('optimize', model, '--recipe', 'dynamic', '-o', dynamic).code).toBe(0);
    const run = cli('eval', dynamic, '--ref', model, ...faceData, '--anchors', good, '--box-coder', 'mediapipe-face', '--json');
    expect(run.code, run.stderr).toBe(0);
    const quality = JSON.parse(run.stdout).metrics.quality;
    expect(quality).toMatchObject({ task: 'detection', metric: 'map', against: 'reference', samples: 60 });
    expect(quality.value).toBeGreaterThan(0.8);
    // The float model against itself: every face it found is found again. The Markdown names the
    // measure and leaves out a top-1 agreement over anchor rows.
    const self = cli('eval', model, ...faceData, '--anchors', good, '--box-coder', 'mediapipe-face');
    expect(self.stdout).toContain("mAP@0.5 against the reference model's outputs: 100.0% (95% interval 100.0% to 100.0%), 60 samples.");
    expect(self.stdout).not.toContain('Top-1 agreement');
  }, 300_000);

  it('refuses a wrong anchor count naming the expected one, and decoding flags without --anchors', () => {
    const run = cli('eval', model, ...faceData, '--anchors', wrong, '--box-coder', 'mediapipe-face');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The anchors file lists 800 anchors');
    expect(run.stderr).toContain('the anchors file must list 896 anchors');
    const usage = cli('eval', model, '--data', 'x', '--box-order', 'xywh');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--box-order is for decoding a raw detection head: give its anchors with --anchors A.csv.');
    const scale = cli('eval', model, '--data', 'x', '--anchors', good, '--box-scale', '1,2');
    expect(scale.code).toBe(2);
    expect(scale.stderr).toContain('--box-scale takes one positive number or four (Y,X,H,W), got "1,2".');
  }, 300_000);
});
