/**
 * Quality measures: the pure parts against hand-worked and brute-force values, then the real
 * models: DeepLab v3 against tflite-support's golden mask, SSD MobileNet with its post-processing op.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as decodeJpeg } from 'jpeg-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../data/image-decode';
import { initRuntime } from '../runtime/start';
import { loadModel } from '../runtime/load';
import { toFloat, toModelInputs } from '../runtime/samples';
import { dataDir, readSharedModel, seededRandom } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { dequantizeBytes, optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { compareModels } from './compare';
import { bootstrapInterval } from './confidence';
import { averagePrecision, decodePostProcessed, iou, meanAveragePrecision, type Detection } from './detection';
import { checkMetric, inferTask, newQualityAccumulator } from './quality';
import { argmaxMask, confusion, meanIou } from './segmentation';

describe('bootstrap interval (Wilson is tested in confidence.test.ts)', () => {
  it('bootstrap: seeded, brackets the mean, and narrows with more samples', () => {
    const random = seededRandom(3);
    const values = (n: number) => Float64Array.from({ length: n }, () => random());
    const mean = (v: Float64Array) => (idx: Uint32Array) => idx.reduce((s, i) => s + v[i], 0) / idx.length;
    const small = values(40);
    const large = values(1000);
    const a = bootstrapInterval(small.length, mean(small));
    expect(bootstrapInterval(small.length, mean(small))).toEqual(a);
    const m = small.reduce((s, x) => s + x, 0) / small.length;
    expect(a[0]).toBeLessThan(m);
    expect(a[1]).toBeGreaterThan(m);
    const b = bootstrapInterval(large.length, mean(large));
    expect(b[1] - b[0]).toBeLessThan((a[1] - a[0]) / 3);
    // Uniform(0, 1): standard error of the mean of 1,000 is 0.0091, so the 95% width is about 0.036.
    expect(b[1] - b[0]).toBeGreaterThan(0.025);
    expect(b[1] - b[0]).toBeLessThan(0.05);
  });
});

const box = (ymin: number, xmin: number, ymax: number, xmax: number) => ({ ymin, xmin, ymax, xmax });
const det = (classId: number, score: number, b = box(0, 0, 1, 1)): Detection => ({ ...b, classId, score });

describe('detection mAP', () => {
  it('IoU of overlapping, nested and disjoint boxes', () => {
    expect(iou(box(0, 0, 1, 1), box(0, 0, 1, 1))).toBe(1);
    expect(iou(box(0, 0, 1, 1), box(0, 0.5, 1, 1.5))).toBeCloseTo(1 / 3, 12);
    expect(iou(box(0, 0, 1, 1), box(0.25, 0.25, 0.75, 0.75))).toBeCloseTo(0.25, 12);
    expect(iou(box(0, 0, 1, 1), box(2, 2, 3, 3))).toBe(0);
  });

  it('AP by hand: hits at ranks 1 and 3 of 2 truths is 1*0.5 + (2/3)*0.5', () => {
    expect(averagePrecision([1, 0, 1], 2)).toBeCloseTo(0.5 + (2 / 3) * 0.5, 12);
    // A miss ranked first: the envelope takes the later, better precision.
    expect(averagePrecision([0, 1, 1], 2)).toBeCloseTo(2 / 3, 12);
    expect(averagePrecision([1, 1], 4)).toBeCloseTo(0.5, 12);
  });

  it('matches a brute-force evaluation on random scenes', () => {
    const random = seededRandom(11);
    const randomBox = () => {
      const y = random() * 0.8;
      const x = random() * 0.8;
      return box(y, x, y + 0.1 + random() * 0.2, x + 0.1 + random() * 0.2);
    };
    const truths = Array.from({ length: 20 }, () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({ ...randomBox(), classId: Math.floor(random() * 3) })));
    // Detections: each truth found with a jittered box (sometimes), plus clutter.
    const detections = truths.map((list) => [
      ...list.filter(() => random() < 0.8).map((t) => ({ ...t, ymin: t.ymin + (random() - 0.5) * 0.08, xmin: t.xmin + (random() - 0.5) * 0.08, score: random() })),
      ...Array.from({ length: Math.floor(random() * 3) }, () => ({ ...randomBox(), classId: Math.floor(random() * 3), score: random() * 0.7 })),
    ]);
    const result = meanAveragePrecision(detections, truths);
    // Brute force: for each class, precision at every recall level from scratch.
    const aps: number[] = [];
    for (const c of [0, 1, 2]) {
      const all = detections.flatMap((list, image) => list.filter((d) => d.classId === c).map((d) => ({ d, image }))).sort((a, b) => b.d.score - a.d.score);
      const gt = truths.map((list) => list.filter((t) => t.classId === c));
      const total = gt.reduce((n, l) => n + l.length, 0);
      if (!total) continue;
      const used = gt.map((l) => l.map(() => false));
      const hit = all.map(({ d, image }) => {
        let best = -1;
        let bestIou = 0.5;
        gt[image].forEach((t, j) => {
          const v = iou(d, t);
          if (!used[image][j] && v >= bestIou) {
            bestIou = v;
            best = j;
          }
        });
        if (best >= 0) used[image][best] = true;
        return best >= 0;
      });
      let ap = 0;
      for (let r = 1; r <= total; r++) {
        // Precision envelope at recall r/total: the best precision at any rank reaching that recall.
        let best = 0;
        let tp = 0;
        hit.forEach((h, k) => {
          if (h) tp++;
          if (tp >= r) best = Math.max(best, tp / (k + 1));
        });
        ap += best / total;
      }
      aps.push(ap);
    }
    expect(result.perClass.length).toBe(aps.length);
    expect(result.map).toBeCloseTo(aps.reduce((s, a) => s + a, 0) / aps.length, 12);
    expect(result.map).toBeGreaterThan(0.3);
    expect(result.map).toBeLessThan(1);
  });

  it('a model measured against its own detections scores 1; a class never found scores 0', () => {
    const found = [[det(1, 0.9), det(2, 0.3, box(0.5, 0.5, 0.6, 0.6))]];
    const truth = [[{ ...box(0, 0, 1, 1), classId: 1 }]];
    expect(meanAveragePrecision(found, truth).map).toBe(1);
    expect(meanAveragePrecision([[det(1, 0.9)]], [[{ ...box(0, 0, 1, 1), classId: 3 }]]).map).toBe(0);
  });
});

describe('segmentation mIoU', () => {
  it('by hand on a 2x3 mask', () => {
    const truth = [0, 0, 1, 1, 2, 2];
    const predicted = [0, 1, 1, 1, 2, 0];
    const counts = confusion(truth, predicted, 3);
    // class 0: tp 1, union 3; class 1: tp 2, union 3; class 2: tp 1, union 2.
    const result = meanIou(counts, 3);
    expect(result.perClass[0]).toBeCloseTo(1 / 3, 12);
    expect(result.perClass[1]).toBeCloseTo(2 / 3, 12);
    expect(result.perClass[2]).toBeCloseTo(1 / 2, 12);
    expect(result.miou).toBeCloseTo((1 / 3 + 2 / 3 + 1 / 2) / 3, 12);
    expect(result.pixelAccuracy).toBeCloseTo(4 / 6, 12);
    expect(Array.from(argmaxMask([0.1, 0.9, 0.5, 0.2, 0.3, 0.1], 2))).toEqual([1, 0, 0]);
  });
});

describe('task and metric', () => {
  it('reads the task from the outputs, and refuses a metric that does not fit', () => {
    expect(inferTask(readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite')))).toEqual({ kind: 'classification', output: 0, classes: 1001 });
    expect(inferTask(readModel(readSharedModel('deeplabv3_257_float.tflite')))).toEqual({ kind: 'segmentation', output: 0, classes: 21, probability: false });
    expect(inferTask(readModel(readSharedModel('selfie_segmentation_fp16.tflite')))).toMatchObject({ kind: 'segmentation', classes: 2, probability: true });
    expect(inferTask(readModel(readSharedModel('ssd_mobilenet_v1_coco_quant_uint8.tflite')))).toEqual({ kind: 'detection', boxes: 0, classes: 1, scores: 2, count: 3 });
    expect(inferTask(readModel(readSharedModel('pose_landmark_lite_fp16.tflite')))).toEqual({ kind: 'regression' });
    expect(() => checkMetric({ kind: 'regression' }, 'map')).toThrow(/"map" does not fit a regression model; use one of: sqnr, cosine/);
    expect(() => newQualityAccumulator({ kind: 'classification', output: 0, classes: 10 }, 'top1')).toThrow(/needs labels/);
  });
});

describe('quality of real models in LiteRT', () => {
  beforeAll(async () => {
    await initRuntime();
  });

  it('DeepLab v3 against the golden mask of tflite-support: mIoU with its interval; float16 against float', { timeout: 300_000 }, async () => {
    const deeplab = readSharedModel('deeplabv3_257_float.tflite');
    const folder = join(dataDir, 'deeplab_segmentation_sample');
    const image = decodeJpeg(readFileSync(join(folder, 'segmentation_input_rotation0.jpg')), { useTArray: true });
    const input = new Float32Array(257 * 257 * 3);
    for (let p = 0; p < 257 * 257; p++) for (let c = 0; c < 3; c++) input[3 * p + c] = (image.data[4 * p + c] - 127.5) / 127.5;
    const golden = decodeImage(readFileSync(join(folder, 'segmentation_golden_rotation0.png')), 'golden.png');
    const mask = Uint16Array.from(golden.data, (v) => Math.round(v / 10));

    const self = await compareModels(deeplab, deeplab, [[input]], { quality: { truth: { masks: [mask] } } });
    expect(self.quality).toMatchObject({ task: 'segmentation', metric: 'miou', against: 'labels', samples: 1 });
    // 0.46% of pixels differ from the golden mask (SOURCES.md): the classes present keep high IoU.
    expect(self.quality!.value).toBeGreaterThan(0.985);
    expect(self.quality!.value).toBeLessThan(1);
    expect(self.quality!.referenceValue).toBe(self.quality!.value);

    const half = await optimizeModel({ model: deeplab, recipe: defaultRecipe('float16') });
    const againstFloat = await compareModels(deeplab, half.bytes, [[input]], { quality: {} });
    expect(againstFloat.quality).toMatchObject({ metric: 'miou', against: 'reference', samples: 1 });
    expect(againstFloat.quality!.value).toBeGreaterThan(0.99);
    const sqnr = againstFloat.outputs[0].sqnrDb;
    expect(sqnr).toBeGreaterThan(40);
  });

  it('SSD MobileNet with TFLite_Detection_PostProcess: mAP against its own detections is 1, against a dequantized twin below', { timeout: 300_000 }, async () => {
    const ssd = readSharedModel('ssd_mobilenet_v1_coco_quant_uint8.tflite');
    const photos = ['burger.jpg', 'cats_and_dogs.jpg', 'grace_hopper.jpg', 'multi_objects.jpg'].map((name) => {
      const image = decodeJpeg(readFileSync(join(dataDir, 'sample_images', name)), { useTArray: true });
      const out = new Float32Array(300 * 300 * 3);
      for (let y = 0; y < 300; y++) {
        const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / 300));
        for (let x = 0; x < 300; x++) {
          const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / 300));
          for (let c = 0; c < 3; c++) out[3 * (y * 300 + x) + c] = (image.data[4 * (sy * image.width + sx) + c] - 128) / 128;
        }
      }
      return [out];
    });
    const self = await compareModels(ssd, ssd, photos, { quality: {} });
    expect(self.quality).toMatchObject({ task: 'detection', metric: 'map', against: 'reference', samples: 4, value: 1 });
    expect(self.quality!.interval).toEqual([1, 1]);
    // The same network computing in float (weights dequantized): the same objects, boxes a little off.
    const float = dequantizeBytes(ssd).bytes;
    const twin = await compareModels(ssd, float, photos, { quality: {} });
    expect(twin.quality!.value).toBe(1);
    // Decoded from the real outputs: Grace Hopper is a person (COCO class 0), the cats and dogs photo
    // holds a cat (16) and a dog (17). Measured against another photo's detections, mAP collapses.
    const model = await loadModel(ssd);
    try {
      const outputs: Float32Array[][] = [];
      for (const photo of photos) {
        const run = await model.run(toModelInputs(photo, model.inputs, 0));
        outputs.push(run.map((o, k) => toFloat(o.data, model.outputs[k].quantization).slice()));
      }
      const classesOf = (o: Float32Array[]) => new Set(decodePostProcessed(o[0], o[1], o[2], o[3]).filter((d) => d.score >= 0.5).map((d) => d.classId));
      expect(classesOf(outputs[2]).has(0)).toBe(true);
      expect(classesOf(outputs[1])).toEqual(new Set([16, 17]));
      const shifted = newQualityAccumulator(inferTask(readModel(ssd)), 'map');
      outputs.forEach((o, i) => shifted.add(o, outputs[(i + 1) % outputs.length]));
      expect(shifted.summary().value).toBeLessThan(0.5);
    } finally {
      model.delete();
    }
  });
});
