/**
 * Box labels in real LiteRT (issue #14 item 4): SSD MobileNet V1 (TFLite_Detection_PostProcess) on
 * shared photos. The model's own detections scoring >= 0.5 are written as a boxes.csv beside the
 * photos; opened as the page opens a folder, the model measured against those labels scores mAP 1,
 * and a dynamic-range variant's mAP against them equals its mAP against the float model's detections
 * (the reference path, quality.ts asGroundTruth): the CSV, its parser and the data set's boxes are
 * one path, the in-memory detections the other.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesFromPath } from '../data/files-node';
import { compareModels } from '../evaluate/compare';
import { asGroundTruth, decodePostProcessed, type GroundTruth } from '../evaluate/detection';
import { dequantizeBytes, optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { loadModel } from '../runtime/load';
import { toFloat, toModelInputs } from '../runtime/samples';
import { initRuntime } from '../runtime/start';
import { dataDir, readSharedModel } from '../test-support/shared';
import { evaluateCandidate } from './evaluate-candidate';
import { datasetInfo } from './open-dataset';
import { Session } from './session';
import { splitIndices } from './split';
import { samplesOf } from './yielding-samples';
import type { Split } from './worker-protocol';

const SSD = 'ssd_mobilenet_v1_coco_quant_uint8.tflite';
const dir = mkdtempSync(join(tmpdir(), 'box-labels-'));
const noProgress = () => {};

/** The rows of a boxes.csv; numbers as JavaScript prints them, which read back as the same doubles. */
function boxesCsv(truths: Map<string, GroundTruth[]>): string {
  const rows = ['file,class,ymin,xmin,ymax,xmax'];
  for (const [file, list] of truths) for (const t of list) rows.push([file, t.classId, t.ymin, t.xmin, t.ymax, t.xmax].join(','));
  return `${rows.join('\n')}\n`;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('box labels with SSD MobileNet in LiteRT', () => {
  const session = new Session();
  const ssd = readSharedModel(SSD);
  let truths: Map<string, GroundTruth[]>;

  beforeAll(async () => {
    await initRuntime();
    const photos = ['burger.jpg', 'cats_and_dogs.jpg', 'grace_hopper.jpg', 'multi_objects.jpg'].map((f) => join(dataDir, 'sample_images', f));
    const imagenet = join(dataDir, 'imagenet_val_subset', 'images');
    photos.push(...readdirSync(imagenet).sort().slice(0, 26).map((f) => join(imagenet, f)));
    for (const path of photos) copyFileSync(path, join(dir, path.split('/').pop()!));
    // The float model's detections (the model itself: it is the float reference here), as the
    // workbench feeds it: the data set read from the folder with the model's preprocessing.
    const model = session.openModel(ssd, SSD);
    const d = await session.openDataset(await filesFromPath(dir), model.preprocessing?.preprocessing ?? null);
    const runner = await loadModel(ssd);
    truths = new Map();
    try {
      for (let i = 0; i < d.size; i++) {
        const out = (await runner.run(toModelInputs(await d.sample(i), runner.inputs, i))).map((o, k) => toFloat(o.data, runner.outputs[k].quantization).slice());
        truths.set(d.names[i], asGroundTruth(decodePostProcessed(out[0], out[1], out[2], out[3])));
      }
    } finally {
      runner.delete();
    }
  }, 300_000);

  it('a boxes.csv of its own detections: mAP 1 through the labels path; a dynamic variant equals its mAP against the float detections', { timeout: 900_000 }, async () => {
    // The post-processing op does not clip its boxes: a few overshoot [0, 1] by a hair, which a
    // labels file may not. The parser refuses them naming the line; those photos are left out, so
    // both paths see the very same boxes.
    const outside = [...truths].filter(([, list]) => list.some((t) => [t.ymin, t.xmin, t.ymax, t.xmax].some((v) => v < 0 || v > 1)));
    expect(outside.length).toBeGreaterThan(0);
    writeFileSync(join(dir, 'boxes.csv'), boxesCsv(truths));
    await expect(session.openDataset(await filesFromPath(dir), session.model!.preprocessing?.preprocessing ?? null)).rejects.toThrow(/^boxes\.csv: line \d+: (ymin|xmin|ymax|xmax) -?[\d.e-]+ is outside \[0, 1\]/);
    for (const [file] of outside) {
      unlinkSync(join(dir, file));
      truths.delete(file);
    }
    writeFileSync(join(dir, 'boxes.csv'), boxesCsv(truths));
    const d = await session.openDataset(await filesFromPath(dir), session.model!.preprocessing?.preprocessing ?? null);
    const boxes = [...truths.values()].reduce((n, list) => n + list.length, 0);
    const images = [...truths.values()].filter((list) => list.length > 0).length;
    expect(d.size).toBe(truths.size);
    expect(images).toBeLessThan(d.size); // some photos have no detection: no rows, no objects
    expect(datasetInfo(d).boxLabels).toEqual({ name: 'boxes.csv', boxes, images });
    expect(d.notes).toContain(`Box labels from boxes.csv: ${boxes} boxes on ${images} of ${d.size} images: detection variants are measured by mAP@0.5 against them.`);
    expect(d.notes.join(' ')).not.toMatch(/Ignored/);

    const split: Split = { calibration: 0, evaluation: d.size };
    const self = (await evaluateCandidate(session, ssd, split, noProgress)).comparison.quality!;
    expect(self).toMatchObject({ task: 'detection', metric: 'map', against: 'labels', value: 1, referenceValue: 1, interval: [1, 1], referenceInterval: [1, 1], samples: d.size });

    const variant = (await optimizeModel({ model: dequantizeBytes(ssd).bytes, recipe: defaultRecipe('dynamic') })).bytes;
    const vsLabels = (await evaluateCandidate(session, variant, split, noProgress)).comparison.quality!;
    const evaluation = splitIndices(d, split).evaluation;
    const vsFloat = (await compareModels(ssd, variant, samplesOf(d, evaluation), { quality: {}, total: evaluation.length })).quality!;
    console.log(`# dynamic SSD on ${d.size} photos (${boxes} boxes on ${images}): mAP@0.5 vs labels ${vsLabels.value} [${vsLabels.interval.join(', ')}], vs float detections ${vsFloat.value}`);
    expect(vsLabels).toMatchObject({ against: 'labels', referenceValue: 1, samples: d.size });
    expect(vsFloat).toMatchObject({ against: 'reference', samples: d.size });
    expect(Math.abs(vsLabels.value - vsFloat.value)).toBeLessThan(1e-9);
    expect(Math.abs(vsLabels.interval[0] - vsFloat.interval[0])).toBeLessThan(1e-9);
    expect(Math.abs(vsLabels.interval[1] - vsFloat.interval[1])).toBeLessThan(1e-9);
    // Not a trivial 1: the variant misses or misplaces some of the float model's boxes.
    expect(vsLabels.value).toBeLessThan(1);
    expect(vsLabels.value).toBeGreaterThan(0.8);
  });

  it('a classifier ignores a boxes.csv in its data, saying so', async () => {
    const classifier = new Session();
    const model = classifier.openModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'), 'mobilenet.tflite');
    const d = await classifier.openDataset(await filesFromPath(dir), model.preprocessing?.preprocessing ?? null);
    expect(d.boxLabels).toBeUndefined();
    expect(d.notes).toContain('Ignored boxes.csv: box labels are for detectors, and this model has neither a TFLite_Detection_PostProcess op nor a raw box head.');
  });
});
