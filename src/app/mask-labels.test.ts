/**
 * Segmentation masks in real LiteRT (issue #14 item 4): DeepLab v3 on tflite-support's sample photo
 * with its golden mask (stored as class x 10) in a masks/ folder beside the photo, opened as the page
 * opens a folder. The mIoU against the masks must equal a confusion counted here, independently:
 * the photo decoded and normalized by hand, run in LiteRT, argmax per pixel, compared with the
 * golden PNG's values / 10, IoU per class present.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesFromPath } from '../data/files-node';
import { optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { loadModel } from '../runtime/load';
import { toFloat } from '../runtime/samples';
import { initRuntime } from '../runtime/start';
import { argmaxClasses, bruteMiou, DEEPLAB_CLASSES, DEEPLAB_GOLDEN, DEEPLAB_PHOTO, deeplabInput, goldenClasses } from '../test-support/deeplab-sample';
import { readSharedModel } from '../test-support/shared';
import { evaluateCandidate } from './evaluate-candidate';
import { datasetInfo } from './open-dataset';
import { Session } from './session';
import type { Split } from './worker-protocol';

const DEEPLAB = 'deeplabv3_257_float.tflite';
const dir = mkdtempSync(join(tmpdir(), 'mask-labels-'));
const noProgress = () => {};

/** Per-pixel argmax of the model's [1, 257, 257, 21] scores, from LiteRT. */
async function litertArgmax(model: Uint8Array): Promise<number[]> {
  const runner = await loadModel(model);
  try {
    const [out] = await runner.run([deeplabInput()]);
    return argmaxClasses(toFloat(out.data, runner.outputs[0].quantization), DEEPLAB_CLASSES);
  } finally {
    runner.delete();
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segmentation masks with DeepLab v3 in LiteRT', () => {
  const session = new Session();
  const deeplab = readSharedModel(DEEPLAB);
  const golden = goldenClasses();

  beforeAll(async () => {
    await initRuntime();
    copyFileSync(DEEPLAB_PHOTO, join(dir, 'horse.jpg'));
    mkdirSync(join(dir, 'masks'));
    copyFileSync(DEEPLAB_GOLDEN, join(dir, 'masks', 'horse.png'));
  }, 120_000);

  it('masks/ is not a sample; stored as class x 10 it is refused at scale 1 with the hint, and read at scale 10', { timeout: 120_000 }, async () => {
    const model = session.openModel(deeplab, DEEPLAB);
    const d = await session.openDataset(await filesFromPath(dir), model.preprocessing!.preprocessing);
    expect(d.size).toBe(1);
    expect(d.names).toEqual(['horse.jpg']);
    expect(d.maskLabels).toBeUndefined();
    expect(datasetInfo(d).maskProblem).toBe(
      "masks/horse.png: value 130 is no class of the model's 21 (0..20) at scale 1 (class 130; ignore value 255). The values look scaled: all are multiples of 10 (0, 130, 150); if they store class x 10, set the mask scale to 10.",
    );
    const scaled = await session.reopenDataset(undefined, undefined, 10);
    expect(datasetInfo(scaled)).toMatchObject({ maskProblem: null, masks: { name: 'masks', images: 1, scale: 10, ignore: 255, ignoredPixels: 0, resized: 0, grid: [257, 257] } });
    expect(scaled.notes).toContain('Masks from masks: 1 image, values / 10, 0 pixels at 255 not counted: segmentation variants are measured by mIoU against them.');
    expect(Array.from(scaled.maskLabels!.perSample[0])).toEqual(golden);
  });

  it('mIoU against the masks equals a brute-force confusion of the LiteRT argmax, for the float model and a float16 variant', { timeout: 600_000 }, async () => {
    const split: Split = { calibration: 0, evaluation: 1 };
    const floatMask = await litertArgmax(deeplab);
    const differing = floatMask.filter((c, p) => c !== golden[p]).length / golden.length;
    // The sample's README: 0.46% of pixels differ from the golden mask.
    expect(differing).toBeGreaterThan(0.0045);
    expect(differing).toBeLessThan(0.0047);
    const floatMiou = bruteMiou(golden, floatMask, DEEPLAB_CLASSES);

    const self = (await evaluateCandidate(session, deeplab, split, noProgress)).comparison.quality!;
    expect(self).toMatchObject({ task: 'segmentation', metric: 'miou', against: 'labels', samples: 1 });
    expect(Math.abs(self.value - floatMiou)).toBeLessThan(1e-12);
    expect(self.referenceValue).toBe(self.value);

    const half = (await optimizeModel({ model: deeplab, recipe: defaultRecipe('float16') })).bytes;
    const halfMiou = bruteMiou(golden, await litertArgmax(half), DEEPLAB_CLASSES);
    const variant = (await evaluateCandidate(session, half, split, noProgress)).comparison.quality!;
    console.log(`# DeepLab v3 vs golden mask (x10): ${(100 * differing).toFixed(2)}% pixels differ; mIoU float ${self.value}, float16 ${variant.value} (brute force ${floatMiou}, ${halfMiou})`);
    expect(variant).toMatchObject({ against: 'labels', samples: 1 });
    expect(Math.abs(variant.value - halfMiou)).toBeLessThan(1e-12);
    expect(Math.abs(variant.referenceValue! - floatMiou)).toBeLessThan(1e-12);
    expect(variant.value).toBeGreaterThan(0.95);
  });

  it('a missing mask is refused naming the image; a classifier reads masks/ as it always did (images)', { timeout: 120_000 }, async () => {
    copyFileSync(DEEPLAB_PHOTO, join(dir, 'rider.jpg'));
    const d = await session.openDataset(await filesFromPath(dir), session.model!.preprocessing!.preprocessing);
    expect(d.size).toBe(2);
    expect(datasetInfo(d).maskProblem).toBe('No mask for image rider.jpg: expected masks/rider.png.');
    rmSync(join(dir, 'rider.jpg'));

    const classifier = new Session();
    const model = classifier.openModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'), 'mobilenet.tflite');
    const c = await classifier.openDataset(await filesFromPath(dir), model.preprocessing?.preprocessing ?? null);
    expect(c.names).toEqual(['horse.jpg', 'masks/horse.png']);
    expect(c.maskLabels).toBeUndefined();
  });
});
