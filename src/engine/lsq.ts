/**
 * Learned step size quantization (LSQ; Esser et al., "Learned Step Size Quantization", ICLR 2020)
 * of symmetric weights: w' = s * clamp(round(w / s), qmin, qmax) with the step s a trained variable
 * (one per output channel along `axis`, or one for the tensor).
 *
 * Gradients (the paper's eq. 3, straight-through for the rounding):
 *   dw'/dw = 1 inside [qmin s, qmax s], 0 outside;
 *   dw'/ds = round(w / s) - w / s inside, qmin below, qmax above;
 * and the step's gradient is scaled by g = 1 / sqrt(N * qmax), N the weights one step serves (the
 * paper's gradient scale, so the step learns at the pace of the weights it quantizes).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface LsqParams {
  /** Output-channel axis the steps run along; null for one step for the whole tensor. */
  axis: number | null;
  qmin: number;
  qmax: number;
}

/** The paper's gradient scale for a step that serves `perStep` weights of a range up to qmax. */
export function lsqGradientScale(perStep: number, qmax: number): number {
  return 1 / Math.sqrt(perStep * qmax);
}

/** Shape a per-channel step broadcasts with against a weight of `shape` (a scalar-like [1...] for per-tensor). */
function stepShape(shape: number[], axis: number | null, steps: number): number[] {
  return shape.map((d, i) => (axis !== null && i === axis ? steps : 1));
}

/** w' for weights `w` and steps `s` (rank 1: one per channel, or one), differentiable in both. */
export function lsqQuantize(w: tf.Tensor, s: tf.Tensor, p: LsqParams): tf.Tensor {
  const steps = s.size;
  const perStep = w.size / steps;
  const g = lsqGradientScale(perStep, p.qmax);
  const reduceAxes = w.shape.map((_, i) => i).filter((i) => p.axis === null || i !== p.axis);
  const op = tf.customGrad(((x: tf.Tensor, step: tf.Tensor, save: tf.GradSaveFunc) => {
    const sb = tf.reshape(step, stepShape(x.shape, p.axis, steps));
    const v = tf.div(x, sb);
    const q = tf.clipByValue(tf.round(v), p.qmin, p.qmax);
    save([v, q]);
    return {
      value: tf.mul(q, sb),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [vs, qs] = saved;
        const below = tf.less(vs, p.qmin);
        const above = tf.greater(vs, p.qmax);
        const inside = tf.cast(tf.logicalNot(tf.logicalOr(below, above)), 'float32');
        // Inside: round(v) - v; outside: the clamped integer itself (qmin or qmax), which qs holds there.
        const local = tf.where(tf.logicalOr(below, above), qs, tf.sub(qs, vs));
        const ds = tf.mul(tf.reshape(tf.sum(tf.mul(dy, local), reduceAxes), [steps]), g);
        return [tf.mul(dy, inside), ds];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(w, s) as tf.Tensor;
}

/**
 * LSQ of an affine activation: x' = s * (clamp(round(x / s) + z, qmin, qmax) - z), one learned step
 * s for the tensor (a [1] variable) and a fixed integer zero point z (from the starting range).
 * Gradients as for weights with the clamp bounds shifted by z: dx'/dx = 1 inside, 0 outside;
 * dx'/ds = round(x / s) - x / s inside, qmin - z below, qmax - z above; the step's gradient scaled
 * by 1 / sqrt(N * (qmax - z)), N the values per sample (the paper's per-layer feature count).
 */
export function lsqQuantizeActivation(x: tf.Tensor, s: tf.Tensor, zeroPoint: number, qmin: number, qmax: number, perSample: number): tf.Tensor {
  const g = lsqGradientScale(perSample, Math.max(1, qmax - zeroPoint));
  const lo = qmin - zeroPoint;
  const hi = qmax - zeroPoint;
  const op = tf.customGrad(((input: tf.Tensor, step: tf.Tensor, save: tf.GradSaveFunc) => {
    const sb = tf.reshape(step, []);
    const v = tf.div(input, sb);
    const q = tf.clipByValue(tf.round(v), lo, hi);
    save([v, q]);
    return {
      value: tf.mul(q, sb),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [vs, qs] = saved;
        const outside = tf.logicalOr(tf.less(vs, lo), tf.greater(vs, hi));
        const local = tf.where(outside, qs, tf.sub(qs, vs));
        const ds = tf.mul(tf.reshape(tf.sum(tf.mul(dy, local)), [1]), g);
        return [tf.mul(dy, tf.cast(tf.logicalNot(outside), 'float32')), ds];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, s) as tf.Tensor;
}
