/**
 * Which ops rounding optimization serves, and how a row of their input is cut from an activation:
 * CONV_2D and DEPTHWISE_CONV_2D read [kh, kw, C] patches at each output position (TFLite's SAME
 * padding: total = max(0, (out - 1) * stride + (k - 1) * dilation + 1 - in), half of it, rounded
 * down, before), FULLY_CONNECTED reads rows of its input's last `in` values.
 */
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { staticShape } from '../../tflite/queries';
import { BuiltinOperator, Padding, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { rangeKey } from '../quantize/ranges';

export interface LayerSite {
  opIndex: number;
  /** rangeKey of the op's output: stable across the quantizer's passes (it never renumbers activations). */
  key: string;
  /** The data input's tensor index. */
  input: number;
  layout: 'dense' | 'depthwise';
  /** Values per row. */
  width: number;
  /** Input channels (the last dimension of a patch). */
  channels: number;
  /** Positions a row can be cut at: batch * outH * outW, or the input's rows for FULLY_CONNECTED. */
  positions: number;
  /** Writes the row at `position` of `activation` into `into` at `at`. */
  cut: (activation: Float32Array, position: number, into: Float32Array, at: number) => void;
  /**
   * The same rows as gathers (rows-in-litert.ts): the input, zero-padded by `pad` ([before, after]
   * per axis, null: none), viewed as `pixels` rows of `channels` values; a row of the layer at
   * `position` is the `pixelsPerRow` pixels whose indices `pixelIndices` writes, one after the other.
   */
  gather: { pad: [number, number][] | null; pixels: number; pixelsPerRow: number; pixelIndices: (position: number, into: Int32Array, at: number) => void };
}

interface Geometry {
  height: number;
  width: number;
  channels: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

function outputSize(size: number, k: number, stride: number, dilation: number, same: boolean): { out: number; before: number } {
  const extent = (k - 1) * dilation + 1;
  if (!same) return { out: Math.floor((size - extent) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  return { out, before: Math.floor(Math.max(0, (out - 1) * stride + extent - size) / 2) };
}

/** [kh, kw, C] patch at output position (oy, ox) of image b; zeros where it hangs over the border. */
function patchCutter(g: Geometry): LayerSite['cut'] {
  const { height, width, channels, kh, kw } = g;
  const perImage = g.outH * g.outW;
  return (activation, position, into, at) => {
    const b = Math.floor(position / perImage);
    const rest = position % perImage;
    const y0 = Math.floor(rest / g.outW) * g.strideH - g.padTop;
    const x0 = (rest % g.outW) * g.strideW - g.padLeft;
    let o = at;
    for (let ky = 0; ky < kh; ky++) {
      const y = y0 + ky * g.dilationH;
      for (let kx = 0; kx < kw; kx++) {
        const x = x0 + kx * g.dilationW;
        if (y < 0 || y >= height || x < 0 || x >= width) into.fill(0, o, o + channels);
        else {
          const from = ((b * height + y) * width + x) * channels;
          into.set(activation.subarray(from, from + channels), o);
        }
        o += channels;
      }
    }
  };
}

/**
 * patchCutter's patches as pixel indices into the input zero-padded on every side a patch can hang
 * over (so the border zeros are the padding's), flattened to [batch * paddedH * paddedW] pixels.
 */
function patchGather(g: Geometry, batch: number): LayerSite['gather'] {
  const { height, width, kh, kw } = g;
  const padBottom = Math.max(0, (g.outH - 1) * g.strideH + (kh - 1) * g.dilationH + 1 - height - g.padTop);
  const padRight = Math.max(0, (g.outW - 1) * g.strideW + (kw - 1) * g.dilationW + 1 - width - g.padLeft);
  const ph = height + g.padTop + padBottom;
  const pw = width + g.padLeft + padRight;
  const perImage = g.outH * g.outW;
  const padded = g.padTop + padBottom + g.padLeft + padRight > 0;
  return {
    pad: padded ? [[0, 0], [g.padTop, padBottom], [g.padLeft, padRight], [0, 0]] : null,
    pixels: batch * ph * pw,
    pixelsPerRow: kh * kw,
    pixelIndices: (position, into, at) => {
      const b = Math.floor(position / perImage);
      const rest = position % perImage;
      const y0 = Math.floor(rest / g.outW) * g.strideH;
      const x0 = (rest % g.outW) * g.strideW;
      let o = at;
      for (let ky = 0; ky < kh; ky++) {
        const row = (b * ph + y0 + ky * g.dilationH) * pw;
        for (let kx = 0; kx < kw; kx++) into[o++] = row + x0 + kx * g.dilationW;
      }
    },
  };
}

/** The ops of subgraph 0 whose weights rounding can optimize, with a float data input of static shape. */
export function layerSites(graph: ModelGraph): LayerSite[] {
  const subgraph = graph.subgraphs[0];
  const sites: LayerSite[] = [];
  subgraph.operators.forEach((op, opIndex) => {
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    if (builtin !== BuiltinOperator.CONV_2D && builtin !== BuiltinOperator.DEPTHWISE_CONV_2D && builtin !== BuiltinOperator.FULLY_CONNECTED) return;
    const [input, weights] = op.inputs;
    const x = subgraph.tensors[input];
    const w = subgraph.tensors[weights];
    if (!x || !w || x.type !== TensorType.FLOAT32 || op.outputs.length !== 1) return;
    const xShape = staticShape(x);
    const wShape = staticShape(w);
    if (!xShape || !wShape) return;
    const key = rangeKey(0, op.outputs[0]);
    if (builtin === BuiltinOperator.FULLY_CONNECTED) {
      if (wShape.length !== 2) return;
      const width = wShape[1];
      const size = xShape.reduce((n, d) => n * d, 1);
      if (size % width !== 0) return;
      sites.push({
        opIndex, key, input, layout: 'dense', width, channels: width, positions: size / width,
        cut: (activation, position, into, at) => into.set(activation.subarray(position * width, (position + 1) * width), at),
        gather: { pad: null, pixels: size / width, pixelsPerRow: 1, pixelIndices: (position, into, at) => void (into[at] = position) },
      });
      return;
    }
    if (xShape.length !== 4 || wShape.length !== 4) return;
    const o = (op.builtinOptions ?? {}) as { padding?: Padding; strideH?: number; strideW?: number; dilationHFactor?: number; dilationWFactor?: number };
    const [batch, height, width, channels] = xShape;
    const [, kh, kw] = wShape;
    const depthwise = builtin === BuiltinOperator.DEPTHWISE_CONV_2D;
    if (!depthwise && wShape[3] !== channels) return;
    if (depthwise && wShape[3] % channels !== 0) return;
    const same = o.padding !== Padding.VALID;
    const strideH = o.strideH || 1;
    const strideW = o.strideW || 1;
    const dilationH = o.dilationHFactor || 1;
    const dilationW = o.dilationWFactor || 1;
    const rows = outputSize(height, kh, strideH, dilationH, same);
    const cols = outputSize(width, kw, strideW, dilationW, same);
    if (rows.out < 1 || cols.out < 1) return;
    const geometry = { height, width, channels, kh, kw, strideH, strideW, dilationH, dilationW, padTop: rows.before, padLeft: cols.before, outH: rows.out, outW: cols.out };
    sites.push({
      opIndex, key, input, layout: depthwise ? 'depthwise' : 'dense', width: kh * kw * channels, channels, positions: batch * rows.out * cols.out,
      cut: patchCutter(geometry), gather: patchGather(geometry, batch),
    });
  });
  return sites;
}
