/**
 * Gradients of CONV_2D and DEPTHWISE_CONV_2D built only from kernels tfjs' WASM backend has.
 *
 * tfjs' own gradients for these call Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput and
 * DepthwiseConv2dNativeBackpropFilter, which the WASM backend does not implement, so training on WASM
 * would fail at the first convolution. These replacements (registered for every backend, they are
 * plain op compositions) compute
 *   filter gradients  one strided slice of the padded input per filter tap, times dy (a matMul for
 *                     CONV_2D, an element-wise product summed over batch and space for depthwise);
 *   depthwise input   a stride-1 depthwise convolution of the zero-dilated, padded dy with the
 *                     flipped filter (the transposed convolution), cropped to the input.
 * The Conv2D input gradient keeps tfjs' conv2DBackpropInput, which WASM has. conv-gradients.test.ts
 * checks all of them against tfjs' reference gradients on the CPU backend.
 */
import * as tf from '@tensorflow/tfjs-core';

type Padding = 'same' | 'valid';

interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  strides: [number, number];
  dilations: [number, number];
  pad: { top: number; bottom: number; left: number; right: number };
}

const pair = (v: number | [number, number] | undefined): [number, number] => (v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v);

function geometry(x: tf.Tensor, dy: tf.Tensor, kh: number, kw: number, attrs: Record<string, unknown>): ConvGeometry {
  const [n, h, w] = x.shape as number[];
  const [, outH, outW] = dy.shape as number[];
  const strides = pair(attrs.strides as number | [number, number]);
  const dilations = pair(attrs.dilations as number | [number, number]);
  const pad = attrs.pad as Padding | number;
  if (pad !== 'same' && pad !== 'valid') throw new Error(`convolution gradient: padding ${JSON.stringify(pad)} is not supported`);
  const effH = (kh - 1) * dilations[0] + 1;
  const effW = (kw - 1) * dilations[1] + 1;
  const totalH = pad === 'same' ? Math.max((outH - 1) * strides[0] + effH - h, 0) : 0;
  const totalW = pad === 'same' ? Math.max((outW - 1) * strides[1] + effW - w, 0) : 0;
  const top = Math.floor(totalH / 2);
  const left = Math.floor(totalW / 2);
  return { n, h, w, outH, outW, kh, kw, strides, dilations, pad: { top, bottom: totalH - top, left, right: totalW - left } };
}

function padded(x: tf.Tensor, g: ConvGeometry): tf.Tensor4D {
  const { top, bottom, left, right } = g.pad;
  return (top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x) as tf.Tensor4D;
}

/** The input values filter tap (i, j) meets, one per output position: [n, outH, outW, channels]. */
function tapSlice(xp: tf.Tensor4D, g: ConvGeometry, i: number, j: number): tf.Tensor4D {
  const c = xp.shape[3];
  const r0 = i * g.dilations[0];
  const c0 = j * g.dilations[1];
  return tf.stridedSlice(xp, [0, r0, c0, 0], [g.n, r0 + (g.outH - 1) * g.strides[0] + 1, c0 + (g.outW - 1) * g.strides[1] + 1, c], [1, g.strides[0], g.strides[1], 1]) as tf.Tensor4D;
}

/** dL/dfilter of conv2d (filter HWIO). */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    const g = geometry(x, dy, kh, kw, attrs);
    const xp = padded(x, g);
    const dy2 = tf.reshape(dy, [-1, co]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tf.matMul(tf.reshape(tapSlice(xp, g, i, j), [-1, ci]), dy2, true, false));
    return tf.reshape(tf.stack(taps), [kh, kw, ci, co]) as tf.Tensor4D;
  });
}

/** dL/dfilter of depthwiseConv2d (filter [kh, kw, channels, multiplier]). */
export function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filterShape;
    const g = geometry(x, dy, kh, kw, attrs);
    const xp = padded(x, g);
    const dy5 = tf.reshape(dy, [g.n, g.outH, g.outW, c, m]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const xs = tf.reshape(tapSlice(xp, g, i, j), [g.n, g.outH, g.outW, c, 1]);
        taps.push(tf.sum(tf.mul(xs, dy5), [0, 1, 2]));
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, c, m]) as tf.Tensor4D;
  });
}

/** Insert stride-1 zeros between the rows and columns of dy (the transposed convolution's input). */
function dilateSpatial(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const full = tf.reshape(spread, [n, h * sh, w * sw, c]);
  return tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/** dL/dx of depthwiseConv2d. */
export function depthwiseInputGradient(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filter.shape;
    const g = geometry(tf.zeros([1, xShape[1], xShape[2], 1]), dy, kh, kw, attrs);
    if (g.dilations[0] !== 1 || g.dilations[1] !== 1) throw new Error('depthwise convolution gradient: dilation > 1 is not supported');
    // Fold the multiplier into the channels of dy: sum over m of dy[..., c, m] * w[.., c, m].
    const dyd = dilateSpatial(dy, g.strides[0], g.strides[1]);
    const dyp = tf.pad(dyd, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]) as tf.Tensor4D;
    const flipped = tf.reverse(filter, [0, 1]);
    // Each output channel c*m+k of the forward op reads input channel c: correlate dy's channel
    // (c, k) with w[.., c, k] (a depthwise conv with multiplier 1 over c*m channels), then sum k.
    const perOut = tf.depthwiseConv2d(dyp, tf.reshape(flipped, [kh, kw, c * m, 1]) as tf.Tensor4D, 1, 'valid');
    const summed = m === 1 ? perOut : tf.sum(tf.reshape(perOut, [...perOut.shape.slice(0, 3), c, m]), 4);
    // summed is the gradient of the padded input; crop (or zero-extend) to the real input.
    const [, ph, pw] = summed.shape as number[];
    const needH = g.pad.top + xShape[1];
    const needW = g.pad.left + xShape[2];
    const extended = needH > ph || needW > pw ? tf.pad(summed, [[0, 0], [0, Math.max(0, needH - ph)], [0, Math.max(0, needW - pw)], [0, 0]]) : summed;
    return tf.slice(extended, [0, g.pad.top, g.pad.left, 0], [xShape[0], xShape[1], xShape[2], c]) as tf.Tensor4D;
  });
}

let registered = false;
let originals: tf.GradConfig[] = [];

/** Put tfjs' own gradients back (tests use them as the reference, on the CPU backend). */
export function restoreTfjsConvGradients(): void {
  originals.forEach((config) => tf.registerGradient(config));
  registered = false;
}

/** Replace tfjs' Conv2D / DepthwiseConv2dNative gradients with the WASM-friendly ones (once). */
export function registerConvGradients(): void {
  if (registered) return;
  registered = true;
  originals = ['Conv2D', 'DepthwiseConv2dNative'].map((name) => tf.getGradient(name)).filter((g): g is tf.GradConfig => !!g);
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as Record<string, unknown>;
      const dilations = pair(a.dilations as number | [number, number]);
      if (dilations[0] !== 1 || dilations[1] !== 1) throw new Error('convolution gradient: dilation > 1 is not supported');
      return {
        x: () => tf.conv2dTranspose(dy as tf.Tensor4D, filter, x.shape, pair(a.strides as number), a.pad as Padding),
        filter: () => conv2dFilterGradient(x, dy as tf.Tensor4D, filter.shape, a),
      };
    },
  });
  tf.registerGradient({
    kernelName: 'DepthwiseConv2dNative',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as Record<string, unknown>;
      return {
        x: () => depthwiseInputGradient(x.shape, dy as tf.Tensor4D, filter, a),
        filter: () => depthwiseFilterGradient(x, dy as tf.Tensor4D, filter.shape, a),
      };
    },
  });
}
