/**
 * Gradients of CONV_2D and DEPTHWISE_CONV_2D built only from kernels tfjs' WASM backend has.
 *
 * tfjs' own gradients for these call Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput and
 * DepthwiseConv2dNativeBackpropFilter, which the WASM backend does not implement, so training on WASM
 * would fail at the first convolution. These replacements (registered for every backend, they are
 * plain op compositions) compute
 *   filter gradients  one convolution of the padded input with dy as the filter (see asConvolution);
 *                     1x1 CONV_2D filters a matMul of the input and dy;
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
  const rows = r0 + (g.outH - 1) * g.strides[0] + 1;
  const cols = c0 + (g.outW - 1) * g.strides[1] + 1;
  // A 1x1 stride-1 filter meets the whole input: no copy.
  if (r0 === 0 && c0 === 0 && g.strides[0] === 1 && g.strides[1] === 1 && rows === xp.shape[1] && cols === xp.shape[2]) return xp;
  return tf.stridedSlice(xp, [0, r0, c0, 0], [g.n, rows, cols, c], [1, g.strides[0], g.strides[1], 1]) as tf.Tensor4D;
}

/** The padded input cut to the rows and columns the forward pass read (a stride may leave some unread). */
function readRegion(xp: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const rows = (g.outH - 1) * g.strides[0] + (g.kh - 1) * g.dilations[0] + 1;
  const cols = (g.outW - 1) * g.strides[1] + (g.kw - 1) * g.dilations[1] + 1;
  return rows === xp.shape[1] && cols === xp.shape[2] ? xp : tf.slice(xp, [0, 0, 0, 0], [g.n, rows, cols, xp.shape[3]]);
}

/**
 * Filter gradients as one convolution instead of kh * kw strided copies of the input (which took 60%
 * of a MobileNetV1 training step on WASM: npm run bench:engine-profile). dW[i, j] = sum over n, y, x of
 * xp[n, y*s + i*d, x*s + j*d] * dy[n, y, x]: a convolution of the input with dy as the filter, the
 * forward stride s as its dilation and the forward dilation d as its stride. tfjs takes strides or
 * dilations above 1, not both, so d > 1 with s > 1 keeps the tap loop.
 */
const asConvolution = (g: ConvGeometry) => (g.strides[0] === 1 && g.strides[1] === 1) || (g.dilations[0] === 1 && g.dilations[1] === 1);

/** dL/dfilter of conv2d (filter HWIO). */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    const g = geometry(x, dy, kh, kw, attrs);
    const xp = padded(x, g);
    if ((kh > 1 || kw > 1) && asConvolution(g)) {
      // Batch = input channel, channels = samples: [ci, rows, cols, n] * [outH, outW, n, co] -> [ci, kh, kw, co].
      const input = tf.transpose(readRegion(xp, g), [3, 1, 2, 0]) as tf.Tensor4D;
      const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
      const out = tf.conv2d(input, filter, g.dilations, 'valid', 'NHWC', g.strides);
      return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
    }
    const dy2 = tf.reshape(dy, [-1, co]);
    // x^T dy with the transpose made explicit: WASM's matMul with transposeA was 2-18x slower (scratch run, loaded machine).
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tf.matMul(tf.transpose(tf.reshape(tapSlice(xp, g, i, j), [-1, ci])), dy2));
    return tf.reshape(tf.stack(taps), [kh, kw, ci, co]) as tf.Tensor4D;
  });
}

/** dL/dfilter of depthwiseConv2d (filter [kh, kw, channels, multiplier]). */
export function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filterShape;
    const g = geometry(x, dy, kh, kw, attrs);
    const xp = padded(x, g);
    if (asConvolution(g)) {
      // Samples folded into the channels: [1, rows, cols, n*c] with the filter [outH, outW, n*c, m].
      const region = readRegion(xp, g);
      const input = tf.reshape(tf.transpose(region, [1, 2, 0, 3]), [1, region.shape[1], region.shape[2], g.n * c]) as tf.Tensor4D;
      const filter = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [g.outH, g.outW, g.n * c, m]) as tf.Tensor4D;
      const out = tf.depthwiseConv2d(input, filter, g.dilations, 'valid', 'NHWC', g.strides);
      return tf.sum(tf.reshape(out, [kh, kw, g.n, c, m]), 2) as tf.Tensor4D;
    }
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

/**
 * Insert stride-1 zeros between the rows and columns of dy (the transposed convolution's input),
 * trailing zeros included ([n, h*sh, w*sw, c]) unless `trim` cuts them ([n, (h-1)*sh+1, ...]).
 */
function dilateSpatial(dy: tf.Tensor4D, sh: number, sw: number, trim: boolean): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const full = tf.reshape(spread, [n, h * sh, w * sw, c]) as tf.Tensor4D;
  return trim ? (tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D) : full;
}

/** dL/dx of depthwiseConv2d. */
export function depthwiseInputGradient(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filter.shape;
    const g = geometry(tf.zeros([1, xShape[1], xShape[2], 1]), dy, kh, kw, attrs);
    if (g.dilations[0] !== 1 || g.dilations[1] !== 1) throw new Error('depthwise convolution gradient: dilation > 1 is not supported');
    // Fold the multiplier into the channels of dy: sum over m of dy[..., c, m] * w[.., c, m].
    const [, outH, outW] = dy.shape;
    // Trailing zeros of the dilated dy add nothing; keep them (no crop) where the padding below can absorb them.
    const trim = xShape[1] + g.pad.top < outH * g.strides[0] || xShape[2] + g.pad.left < outW * g.strides[1];
    const dyd = dilateSpatial(dy, g.strides[0], g.strides[1], trim);
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
    // Each output channel c*m+k of the forward op reads input channel c: correlate dy's channel
    // (c, k) with w[.., c, k] (a depthwise conv with multiplier 1 over c*m channels), then sum k.
    // The full correlation pads dy by kh - 1 on each side and yields the gradient of the padded
    // input; padding so that exactly the real input's rows and columns come out saves the pad and
    // the crop, two copies of a large tensor (17% of a training step before: bench:engine-profile).
    const [, hd, wd] = dyd.shape;
    const top = kh - 1 - g.pad.top;
    const left = kw - 1 - g.pad.left;
    const bottom = xShape[1] - hd + g.pad.top;
    const right = xShape[2] - wd + g.pad.left;
    const perOut =
      top >= 0 && left >= 0 && bottom >= 0 && right >= 0
        ? tf.depthwiseConv2d(dyd, flipped, 1, [[0, 0], [top, bottom], [left, right], [0, 0]])
        : fullCorrelationCropped(dyd, flipped, xShape, g);
    return (m === 1 ? perOut : tf.sum(tf.reshape(perOut, [...perOut.shape.slice(0, 3), c, m]), 4)) as tf.Tensor4D;
  });
}

/** The input gradient the long way (pad by kh - 1, correlate, crop or zero-extend to the input), where explicit padding cannot express it. */
function fullCorrelationCropped(dyd: tf.Tensor4D, flipped: tf.Tensor4D, xShape: number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, cm] = flipped.shape;
  const dyp = tf.pad(dyd, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]) as tf.Tensor4D;
  // (dyd may carry trailing zero rows / columns: they only extend the result past what is cropped.)
  const full = tf.depthwiseConv2d(dyp, flipped, 1, 'valid');
  const [, ph, pw] = full.shape as number[];
  const needH = g.pad.top + xShape[1];
  const needW = g.pad.left + xShape[2];
  const extended = needH > ph || needW > pw ? tf.pad(full, [[0, 0], [0, Math.max(0, needH - ph)], [0, Math.max(0, needW - pw)], [0, 0]]) : full;
  return tf.slice(extended, [0, g.pad.top, g.pad.left, 0], [xShape[0], xShape[1], xShape[2], cm]) as tf.Tensor4D;
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
      const [kh, kw, ci, co] = filter.shape;
      const strides = pair(a.strides as number);
      // A 1x1 stride-1 convolution is a matMul, and so is its input gradient: dy W^T.
      const pointwise = kh === 1 && kw === 1 && strides[0] === 1 && strides[1] === 1;
      return {
        x: () =>
          pointwise
            ? tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(dy as tf.Tensor, [-1, co]), tf.transpose(tf.reshape(filter, [ci, co]))), x.shape))
            : tf.conv2dTranspose(dy as tf.Tensor4D, filter, x.shape, strides, a.pad as Padding),
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
