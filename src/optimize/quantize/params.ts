/**
 * Quantization arithmetic, per the TFLite quantization spec:
 *   real = scale * (q - zero_point)
 * weights int8 symmetric (zero point 0, range -127..127), per channel or per tensor; activations
 * int8 asymmetric per tensor (range always containing 0) or int16 symmetric; bias int32 (int64 in
 * 16x8) at scale input_scale * weight_scale[c]. All of it is bulk typed-array work.
 */

export interface QuantParams {
  scale: number[];
  zeroPoint: number[];
  /** Axis the scales run along (per-channel); 0 for per-tensor. */
  axis: number;
}

export type ActivationBits = 8 | 16;

/** Smallest scale we emit: a constant-zero tensor still needs a valid (positive) scale. */
const MIN_SCALE = 1e-9;

/** Per-tensor asymmetric int8 (or symmetric int16) parameters for an activation range. */
export function activationParams(min: number, max: number, bits: ActivationBits): QuantParams {
  let lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`non-finite activation range [${min}, ${max}]`);
  if (bits === 16) {
    const bound = Math.max(-lo, hi);
    return { scale: [Math.max(bound / 32767, MIN_SCALE)], zeroPoint: [0], axis: 0 };
  }
  if (hi - lo < MIN_SCALE * 255) hi = lo + MIN_SCALE * 255;
  const scale = (hi - lo) / 255;
  // The zero point is an integer, so zero is exactly representable; nudge it into [-128, 127].
  const zeroPoint = Math.min(127, Math.max(-128, Math.round(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zeroPoint], axis: 0 };
}

/** Size of the slices along `axis` and how many of them there are, for a row-major shape. */
function channelLayout(shape: number[], axis: number): { channels: number; inner: number; outer: number } {
  const channels = shape[axis] ?? 1;
  const inner = shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const outer = shape.slice(0, axis).reduce((n, d) => n * d, 1);
  return { channels, inner, outer };
}

/** max |w| per channel along `axis` (or over the whole tensor when perChannel is false). */
export function absMaxPerChannel(values: Float32Array, shape: number[], axis: number, perChannel: boolean): Float64Array {
  if (!perChannel) {
    let m = 0;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]);
      if (a > m) m = a;
    }
    return Float64Array.of(m);
  }
  const { channels, inner, outer } = channelLayout(shape, axis);
  const result = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = result[c];
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(values[base + i]);
        if (a > m) m = a;
      }
      result[c] = m;
    }
  }
  return result;
}

/**
 * Symmetric weight parameters, zero point 0: scale = max|w| / 127 per channel, or with
 * `searchClipping` the clipped range (a fraction of max|w|) that minimizes the squared rounding +
 * clipping error of that channel: outliers then cost a little clipping instead of coarse steps for
 * every other weight.
 */
export function symmetricWeightParams(
  values: Float32Array,
  shape: number[],
  axis: number,
  perChannel: boolean,
  options: { qmax?: number; searchClipping?: boolean } = {},
): QuantParams {
  const qmax = options.qmax ?? 127;
  const maxima = absMaxPerChannel(values, shape, axis, perChannel);
  // An all-zero channel (pruned away) quantizes to zeros at any scale, but its bias is stored at
  // input_scale * weight_scale: a near-zero scale would overflow int32 and break the channel. Give it
  // the largest scale of the other channels. A tensor that is zero everywhere keeps the tiny scale:
  // its output range is usually zero too, and a real weight scale over a ~0 output scale gives a
  // requantization multiplier XNNPACK refuses (seen on the toy kv-cache model).
  const largest = Math.max(0, ...maxima);
  const scale = Array.from(maxima, (m) => (m > 0 ? Math.max(m / qmax, MIN_SCALE) : largest > 0 ? largest / qmax : MIN_SCALE));
  if (options.searchClipping) {
    const { channels, inner, outer } = perChannel ? channelLayout(shape, axis) : { channels: 1, inner: values.length, outer: 1 };
    for (let c = 0; c < channels; c++) {
      if (maxima[c] === 0) continue;
      let best = scale[c];
      let bestError = Infinity;
      for (let step = 0; step <= CLIP_STEPS; step++) {
        const candidate = (maxima[c] * (1 - (step * (1 - MIN_CLIP)) / CLIP_STEPS)) / qmax;
        const error = channelError(values, c, channels, inner, outer, candidate, qmax);
        if (error < bestError) {
          bestError = error;
          best = candidate;
        }
      }
      scale[c] = best;
    }
  }
  return { scale, zeroPoint: scale.map(() => 0), axis: perChannel ? axis : 0 };
}

const CLIP_STEPS = 20;
const MIN_CLIP = 0.5;

function channelError(values: Float32Array, c: number, channels: number, inner: number, outer: number, scale: number, qmax: number): number {
  const inv = 1 / scale;
  let error = 0;
  for (let o = 0; o < outer; o++) {
    const base = (o * channels + c) * inner;
    for (let i = 0; i < inner; i++) {
      const v = values[base + i];
      let q = Math.round(v * inv);
      if (q > qmax) q = qmax;
      else if (q < -qmax) q = -qmax;
      const d = v - q * scale;
      error += d * d;
    }
  }
  return error;
}

/** Quantize float values with per-channel (or per-tensor) params into `out` (Int8Array/Uint8Array/Int16Array). */
export function quantizeInto(
  values: Float32Array,
  shape: number[],
  params: QuantParams,
  out: Int8Array | Uint8Array | Int16Array,
  qmin: number,
  qmax: number,
): void {
  if (params.scale.length === 1) {
    const inv = 1 / params.scale[0];
    const zp = params.zeroPoint[0];
    for (let i = 0; i < values.length; i++) {
      const q = Math.round(values[i] * inv) + zp;
      out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
    }
    return;
  }
  const { channels, inner, outer } = channelLayout(shape, params.axis);
  const inv = params.scale.map((s) => 1 / s);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const k = inv[c];
      const zp = params.zeroPoint[c];
      for (let i = 0; i < inner; i++) {
        const q = Math.round(values[base + i] * k) + zp;
        out[base + i] = q < qmin ? qmin : q > qmax ? qmax : q;
      }
    }
  }
}

export function quantizeInt8(values: Float32Array, shape: number[], params: QuantParams, narrow = false): Int8Array {
  const out = new Int8Array(values.length);
  quantizeInto(values, shape, params, out, narrow ? -127 : -128, 127);
  return out;
}

export function quantizeInt16(values: Float32Array, shape: number[], params: QuantParams): Int16Array {
  const out = new Int16Array(values.length);
  quantizeInto(values, shape, params, out, -32767, 32767);
  return out;
}

/** Bias at scale input_scale * weight_scale[c]: int32 (int8 activations) or int64 (16x8). */
export function quantizeBias(
  values: Float32Array,
  inputScale: number,
  weightScales: number[],
  bits: 32 | 64,
): { data: Int32Array | BigInt64Array; params: QuantParams } {
  const perChannel = weightScales.length > 1;
  if (perChannel && weightScales.length !== values.length) {
    throw new Error(`bias has ${values.length} values but the weights have ${weightScales.length} scales`);
  }
  const scale = weightScales.map((w) => inputScale * w);
  const params: QuantParams = { scale, zeroPoint: scale.map(() => 0), axis: 0 };
  const scaleOf = (c: number) => scale[perChannel ? c : 0];
  if (bits === 32) {
    const data = new Int32Array(values.length);
    for (let c = 0; c < values.length; c++) {
      data[c] = Math.max(-2147483647, Math.min(2147483647, Math.round(values[c] / scaleOf(c))));
    }
    return { data, params };
  }
  const data = new BigInt64Array(values.length);
  for (let c = 0; c < values.length; c++) data[c] = BigInt(Math.round(values[c] / scaleOf(c)));
  return { data, params };
}

/** Float32 view of a buffer's bytes (copied when unaligned). */
export function asFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Float32Array(bytes.slice().buffer);
}

export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * Where weight parameters come from when the caller knows better than symmetricWeightParams (e.g.
 * clustered weights); null means "use the default".
 */
export type WeightParamsHook = (values: Float32Array, shape: number[], axis: number, perChannel: boolean) => QuantParams | null;

export interface ClusterParams {
  params: QuantParams;
  /** Distinct values (centroids) per group, and how many of them share an integer with another. */
  distinct: number;
  collisions: number;
}

/**
 * Symmetric parameters for clustered weights: scale = max|centroid| / qmax per group, where a group
 * is the tensor (clusters per tensor) or a channel along `axis` (clusters per channel and per-channel
 * quantization allowed). One scale per group means each centroid maps to one integer, so a group of
 * at most k centroids stays at most k distinct integers; per-channel scales over per-tensor clusters
 * would turn k values into up to k x channels. Centroids closer than a step share an integer
 * (counted in `collisions`; the count of distinct values only goes down). Returns null when some
 * group holds more than `maxDistinct` distinct values (the weights are not clustered).
 */
export function clusterWeightParams(
  values: Float32Array,
  shape: number[],
  axis: number,
  perChannelClusters: boolean,
  perChannelAllowed: boolean,
  maxDistinct: number,
  qmax = 127,
): ClusterParams | null {
  const groups = perChannelClusters ? channelLayout(shape, axis) : { channels: 1, inner: values.length, outer: 1 };
  const sets = Array.from({ length: groups.channels }, () => new Set<number>());
  for (let o = 0; o < groups.outer; o++) {
    for (let c = 0; c < groups.channels; c++) {
      const set = sets[c];
      const base = (o * groups.channels + c) * groups.inner;
      for (let i = 0; i < groups.inner; i++) {
        set.add(values[base + i]);
        if (set.size > maxDistinct) return null;
      }
    }
  }
  const perChannel = perChannelClusters && perChannelAllowed;
  const maxima = sets.map((set) => {
    let m = 0;
    for (const v of set) m = Math.max(m, Math.abs(v));
    return m;
  });
  const largest = Math.max(0, ...maxima);
  // All-zero (pruned) channels: see symmetricWeightParams, their bias needs a real scale.
  const scale = perChannel ? maxima.map((m) => (m > 0 ? Math.max(m / qmax, MIN_SCALE) : largest > 0 ? largest / qmax : MIN_SCALE)) : [Math.max(largest / qmax, MIN_SCALE)];
  let collisions = 0;
  let distinct = 0;
  sets.forEach((set, c) => {
    const s = scale[perChannel ? c : 0];
    const ints = new Set<number>();
    for (const v of set) ints.add(Math.round(v / s));
    collisions += set.size - ints.size;
    distinct = Math.max(distinct, set.size);
  });
  return { params: { scale, zeroPoint: scale.map(() => 0), axis: perChannel ? axis : 0 }, distinct, collisions };
}

/**
 * Whether per-channel scales earn their keep for a weight tensor: each channel costs a float scale
 * and an int64 zero point in the file (12 bytes), so for FULLY_CONNECTED we take per-channel only
 * when it cuts the weight rounding error tenfold (10 dB), a guard for layers with dead channels: on the shared FC models a smaller gain in weight error did not show in the output (ad01: per-tensor 45.4 dB vs per-channel 43.0 dB output SQNR). Convolutions always
 * use per-channel (their channel ranges differ by orders of magnitude).
 */
export function perChannelPays(values: Float32Array, shape: number[], axis: number): boolean {
  const error = (params: QuantParams) => {
    const q = new Int8Array(values.length);
    quantizeInto(values, shape, params, q, -127, 127);
    const { channels, inner } = channelLayout(shape, params.scale.length > 1 ? params.axis : axis);
    let sum = 0;
    for (let i = 0; i < values.length; i++) {
      const scale = params.scale.length > 1 ? params.scale[Math.floor(i / inner) % channels] : params.scale[0];
      const d = values[i] - q[i] * scale;
      sum += d * d;
    }
    return sum;
  };
  const perTensor = error(symmetricWeightParams(values, shape, axis, false));
  const perChannel = error(symmetricWeightParams(values, shape, axis, true));
  return perChannel < 0.1 * perTensor;
}
