/**
 * Raw detection heads: the box coder and NMS against hand-worked boxes, the anchors file, then
 * MediaPipe's BlazeFace (face_detection_short_range) in LiteRT with anchors from our generator:
 * faces found on a real photo, and quantized variants measured against the float model's faces.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { dequantizeBytes, optimizeModel } from '../optimize/pipeline';
import { defaultRecipe } from '../optimize/recipe';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import { toFloat, toModelInputs } from '../runtime/samples';
import { photoInput } from '../test-support/photo-input';
import { dataDir, readSharedModel } from '../test-support/shared';
import { BLAZE_FACE_SHORT_RANGE, SSD_MOBILENET_V2_300, ssdAnchors } from '../test-support/ssd-anchors';
import { readModel } from '../tflite/read';
import { anchorsToCsv, parseAnchorsCsv, type Anchors } from './anchors';
import { BOX_CODER_PRESETS, decodeRawDetections, type BoxDecoding } from './box-decoding';
import { compareModels } from './compare';
import type { Detection } from './detection';
import { nonMaxSuppression } from './nms';
import { rawDetectionTask } from './raw-detection-task';

const one = (y: number, x: number, h: number, w: number): Anchors => ({ count: 1, yCenter: Float32Array.of(y), xCenter: Float32Array.of(x), h: Float32Array.of(h), w: Float32Array.of(w) });
const det = (classId: number, score: number, ymin: number, xmin: number, ymax: number, xmax: number): Detection => ({ ymin, xmin, ymax, xmax, classId, score });

describe('box decoding by hand', () => {
  it('SSD coder: yxhw, scales 10, 10, 5, 5, exp sizes, background column skipped', () => {
    const decoding: BoxDecoding = { ...BOX_CODER_PRESETS.ssd, scoreThreshold: 0.4 };
    // y = 1/10 * 0.2 + 0.5 = 0.52, x = 2/10 * 0.4 + 0.5 = 0.58, h = e^0 * 0.2, w = e^(5 ln 2 / 5) * 0.4 = 0.8.
    const found = decodeRawDetections([1, 2, 0, 5 * Math.LN2], [5, 0, Math.log(3)], one(0.5, 0.5, 0.2, 0.4), decoding);
    expect(found.map((d) => [d.classId, d.score])).toEqual([
      [1, expect.closeTo(0.75, 6)],
      [0, expect.closeTo(0.5, 6)],
    ]);
    const [box] = found;
    expect(box.ymin).toBeCloseTo(0.42, 6);
    expect(box.ymax).toBeCloseTo(0.62, 6);
    expect(box.xmin).toBeCloseTo(0.18, 6);
    expect(box.xmax).toBeCloseTo(0.98, 6);
    // Above the threshold only: sigmoid(0) = 0.5 goes at 0.6.
    expect(decodeRawDetections([1, 2, 0, 5 * Math.LN2], [5, 0, Math.log(3)], one(0.5, 0.5, 0.2, 0.4), { ...decoding, scoreThreshold: 0.6 })).toHaveLength(1);
  });

  it('MediaPipe face coder: xywh in pixels of 128, fixed anchor size, extra keypoint columns ignored, scores clipped', () => {
    // x = 12.8 / 128 + 0.75 = 0.85, y = -25.6 / 128 + 0.25 = 0.05, w = 32 / 128 = 0.25, h = 64 / 128 = 0.5.
    const row = [12.8, -25.6, 32, 64, 99, 99];
    const [box] = decodeRawDetections(row, [1000], one(0.25, 0.75, 7, 7), BOX_CODER_PRESETS['mediapipe-face']);
    expect(box.xmin).toBeCloseTo(0.725, 6);
    expect(box.xmax).toBeCloseTo(0.975, 6);
    expect(box.ymin).toBeCloseTo(-0.2, 6);
    expect(box.ymax).toBeCloseTo(0.3, 6);
    expect(box.score).toBeCloseTo(1 / (1 + Math.exp(-100)), 12);
    expect(box.classId).toBe(0);
  });

  it('NMS keeps the best of overlapping boxes per class, not across classes', () => {
    const boxes = [
      det(0, 0.9, 0, 0, 1, 1),
      det(0, 0.8, 0, 0.1, 1, 1.1), // IoU 0.9/1.1 = 0.818 with the first: dropped
      det(0, 0.7, 0, 0.5, 1, 1.5), // IoU 0.5/1.5 = 0.333: kept
      det(1, 0.6, 0, 0, 1, 1), // another class: kept
    ];
    expect(nonMaxSuppression(boxes, 0.5, 10).map((d) => d.score)).toEqual([0.9, 0.7, 0.6]);
    // At 0.3 the third goes too; max detections cuts the ranked list.
    expect(nonMaxSuppression(boxes, 0.3, 10).map((d) => d.score)).toEqual([0.9, 0.6]);
    expect(nonMaxSuppression(boxes, 0.5, 2).map((d) => d.score)).toEqual([0.9, 0.7]);
  });
});

describe('anchors file', () => {
  it('reads a header in any order, or none; refuses bad rows with the line', () => {
    const a = parseAnchorsCsv('w,h,x_center,y_center\n0.4,0.2,0.6,0.5\n1,1,0.1,0.2\n');
    expect(a.count).toBe(2);
    expect(Array.from(a.yCenter)).toEqual([0.5, Math.fround(0.2)]);
    expect(a.w[0]).toBeCloseTo(0.4, 6);
    expect(parseAnchorsCsv('0.5,0.6,0.2,0.4').xCenter[0]).toBeCloseTo(0.6, 6);
    expect(() => parseAnchorsCsv('y,x,h\n1,2,3')).toThrow(/no column for w/);
    expect(() => parseAnchorsCsv('0.5,0.6,0.2\n')).toThrow(/anchor 1 \(line 1\)/);
    const round = parseAnchorsCsv(anchorsToCsv(a));
    expect(Array.from(round.h)).toEqual(Array.from(a.h));
  });
});

/** BlazeFace's input (128); SSD MobileNetV2 takes 300. */
const faceInput = (path: string, size = 128) => photoInput(path, size);

describe('BlazeFace short range in LiteRT, anchors from our generator', () => {
  const model = readSharedModel('face_detection_short_range_fp16.tflite');
  const anchors = ssdAnchors(BLAZE_FACE_SHORT_RANGE);
  const spec = { anchors, decoding: BOX_CODER_PRESETS['mediapipe-face'] };
  const hopper = faceInput(join(dataDir, 'sample_images', 'grace_hopper.jpg'));
  const sampleDir = join(dataDir, 'sample_images');
  const others = readdirSync(sampleDir).filter((f) => f.endsWith('.jpg') && f !== 'grace_hopper.jpg').map((f) => join(sampleDir, f));
  const imagenet = readdirSync(join(dataDir, 'imagenet_val_subset', 'images')).sort().map((f) => join(dataDir, 'imagenet_val_subset', 'images', f));
  // The evaluation photos: Grace Hopper, the ImageNet photos where the float model finds a face
  // (BlazeFace short range is made for faces filling much of the frame: a few dozen of the 500),
  // and as many without one, so false detections count too.
  const photos: Float32Array[][] = [hopper];
  let faceCounts: number[] = [];
  const task = () => rawDetectionTask(readModel(model), spec);
  const facesOf = (outputs: Float32Array[]) => decodeRawDetections(outputs[task().boxes], outputs[task().scores], anchors, spec.decoding).filter((d) => d.score >= 0.5);

  beforeAll(async () => {
    await initRuntime();
    const loaded = await loadModel(model);
    try {
      const run = async (input: Float32Array[]) => (await loaded.run(toModelInputs(input, loaded.inputs, 0))).map((o, k) => toFloat(o.data, loaded.outputs[k].quantization).slice());
      const withFaces: Float32Array[][] = [];
      const without: Float32Array[][] = [];
      for (const path of [...others, ...imagenet]) {
        const input = faceInput(path);
        const n = facesOf(await run(input)).length;
        if (path.startsWith(sampleDir)) faceCounts.push(n);
        (n > 0 ? withFaces : without).push(input);
      }
      photos.push(...withFaces.slice(0, 24), ...without.slice(0, 8));
      faceCounts = [...faceCounts, withFaces.length];
    } finally {
      loaded.delete();
    }
  }, 300_000);


  it('896 anchors, one per row of both outputs; a wrong count is refused naming 896', () => {
    expect(anchors.count).toBe(896);
    const graph = readModel(model);
    const task = rawDetectionTask(graph, spec);
    const shapes = graph.subgraphs[0].outputs.map((t) => graph.subgraphs[0].tensors[t].shape);
    expect(shapes[task.boxes]).toEqual([1, 896, 16]);
    expect(shapes[task.scores]).toEqual([1, 896, 1]);
    const wrong = { ...spec, anchors: { ...anchors, count: 800 } };
    expect(() => rawDetectionTask(graph, wrong)).toThrow(WorkbenchError);
    expect(() => rawDetectionTask(graph, wrong)).toThrow(/lists 800 anchors.*must list 896 anchors/);
  });

  it('the float model finds Grace Hopper\'s face: one confident box inside the image, upper half', { timeout: 120_000 }, async () => {
    const loaded = await loadModel(model);
    try {
      const outputs = (await loaded.run(toModelInputs(hopper, loaded.inputs, 0))).map((o, k) => toFloat(o.data, loaded.outputs[k].quantization).slice());
      const task = rawDetectionTask(readModel(model), spec);
      const faces = decodeRawDetections(outputs[task.boxes], outputs[task.scores], anchors, spec.decoding).filter((d) => d.score > 0.5);
      expect(faces.length).toBeGreaterThanOrEqual(1);
      const [face] = faces;
      for (const v of [face.ymin, face.xmin, face.ymax, face.xmax]) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
      // A face, not the whole picture: a tenth to half of the width, in the upper half of the portrait.
      expect(face.xmax - face.xmin).toBeGreaterThan(0.1);
      expect(face.xmax - face.xmin).toBeLessThan(0.5);
      expect((face.ymin + face.ymax) / 2).toBeLessThan(0.5);
      // No face on burger.jpg, cats_and_dogs.jpg, multi_objects.jpg; faces on some ImageNet photos.
      console.log(`BlazeFace float: faces on the other sample photos ${faceCounts.slice(0, -1).join(' ')}; ImageNet photos with a face: ${faceCounts[faceCounts.length - 1]} of ${imagenet.length}`);
      expect(faceCounts.slice(0, -1)).toEqual([0, 0, 0]);
      expect(faceCounts[faceCounts.length - 1]).toBeGreaterThanOrEqual(10);
    } finally {
      loaded.delete();
    }
  });

  it('mAP@0.5 against the float model: 1 for itself, > 0.8 for dynamic-range and int8 variants', { timeout: 600_000 }, async () => {
    const self = await compareModels(model, model, photos, { quality: { rawDetection: spec } });
    expect(self.quality).toMatchObject({ task: 'detection', metric: 'map', against: 'reference', samples: photos.length, value: 1 });
    const float = dequantizeBytes(model).bytes;
    const dynamic = (await optimizeModel({ model: float, recipe: defaultRecipe('dynamic') })).bytes;
    const int8 = (await optimizeModel({ model: float, recipe: defaultRecipe('int8'), calibration: photos, calibrationCount: photos.length })).bytes;
    for (const [name, bytes] of [['dynamic', dynamic], ['int8', int8]] as const) {
      const result = await compareModels(model, bytes, photos, { quality: { rawDetection: spec } });
      console.log(`BlazeFace ${name}: mAP@0.5 against the float model's faces ${result.quality!.value.toFixed(4)} [${result.quality!.interval.map((v) => v.toFixed(3)).join(', ')}] on ${result.quality!.samples} photos`);
      expect(result.quality!.value, name).toBeGreaterThan(0.8);
    }
  });
});

describe('SSD MobileNetV2 (Open Images subset) raw head in LiteRT, the ssd coder, anchors from our generator', () => {
  const model = readSharedModel('ssd_mobilenet_v2_oidv4_fp16.tflite');
  const anchors = ssdAnchors(SSD_MOBILENET_V2_300);
  const spec = { anchors, decoding: BOX_CODER_PRESETS.ssd };
  const sampleDir = join(dataDir, 'sample_images');
  const names = readdirSync(sampleDir).filter((f) => f.endsWith('.jpg')).sort();
  const imagenet = readdirSync(join(dataDir, 'imagenet_val_subset', 'images')).sort().slice(0, 20).map((f) => join(dataDir, 'imagenet_val_subset', 'images', f));
  const photos = [...names.map((f) => join(sampleDir, f)), ...imagenet].map((p) => faceInput(p, 300));

  beforeAll(() => initRuntime());

  it('1917 anchors fit [1, 1917, 4] boxes and [1, 1917, 24] scores; the float model\'s objects lie in the image', { timeout: 120_000 }, async () => {
    expect(anchors.count).toBe(1917);
    const graph = readModel(model);
    const task = rawDetectionTask(graph, spec);
    const shapes = graph.subgraphs[0].outputs.map((t) => graph.subgraphs[0].tensors[t].shape);
    expect([shapes[task.boxes], shapes[task.scores]]).toEqual([[1, 1917, 4], [1, 1917, 24]]);
    const loaded = await loadModel(model);
    try {
      const found: string[] = [];
      for (const [k, photo] of photos.slice(0, names.length).entries()) {
        const o = (await loaded.run(toModelInputs(photo, loaded.inputs, 0))).map((t, i) => toFloat(t.data, loaded.outputs[i].quantization).slice());
        const objects = decodeRawDetections(o[task.boxes], o[task.scores], anchors, spec.decoding).filter((d) => d.score >= 0.5);
        found.push(`${names[k]}: ${objects.map((d) => `class ${d.classId} ${d.score.toFixed(2)} [${[d.ymin, d.xmin, d.ymax, d.xmax].map((v) => v.toFixed(2)).join(', ')}]`).join('; ')}`);
        for (const d of objects) {
          // Decoded boxes of real objects: inside the image (to a few percent), and not degenerate.
          for (const v of [d.ymin, d.xmin, d.ymax, d.xmax]) expect(v).toBeGreaterThan(-0.05), expect(v).toBeLessThan(1.05);
          expect(d.ymax - d.ymin).toBeGreaterThan(0.02);
          expect(d.xmax - d.xmin).toBeGreaterThan(0.02);
        }
      }
      console.log(`SSD MobileNetV2 oidv4 float, detections scoring >= 0.5: ${found.join(' | ')}`);
      // The two animals of cats_and_dogs.jpg are found (boxes side by side in the lower part).
      expect(found[names.indexOf('cats_and_dogs.jpg')].split(';').length).toBeGreaterThanOrEqual(2);
    } finally {
      loaded.delete();
    }
  });

  it('mAP@0.5 of a dynamic-range variant against the float model\'s detections', { timeout: 600_000 }, async () => {
    const dynamic = (await optimizeModel({ model: dequantizeBytes(model).bytes, recipe: defaultRecipe('dynamic') })).bytes;
    const result = await compareModels(model, dynamic, photos, { quality: { rawDetection: spec } });
    console.log(`SSD MobileNetV2 oidv4 dynamic: mAP@0.5 against the float model ${result.quality!.value.toFixed(4)} [${result.quality!.interval.map((v) => v.toFixed(3)).join(', ')}] on ${result.quality!.samples} photos`);
    expect(result.quality!.value).toBeGreaterThan(0.8);
  });
});
