/**
 * SSD anchors as MediaPipe's SsdAnchorsCalculator lays them out (our own code from its documented
 * options), for tests of raw detection heads: consecutive layers with the same stride share one
 * grid; per location one anchor per aspect ratio and scale, plus an interpolated-scale one; centres
 * at (cell + offset) / grid size; with a fixed anchor size every anchor is 1 x 1.
 */

/** The shape of evaluate/anchors.ts's Anchors (test support sits below evaluate and cannot import it). */
export interface GeneratedAnchors {
  count: number;
  yCenter: Float32Array;
  xCenter: Float32Array;
  h: Float32Array;
  w: Float32Array;
}

export interface SsdAnchorOptions {
  inputHeight: number;
  inputWidth: number;
  strides: number[];
  minScale: number;
  maxScale: number;
  aspectRatios: number[];
  /** > 0 adds an anchor of scale sqrt(scale * next scale) with this aspect ratio. */
  interpolatedScaleAspectRatio: number;
  anchorOffset: number;
  fixedAnchorSize: boolean;
  /** The first layer gets 3 anchors only: scale 0.1 at ratio 1, and its own scale at ratios 2 and 0.5. */
  reduceBoxesInLowestLayer?: boolean;
}

/** MediaPipe's face_detection_short_range.pbtxt options. */
export const BLAZE_FACE_SHORT_RANGE: SsdAnchorOptions = {
  inputHeight: 128,
  inputWidth: 128,
  strides: [8, 16, 16, 16],
  minScale: 0.1484375,
  maxScale: 0.75,
  aspectRatios: [1],
  interpolatedScaleAspectRatio: 1,
  anchorOffset: 0.5,
  fixedAnchorSize: true,
};

/** MediaPipe's objectron SSD MobileNetV2 detector (object_detection_oidv4 subgraph): 1917 anchors on 300x300. */
export const SSD_MOBILENET_V2_300: SsdAnchorOptions = {
  inputHeight: 300,
  inputWidth: 300,
  strides: [16, 32, 64, 128, 256, 512],
  minScale: 0.2,
  maxScale: 0.95,
  aspectRatios: [1, 2, 0.5, 3, 0.3333],
  interpolatedScaleAspectRatio: 1,
  anchorOffset: 0.5,
  fixedAnchorSize: false,
  reduceBoxesInLowestLayer: true,
};

export function ssdAnchors(o: SsdAnchorOptions): GeneratedAnchors {
  const layers = o.strides.length;
  const scaleOf = (layer: number) => (layers === 1 ? (o.minScale + o.maxScale) / 2 : o.minScale + ((o.maxScale - o.minScale) * layer) / (layers - 1));
  const y: number[] = [];
  const x: number[] = [];
  const h: number[] = [];
  const w: number[] = [];
  for (let layer = 0; layer < layers; ) {
    const sizes: { h: number; w: number }[] = [];
    let last = layer;
    for (; last < layers && o.strides[last] === o.strides[layer]; last++) {
      const scale = scaleOf(last);
      if (last === 0 && o.reduceBoxesInLowestLayer) {
        for (const [s, ratio] of [[0.1, 1], [scale, 2], [scale, 0.5]]) sizes.push({ h: s / Math.sqrt(ratio), w: s * Math.sqrt(ratio) });
        continue;
      }
      for (const ratio of o.aspectRatios) sizes.push({ h: scale / Math.sqrt(ratio), w: scale * Math.sqrt(ratio) });
      if (o.interpolatedScaleAspectRatio > 0) {
        const next = last === layers - 1 ? 1 : scaleOf(last + 1);
        const s = Math.sqrt(scale * next);
        const r = Math.sqrt(o.interpolatedScaleAspectRatio);
        sizes.push({ h: s / r, w: s * r });
      }
    }
    const rows = Math.ceil(o.inputHeight / o.strides[layer]);
    const cols = Math.ceil(o.inputWidth / o.strides[layer]);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        for (const size of sizes) {
          y.push((r + o.anchorOffset) / rows);
          x.push((c + o.anchorOffset) / cols);
          h.push(o.fixedAnchorSize ? 1 : size.h);
          w.push(o.fixedAnchorSize ? 1 : size.w);
        }
      }
    }
    layer = last;
  }
  return { count: y.length, yCenter: Float32Array.from(y), xCenter: Float32Array.from(x), h: Float32Array.from(h), w: Float32Array.from(w) };
}
