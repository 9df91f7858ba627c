/**
 * The CLI on float16-weight models and on results that are float-fallback failures, as a user runs it:
 * int8 of a MediaPipe model quantizes its ops and shrinks; a result that grows exits non-zero, says
 * why in one line and still writes the report, unless --allow-float-fallback; dequantize turns
 * float16 weights into float32 constants. Checked on the written files with our reader and LiteRT.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../data/npy';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { dataDir, modelsDir, repoRoot } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { quantizationState, summarizeModel } from '../tflite/summary';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the file in LiteRT on a seeded input; returns the outputs' bytes. */
async function runsInLiteRt(path: string): Promise<Buffer[]> {
  const model = await loadModel(new Uint8Array(readFileSync(path)));
  try {
    const outputs = await model.run(randomInputs(model, 3));
    expect(outputs.length).toBeGreaterThan(0);
    return outputs.map((o) => Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength));
  } finally {
    model.delete();
  }
}

describe('tflite-opt on float16-weight models and float-fallback failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fallback-cli-'));
  beforeAll(() => initRuntime());

  it('int8 of face_detection_short_range_fp16 quantizes every op and is smaller than the float16 input', async () => {
    const input = join(modelsDir, 'face_detection_short_range_fp16.tflite');
    const out = join(dir, 'face-int8.tflite');
    const report = join(dir, 'face-int8.json');
    const run = cli('optimize', input, '--recipe', 'int8', '--calib', join(dataDir, 'sample_images'), '--mean', '127.5', '--std', '127.5', '-o', out, '--report', report);
    expect(run.code, run.stderr).toBe(0);
    const summary = summarizeModel(new Uint8Array(readFileSync(out)));
    expect(summary.quantization).toBe('int8');
    // Only the float input and the two float outputs convert; every DEQUANTIZE of a weight is gone.
    expect(summary.ops.QUANTIZE).toBe(1);
    expect(summary.ops.DEQUANTIZE).toBe(2);
    expect(summary.bytes / readFileSync(input).length).toBeLessThan(0.75);
    const written = JSON.parse(readFileSync(report, 'utf8'));
    expect(written.floatOps).toEqual([]);
    expect(written.failure).toBeUndefined();
    await runsInLiteRt(out);
  });

  it('a result larger than its input exits 1 with the reason and a report, and is written with --allow-float-fallback', async () => {
    const input = join(modelsDir, 'hello_world_sine_float.tflite');
    const calib = join(dir, 'x.npy');
    writeFileSync(calib, writeNpy({ dtype: 'float32', shape: [8, 1], data: Float32Array.from({ length: 8 }, (_, i) => i * 0.8) }));
    const out = join(dir, 'sine-int8.tflite');
    const report = join(dir, 'sine-int8.json');
    const refused = cli('optimize', input, '--recipe', 'int8', '--calib', calib, '-o', out, '--report', report);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toMatch(/int8 failed: the result \(\d+ bytes\) is larger than the input \(3164 bytes\).*--allow-float-fallback/);
    expect(existsSync(out)).toBe(false);
    const written = JSON.parse(readFileSync(report, 'utf8'));
    expect(written.failure).toMatch(/larger than the input/);
    expect(written).toMatchObject({ format: 'tflite-workbench/report', model: { name: out, reference: input }, output: null, recipe: { technique: 'int8' }, hint: expect.stringMatching(/--allow-float-fallback/) });
    const kept = cli('optimize', input, '--recipe', 'int8', '--calib', calib, '-o', out, '--allow-float-fallback');
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).toMatch(/kept although it is a failure \(float fallback allowed\)/);
    await runsInLiteRt(out);
  });

  it('dequantize turns float16 weights into float32 constants with no DEQUANTIZE left, computing the same outputs', async () => {
    const input = join(modelsDir, 'pose_landmark_lite_fp16.tflite');
    const out = join(dir, 'pose-f32.tflite');
    const run = cli('optimize', input, '--recipe', 'dequantize', '-o', out);
    expect(run.code, run.stderr).toBe(0);
    const graph = readModel(new Uint8Array(readFileSync(out)));
    expect(quantizationState(graph)).toBe('float32');
    expect(summarizeModel(new Uint8Array(readFileSync(out))).ops.DEQUANTIZE).toBeUndefined();
    // float16 -> float32 is exact, so LiteRT computes bit-identical outputs from either file.
    expect(await runsInLiteRt(out)).toEqual(await runsInLiteRt(input));
  });
});
