/**
 * Fake quantization: round a real value to the nearest value an integer tensor can hold and map it
 * back, q = clamp(round(x / s) + z, qmin, qmax), x' = s * (q - z).
 *
 * For simulation it is plain arithmetic. For training the straight-through estimator passes the
 * gradient unchanged inside the representable range and blocks it outside (clipped STE), so weights and
 * activations learn to live with the rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isOutside } from './float-masks';

export interface FakeQuantParams {
  /** One scale per tensor, or one per channel along `axis`. */
  scale: number[];
  zeroPoint: number[];
  axis: number;
  qmin: number;
  qmax: number;
  /**
   * How q = x / s + z is rounded: 'half-even' (default, tf.round; what XNNPACK's requantization
   * does) or 'half-away' from zero on q itself, which TFLite's integer AVERAGE_POOL_2D does
   * ((sum +- count / 2) / count over the raw integers, zero point included).
   */
  rounding?: 'half-even' | 'half-away';
}

/**
 * Values within this distance of a tie count as the tie (half-away rounding): they come from float
 * means of integers, which land a few ulps off; ties are multiples of 1/count apart, far more.
 */
const TIE_TOLERANCE = 1e-4;

function broadcastParams(x: tf.Tensor, p: FakeQuantParams): { scale: tf.Tensor; zero: tf.Tensor } {
  if (p.scale.length === 1) return { scale: tf.scalar(p.scale[0]), zero: tf.scalar(p.zeroPoint[0] ?? 0) };
  const shape = x.shape.map((_, i) => (i === p.axis ? p.scale.length : 1));
  const zero = p.scale.map((_, c) => p.zeroPoint[c] ?? 0);
  return { scale: tf.tensor(p.scale, shape), zero: tf.tensor(zero, shape) };
}

/** Quantize-dequantize without a gradient of its own (simulation). */
export function fakeQuantize(x: tf.Tensor, p: FakeQuantParams): tf.Tensor {
  if (p.scale.length === 1 && p.rounding !== 'half-away') return fakeQuantizePerTensor(x, p);
  return tf.tidy(() => {
    const { scale, zero } = broadcastParams(x, p);
    let q: tf.Tensor;
    if (p.rounding === 'half-away') {
      const v = tf.add(tf.div(x, scale), zero);
      q = tf.mul(tf.sign(v), tf.floor(tf.add(tf.abs(v), 0.5 + TIE_TOLERANCE)));
    } else {
      q = tf.add(tf.round(tf.div(x, scale)), zero);
    }
    return tf.mul(tf.sub(tf.clipByValue(q, p.qmin, p.qmax), zero), scale);
  });
}

/**
 * The per-tensor case in four element-wise kernels instead of six: clamping round(x / s) to
 * [qmin - z, qmax - z] and scaling is (clamp(round(x / s) + z, qmin, qmax) - z) * s to the bit, as
 * every value in between is an integer far below 2^24 (exact in float32). QAT runs this on every
 * activation of every step (bench/qat-epoch.ts).
 */
function fakeQuantizePerTensor(x: tf.Tensor, p: FakeQuantParams): tf.Tensor {
  return tf.tidy(() => {
    const scale = tf.scalar(p.scale[0]);
    const zero = p.zeroPoint[0] ?? 0;
    return tf.mul(tf.clipByValue(tf.round(tf.div(x, scale)), p.qmin - zero, p.qmax - zero), scale);
  });
}

/** Quantize-dequantize whose gradient is the clipped straight-through estimator (training). */
export function fakeQuantizeSte(x: tf.Tensor, p: FakeQuantParams): tf.Tensor {
  if (p.scale.length !== 1) return fakeQuantizeSteGeneral(x, p);
  // The representable range in float32, as the tensor arithmetic below would compute it:
  // Math.fround of an exact double product of a float32 and a small integer is the float32 product.
  const scale = Math.fround(p.scale[0]);
  const zero = p.zeroPoint[0] ?? 0;
  const lo = Math.fround((p.qmin - zero) * scale);
  const hi = Math.fround((p.qmax - zero) * scale);
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    // The mask from float kernels (float-masks.ts): the boolean ones cost QAT ~4x a plain forward pass.
    save([isOutside(input, lo, hi)]);
    const value = fakeQuantizePerTensor(input, p);
    // dy where x was representable, 0 where it was clipped: dy - dy * outside.
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.sub(dy, tf.mul(dy, saved[0])) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}

/** fakeQuantizeSte with one scale per channel. */
function fakeQuantizeSteGeneral(x: tf.Tensor, p: FakeQuantParams): tf.Tensor {
  // tfjs types the custom function's arguments as (...inputs, save) in one union; spell it out.
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const { scale, zero } = broadcastParams(input, p);
    const lo = tf.mul(tf.sub(tf.scalar(p.qmin), zero), scale);
    const hi = tf.mul(tf.sub(tf.scalar(p.qmax), zero), scale);
    const inside = tf.logicalAnd(tf.greaterEqual(input, lo), tf.lessEqual(input, hi));
    save([tf.cast(inside, 'float32')]);
    const value = fakeQuantize(input, p);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}

/** Integer range of a TFLite tensor type name used by quantized tensors. */
export function integerRange(type: 'int8' | 'uint8' | 'int16' | 'int32'): { qmin: number; qmax: number } {
  switch (type) {
    case 'int8':
      return { qmin: -128, qmax: 127 };
    case 'uint8':
      return { qmin: 0, qmax: 255 };
    case 'int16':
      return { qmin: -32768, qmax: 32767 };
    case 'int32':
      return { qmin: -2147483648, qmax: 2147483647 };
  }
}

/**
 * Weight fake-quantization as the int8 path will store the weights: symmetric, range -127..127, scale
 * = max|w| / 127 per channel along `axis` (or per tensor when axis is null), recomputed from the
 * current weights at every step. The gradient passes straight through (every weight is in range by
 * construction, so the clipped and plain STE agree).
 */
export function fakeQuantizeWeightsSte(w: tf.Tensor, axis: number | null): tf.Tensor {
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const value = tf.tidy(() => {
      const reduce = axis === null ? undefined : input.shape.map((_, i) => i).filter((i) => i !== axis);
      const absMax = tf.max(tf.abs(input), reduce, true);
      const scale = tf.maximum(tf.div(absMax, 127), 1e-12);
      return tf.mul(tf.clipByValue(tf.round(tf.div(input, scale)), -127, 127), scale);
    });
    return { value, gradFunc: (dy: tf.Tensor) => dy };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(w) as tf.Tensor;
}
