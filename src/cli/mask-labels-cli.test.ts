/**
 * `tflite-opt eval --masks` as a user runs it (a real process): DeepLab v3 on tflite-support's photo
 * with its golden mask (class x 10) in a masks folder inside the data folder. Refused at scale 1 with
 * the hint; at --mask-scale 10 the float model's and a float16 variant's mIoU against the mask equal
 * a brute-force confusion of LiteRT's argmax counted here. `search --masks` measures the float model
 * and the pick against the masks on both splits; and the refusals.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { loadModel } from '../runtime/load';
import { toFloat } from '../runtime/samples';
import { initRuntime } from '../runtime/start';
import { argmaxClasses, bruteMiou, DEEPLAB_CLASSES, DEEPLAB_GOLDEN, DEEPLAB_PHOTO, deeplabInput, goldenClasses } from '../test-support/deeplab-sample';
import { dataDir, modelsDir, readSharedModel, repoRoot } from '../test-support/shared';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const DEEPLAB = join(modelsDir, 'deeplabv3_257_float.tflite');
const dir = mkdtempSync(join(tmpdir(), 'mask-labels-cli-'));
const photos = join(dir, 'photos');
const masks = join(photos, 'masks');
const half = join(dir, 'deeplab-float16.tflite');
const NORMALIZE = ['--mean', '127.5', '--std', '127.5'];
let floatMiou = 0;
let halfMiou = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function litertArgmax(model: Uint8Array): Promise<number[]> {
  const runner = await loadModel(model);
  try {
    const [out] = await runner.run([deeplabInput()]);
    return argmaxClasses(toFloat(out.data, runner.outputs[0].quantization), DEEPLAB_CLASSES);
  } finally {
    runner.delete();
  }
}

beforeAll(async () => {
  mkdirSync(masks, { recursive: true });
  copyFileSync(DEEPLAB_PHOTO, join(photos, 'horse.jpg'));
  copyFileSync(DEEPLAB_GOLDEN, join(masks, 'horse.png'));
  await initRuntime();
  const deeplab = readSharedModel('deeplabv3_257_float.tflite');
  const halfBytes = (await optimizeModel({ model: deeplab, recipe: defaultRecipe('float16') })).bytes;
  writeFileSync(half, halfBytes);
  const golden = goldenClasses();
  floatMiou = bruteMiou(golden, await litertArgmax(deeplab), DEEPLAB_CLASSES);
  halfMiou = bruteMiou(golden, await litertArgmax(halfBytes), DEEPLAB_CLASSES);
}, 300_000);

describe('tflite-opt eval --masks', () => {
  it('DeepLab v3 against the golden mask: the hint at scale 1; at scale 10 the float model and a float16 variant equal the brute-force mIoU', () => {
    const unscaled = cli('eval', DEEPLAB, '--data', photos, ...NORMALIZE, '--masks', masks);
    expect(unscaled.code).toBe(1);
    expect(unscaled.stderr).toContain(`${masks}/horse.png: value 130 is no class of the model's 21 (0..20) at scale 1 (class 130; ignore value 255). The values look scaled: all are multiples of 10 (0, 130, 150); if they store class x 10, give --mask-scale 10.`);

    const self = cli('eval', DEEPLAB, '--data', photos, ...NORMALIZE, '--masks', masks, '--mask-scale', '10');
    expect(self.code, self.stderr).toBe(0);
    // The masks folder sits inside the data: its PNG is a label, not a second sample.
    expect(self.stderr).toContain(`note: masks from ${masks}: 1 image, values / 10, 0 pixels at 255 not counted: mIoU is measured against them`);
    const percent = `${(100 * floatMiou).toFixed(1)}%`;
    expect(self.stdout).toContain(`mIoU against the labels: ${percent} (95% interval ${percent} to ${percent}), 1 sample; the reference scores ${percent}.`);

    const variant = cli('eval', half, '--ref', DEEPLAB, '--data', photos, ...NORMALIZE, '--masks', masks, '--mask-scale', '10', '--json');
    expect(variant.code, variant.stderr).toBe(0);
    const quality = JSON.parse(variant.stdout).metrics.quality;
    console.log(`# float16 DeepLab via the CLI: mIoU vs the golden mask ${quality.value} (brute force ${halfMiou}), float ${quality.referenceValue} (brute force ${floatMiou})`);
    expect(quality).toMatchObject({ task: 'segmentation', metric: 'miou', against: 'labels', samples: 1 });
    expect(Math.abs(quality.value - halfMiou)).toBeLessThan(1e-12);
    expect(Math.abs(quality.referenceValue - floatMiou)).toBeLessThan(1e-12);
  }, 600_000);

  it('search --masks: the float model and the pick are measured against the masks on both splits', () => {
    // Three copies of the photo (calibration, search, check), each with its mask.
    for (const name of ['rider', 'third']) {
      copyFileSync(DEEPLAB_PHOTO, join(photos, `${name}.jpg`));
      copyFileSync(DEEPLAB_GOLDEN, join(masks, `${name}.png`));
    }
    const report = join(dir, 'search.json');
    const run = cli('search', DEEPLAB, '--budget', '100', '--calib', photos, ...NORMALIZE, '--calib-count', '1', '--eval-count', '1', '--check-count', '1', '--max-evaluations', '1', '--rounding', 'nearest', '--masks', masks, '--mask-scale', '10', '-o', join(dir, 'pick.tflite'), '--report', report);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('calibration 1, search 1, check 1 samples');
    expect(run.stdout).toContain('Check split (unseen): mIoU against the labels: ');
    const search = JSON.parse(readFileSync(report, 'utf8')).search;
    console.log(`# search on DeepLab: float mIoU vs masks ${search.floatQuality.value} (search split), pick ${search.check.quality.value} (check split)`);
    for (const q of [search.floatQuality, search.check.quality, search.check.floatQuality]) expect(q).toMatchObject({ task: 'segmentation', metric: 'miou', against: 'labels', samples: 1 });
    // Every split holds the same photo: the float model scores the brute-force value on each.
    expect(Math.abs(search.floatQuality.value - floatMiou)).toBeLessThan(1e-12);
    expect(Math.abs(search.check.floatQuality.value - floatMiou)).toBeLessThan(1e-12);
    expect(search.check.quality.referenceValue).toBe(search.check.floatQuality.value);
  }, 900_000);

  it('refuses a model that is not a segmenter, a missing mask, a bad value and --mask-scale alone', () => {
    const digits = cli('eval', join(modelsDir, 'mnist_conv_fc_float.tflite'), '--data', join(dataDir, 'mnist_t10k'), '--count', '10', '--masks', masks);
    expect(digits.code).toBe(1);
    expect(digits.stderr).toContain("--masks is for segmentation models (one [1, H, W, C] output): this model's outputs are [1, 10]");
    copyFileSync(DEEPLAB_PHOTO, join(photos, 'unmasked.jpg'));
    const missing = cli('eval', DEEPLAB, '--data', photos, ...NORMALIZE, '--masks', masks, '--mask-scale', '10');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No mask for image unmasked.jpg: expected ${masks}/unmasked.png.`);
    rmSync(join(photos, 'unmasked.jpg'));
    const ignoreNone = cli('eval', DEEPLAB, '--data', photos, ...NORMALIZE, '--masks', masks, '--mask-scale', '7');
    expect(ignoreNone.code).toBe(1);
    expect(ignoreNone.stderr).toContain(`value 130 is no class of the model's 21 (0..20) at scale 7 (not a multiple of the scale 7; ignore value 255).`);
    const alone = cli('eval', DEEPLAB, '--data', photos, ...NORMALIZE, '--mask-scale', '10');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--mask-scale and --mask-ignore say how to read --masks: give --masks DIR too.');
    const badIgnore = cli('eval', DEEPLAB, '--data', photos, ...NORMALIZE, '--masks', masks, '--mask-ignore', '70000');
    expect(badIgnore.code).toBe(2);
    expect(badIgnore.stderr).toContain('--mask-ignore takes a stored value 0..65535 or none, got "70000"');
  }, 600_000);
});
