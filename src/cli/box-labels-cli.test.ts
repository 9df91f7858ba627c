/**
 * `tflite-opt eval --box-labels` as a user runs it (a real process): SSD MobileNet's own detections
 * on shared photos, found here in LiteRT, written as a boxes.csv; the model measured against them
 * scores mAP 1, a dynamic-range variant the same against them as against the float detections;
 * `search --box-labels` measures the float model and the pick against them on both splits; and the
 * refusals (not a detector, a raw head without anchors, a bad line, a missing file).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asGroundTruth, decodePostProcessed } from '../evaluate/detection';
import { dequantizeBytes, optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { loadModel } from '../runtime/load';
import { toFloat, toModelInputs } from '../runtime/samples';
import { initRuntime } from '../runtime/start';
import { dataDir, modelsDir, readSharedModel, repoRoot } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { dataFlags, openDataFlags } from './data-options';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SSD = join(modelsDir, 'ssd_mobilenet_v1_coco_quant_uint8.tflite');
const dir = mkdtempSync(join(tmpdir(), 'box-labels-cli-'));
const photos = join(dir, 'photos');
const boxes = join(dir, 'labels', 'boxes.csv');
const variant = join(dir, 'ssd-dynamic.tflite');
const floatTwin = join(dir, 'ssd-float.tflite');
let images = 0;
let boxCount = 0;
let labelled = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(photos);
  mkdirSync(join(dir, 'labels'));
  const imagenet = join(dataDir, 'imagenet_val_subset', 'images');
  const sources = [...['burger.jpg', 'cats_and_dogs.jpg', 'grace_hopper.jpg', 'multi_objects.jpg'].map((f) => join(dataDir, 'sample_images', f)), ...readdirSync(imagenet).sort().slice(0, 10).map((f) => join(imagenet, f))];
  for (const path of sources) copyFileSync(path, join(photos, path.split('/').pop()!));
  // The detections on the inputs the CLI feeds (its own data reader and preprocessing).
  await initRuntime();
  const ssd = readSharedModel('ssd_mobilenet_v1_coco_quant_uint8.tflite');
  const d = await openDataFlags(readModel(ssd), dataFlags(photos, {}));
  const model = await loadModel(ssd);
  const rows = ['file,class,ymin,xmin,ymax,xmax'];
  try {
    for (let i = 0; i < d.size; i++) {
      const out = (await model.run(toModelInputs(await d.sample(i), model.inputs, i))).map((o, k) => toFloat(o.data, model.outputs[k].quantization).slice());
      const found = asGroundTruth(decodePostProcessed(out[0], out[1], out[2], out[3]));
      // Boxes a hair outside [0, 1] (the op does not clip) cannot be labels: leave that photo out.
      if (found.some((t) => [t.ymin, t.xmin, t.ymax, t.xmax].some((v) => v < 0 || v > 1))) {
        rmSync(join(photos, d.names[i]));
        continue;
      }
      images++;
      if (found.length) labelled++;
      boxCount += found.length;
      for (const t of found) rows.push([d.names[i], t.classId, t.ymin, t.xmin, t.ymax, t.xmax].join(','));
    }
  } finally {
    model.delete();
  }
  writeFileSync(boxes, `${rows.join('\n')}\n`);
  const float = dequantizeBytes(ssd).bytes;
  writeFileSync(floatTwin, float);
  writeFileSync(variant, (await optimizeModel({ model: float, recipe: defaultRecipe('dynamic') })).bytes);
}, 300_000);

describe('tflite-opt eval --box-labels', () => {
  it('SSD MobileNet against its own detections as labels: mAP 1; a dynamic variant equal against labels and against the float detections', () => {
    expect(images).toBeGreaterThanOrEqual(10);
    const self = cli('eval', SSD, '--data', photos, '--box-labels', boxes);
    expect(self.code, self.stderr).toBe(0);
    expect(self.stderr).toContain(`note: box labels from boxes.csv: ${boxCount} boxes on ${labelled} of ${images} images: mAP@0.5 is measured against them`);
    expect(self.stdout).toContain(`mAP@0.5 against the labels: 100.0% (95% interval 100.0% to 100.0%), ${images} samples; the reference scores 100.0%.`);

    const vsLabels = cli('eval', variant, '--ref', SSD, '--data', photos, '--box-labels', boxes, '--json');
    const vsFloat = cli('eval', variant, '--ref', SSD, '--data', photos, '--json');
    expect(vsLabels.code, vsLabels.stderr).toBe(0);
    expect(vsFloat.code, vsFloat.stderr).toBe(0);
    const labelsQuality = JSON.parse(vsLabels.stdout).metrics.quality;
    const floatQuality = JSON.parse(vsFloat.stdout).metrics.quality;
    console.log(`# dynamic SSD via the CLI on ${images} photos: mAP@0.5 vs labels ${labelsQuality.value}, vs float ${floatQuality.value}`);
    expect(labelsQuality).toMatchObject({ task: 'detection', metric: 'map', against: 'labels', referenceValue: 1, samples: images });
    expect(floatQuality).toMatchObject({ against: 'reference', samples: images });
    expect(Math.abs(labelsQuality.value - floatQuality.value)).toBeLessThan(1e-9);
    expect(labelsQuality.value).toBeGreaterThan(0.8);
  }, 600_000);

  it('search --box-labels: the float model and the pick are measured against the labels on both splits', () => {
    const report = join(dir, 'search.json');
    const run = cli('search', floatTwin, '--budget', '100', '--calib', photos, '--calib-count', '2', '--eval-count', '4', '--check-count', '4', '--max-evaluations', '1', '--rounding', 'nearest', '--box-labels', boxes, '-o', join(dir, 'pick.tflite'), '--report', report);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Check split (unseen): mAP@0.5 against the labels: ');
    const search = JSON.parse(readFileSync(report, 'utf8')).search;
    console.log(`# search on the dequantized SSD: float mAP vs labels ${search.floatQuality.value} (search split), pick ${search.check.quality.value} (check split, float ${search.check.floatQuality.value})`);
    for (const q of [search.floatQuality, search.check.quality, search.check.floatQuality]) expect(q).toMatchObject({ task: 'detection', metric: 'map', against: 'labels', samples: 4 });
    // The float model is the search's reference: its value is the labels' reference value.
    expect(search.floatQuality.value).toBe(search.floatQuality.referenceValue);
    expect(search.check.floatQuality.value).toBe(search.check.quality.referenceValue);
    // The labels are the uint8 model's boxes, not this float twin's: against them the twin itself misses
    // some on the check split (against its own detections it would score 1 by construction).
    expect(search.check.floatQuality.value).toBeLessThan(1);
  }, 600_000);

  it('refuses a model that is not a detector, a raw head without anchors, a bad line and a missing file', () => {
    const digits = cli('eval', join(modelsDir, 'mnist_conv_fc_float.tflite'), '--data', join(dataDir, 'mnist_t10k'), '--count', '10', '--box-labels', boxes);
    expect(digits.code).toBe(1);
    expect(digits.stderr).toContain('--box-labels is for detectors: this model has no TFLite_Detection_PostProcess op and no raw box head (outputs [1, 10])');
    const search = cli('search', join(modelsDir, 'mnist_conv_fc_float.tflite'), '--budget', '1', '--calib', join(dataDir, 'mnist_t10k'), '-o', join(dir, 'pick.tflite'), '--box-labels', boxes);
    expect(search.code).toBe(1);
    expect(search.stderr).toContain('--box-labels is for detectors');
    const face = cli('eval', join(modelsDir, 'face_detection_short_range_fp16.tflite'), '--data', photos, '--mean', '127.5', '--std', '127.5', '--box-labels', boxes);
    expect(face.code).toBe(1);
    expect(face.stderr).toContain("--box-labels needs the detections decoded: this model's raw head (outputs [1, 896, 16], [1, 896, 1]) needs its anchors too, give --anchors A.csv");
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'file,class,ymin,xmin,ymax,xmax\ngrace_hopper.jpg,0,0.1,0.1,0.9,0.9\nnope.jpg,0,0,0,1,1\n');
    const badRun = cli('eval', SSD, '--data', photos, '--box-labels', bad);
    expect(badRun.code).toBe(1);
    expect(badRun.stderr).toContain("bad.csv: line 3: 'nope.jpg' is not in the data set");
    const missing = cli('eval', SSD, '--data', photos, '--box-labels', join(dir, 'none.csv'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read the box labels ${join(dir, 'none.csv')}: no such file`);
  }, 300_000);
});
