/**
 * Trainable weights: the float constants of a graph become tf.Variables, under the constraint the
 * optimization before training imposed, so training cannot undo it:
 *   free      the variable is the weight (biases, plain fine-tuning, QAT), or the weight divided by
 *             a rate per element (its own learning rate, QAT from a quantized start);
 *   mask      pruned: value = variable * mask, so pruned weights stay exactly zero;
 *   clusters  clustered: the variable holds one value per cluster and value = centroids[assignment],
 *             so the gradient of a centroid is the sum over its members (tf.gather's gradient);
 *             with zeros kept (prune then cluster) the zero cluster is masked too.
 * QAT adds weight fake-quantization on top (fakeQuantizeWeightsSte) in finetune.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

export type WeightConstraint = 'free' | 'mask' | 'clusters';

export interface TrainableWeight {
  tensorIndex: number;
  name: string;
  shape: number[];
  constraint: WeightConstraint;
  /** Channel axis for per-channel weight quantization; null for per-tensor or biases. */
  axis: number | null;
  /** Weights are what QAT fake-quantizes; biases stay float (int32 in the int8 model). */
  role: 'weight' | 'bias';
  /** What the graph reads (a tensor built from the variable; call inside the training tape). */
  value(): tf.Tensor;
  /** The variable(s) the optimizer updates. */
  readonly variable: tf.Variable;
  /** Current values as float32, laid out like the original tensor. */
  read(): Promise<Float32Array>;
  dispose(): void;
}

export interface WeightInit {
  tensorIndex: number;
  name: string;
  shape: number[];
  values: Float32Array;
  axis: number | null;
  role: 'weight' | 'bias';
  /** Tie equal values together (clustered tensors); with `perChannel`, only within one channel. */
  clusters?: { perChannel: boolean };
  /** Keep zeros at zero (pruned tensors). */
  keepZeros?: boolean;
  /**
   * Free weights only: value = variable * rate (one factor per slice along `axis`, or one for the
   * tensor when axis is null), so an optimizer step of size lr on the variable moves the weight by
   * about lr * rate: a weight's own learning rate.
   */
  rate?: { axis: number | null; values: Float32Array };
}

export function trainableWeight(init: WeightInit): TrainableWeight {
  if (init.clusters) return clusteredWeight(init);
  if (init.keepZeros && init.values.some((v) => v === 0)) return maskedWeight(init);
  if (init.rate) return rescaledWeight(init, init.rate);
  const variable = tf.variable(tf.tensor(init.values, init.shape), true, `w${init.tensorIndex}`);
  return {
    ...meta(init, 'free'),
    variable,
    value: () => variable,
    read: async () => (await variable.data()) as Float32Array,
    dispose: () => variable.dispose(),
  };
}

/** The float32 values of a derived weight (masked or tied), computed once and freed. */
async function readValue(value: () => tf.Tensor): Promise<Float32Array> {
  const t = value();
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

function meta(init: WeightInit, constraint: WeightConstraint) {
  return { tensorIndex: init.tensorIndex, name: init.name, shape: init.shape, axis: init.axis, role: init.role, constraint };
}

/** value = variable * factor: the variable starts at `start` (the weight divided by the factor where that is nonzero). */
function productWeight(init: WeightInit, constraint: WeightConstraint, factor: tf.Tensor, start: tf.Tensor): TrainableWeight {
  const kept = tf.keep(factor);
  const variable = tf.variable(start, true, `w${init.tensorIndex}`);
  start.dispose(); // the variable holds its own copy
  const value = () => tf.mul(variable, kept);
  return {
    ...meta(init, constraint),
    variable,
    value,
    read: () => readValue(value),
    dispose: () => {
      variable.dispose();
      kept.dispose();
    },
  };
}

function maskedWeight(init: WeightInit): TrainableWeight {
  const maskValues = new Float32Array(init.values.length);
  for (let i = 0; i < maskValues.length; i++) maskValues[i] = init.values[i] === 0 ? 0 : 1;
  return productWeight(init, 'mask', tf.tensor(maskValues, init.shape), tf.tensor(init.values, init.shape));
}

/** The rate broadcasts along its axis: shape [1, .., channels, .., 1], or a scalar for one rate. */
function rescaledWeight(init: WeightInit, rate: NonNullable<WeightInit['rate']>): TrainableWeight {
  const shape = rate.axis === null ? [] : init.shape.map((d, a) => (a === rate.axis ? d : 1));
  const factor = rate.axis === null ? tf.scalar(rate.values[0]) : tf.tensor(rate.values, shape);
  return productWeight(init, 'free', factor, tf.tidy(() => tf.div(tf.tensor(init.values, init.shape), factor)));
}

/** Channel index of element i for a row-major shape and axis. */
function channelLayout(shape: number[], axis: number): { inner: number; channels: number } {
  return { inner: shape.slice(axis + 1).reduce((n, d) => n * d, 1), channels: shape[axis] };
}

function clusteredWeight(init: WeightInit): TrainableWeight {
  const { values, shape } = init;
  const perChannel = init.clusters!.perChannel && init.axis !== null;
  const layout = perChannel ? channelLayout(shape, init.axis!) : null;
  const index = new Map<string, number>();
  const centroids: number[] = [];
  const assignments = new Int32Array(values.length);
  const keepZero = new Float32Array(values.length);
  let hasZero = false;
  for (let i = 0; i < values.length; i++) {
    const channel = layout ? Math.floor(i / layout.inner) % layout.channels : 0;
    const key = `${channel}:${values[i]}`;
    let c = index.get(key);
    if (c === undefined) {
      c = centroids.length;
      centroids.push(values[i]);
      index.set(key, c);
    }
    assignments[i] = c;
    keepZero[i] = values[i] === 0 && init.keepZeros ? 0 : 1;
    if (keepZero[i] === 0) hasZero = true;
  }
  const variable = tf.variable(tf.tensor1d(centroids), true, `c${init.tensorIndex}`);
  const gatherIndex = tf.keep(tf.tensor1d(assignments, 'int32'));
  const mask = hasZero ? tf.keep(tf.tensor(keepZero, shape)) : null;
  const k = centroids.length;
  // gather's own gradient needs UnsortedSegmentSum, which the WASM backend lacks; the sum of the
  // members' gradients per centroid is a weighted bincount, which it has.
  const tie = tf.customGrad(((c: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return { value: tf.gather(c, gatherIndex), gradFunc: (dy: tf.Tensor) => tf.denseBincount(gatherIndex, tf.reshape(dy, [-1]) as tf.Tensor1D, k) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const value = () => {
    const tied = tf.reshape(tie(variable) as tf.Tensor, shape);
    return mask ? tf.mul(tied, mask) : tied;
  };
  return {
    ...meta(init, 'clusters'),
    variable,
    value,
    read: () => readValue(value),
    dispose: () => {
      variable.dispose();
      gatherIndex.dispose();
      mask?.dispose();
    },
  };
}
