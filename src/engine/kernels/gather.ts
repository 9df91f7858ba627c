/**
 * GATHER (axis, batch_dims) and GATHER_ND. Indices are int32 in the engine (int64 narrowed).
 *
 * Two tfjs gaps are worked around here: tf.gather's gradient needs UnsortedSegmentSum, which the WASM
 * backend lacks, so GATHER carries its own gradient (a one-hot matmul scatter-add; embeddings train);
 * and tf.gather with batch_dims > 0 returns wrong rows on WASM (tfjs 4.22), so batches are gathered
 * one by one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel, KernelTable } from '../kernel';

function indicesOf(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'int32' ? t : tf.cast(t, 'int32');
}

/** tf.gather along axis 0 whose gradient is dy scattered back (summed) onto the rows it came from. */
function gatherRows(params: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const rows = params.shape[0];
  const op = tf.customGrad(((p: tf.Tensor, save: tf.GradSaveFunc) => {
    save([indices]);
    return {
      value: tf.gather(p, indices, 0),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const flat = tf.reshape(saved[0], [-1]);
        const rest = p.shape.slice(1);
        const dyRows = tf.reshape(dy, [flat.shape[0], rest.reduce((n, d) => n * d, 1)]);
        const scatter = tf.oneHot(flat, rows, 1, 0, 'float32');
        return tf.reshape(tf.matMul(scatter, dyRows, true, false), p.shape);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(params) as tf.Tensor;
}

/** tf.gather(params, indices, axis) with a gradient on every backend. */
function gatherAxis(params: tf.Tensor, indices: tf.Tensor, axis: number): tf.Tensor {
  if (axis === 0) return gatherRows(params, indices);
  const rank = params.rank;
  // Bring the axis to the front, gather rows, and put the gathered dimensions back in its place.
  const toFront = [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
  const gathered = gatherRows(tf.transpose(params, toFront), indices);
  const k = indices.rank;
  const perm = [...Array.from({ length: axis }, (_, i) => k + i), ...Array.from({ length: k }, (_, i) => i), ...Array.from({ length: rank - 1 - axis }, (_, i) => k + axis + i)];
  return tf.transpose(gathered, perm);
}

const gather: Kernel = (args) => {
  const [params, indices] = args.inputs as tf.Tensor[];
  const idx = indicesOf(indices);
  let axis: number = args.options?.axis ?? 0;
  if (axis < 0) axis += params.rank;
  let batchDims: number = args.options?.batchDims ?? 0;
  if (batchDims < 0) batchDims += idx.rank;
  if (batchDims === 0) return gatherAxis(params, idx, axis);
  const batchShape = params.shape.slice(0, batchDims);
  const batch = batchShape.reduce((n, d) => n * d, 1);
  const p = tf.unstack(tf.reshape(params, [batch, ...params.shape.slice(batchDims)]));
  const i = tf.unstack(tf.reshape(idx, [batch, ...idx.shape.slice(batchDims)]));
  const parts = p.map((rows, b) => gatherAxis(rows, i[b], axis - batchDims));
  const stacked = tf.stack(parts);
  return tf.reshape(stacked, [...batchShape, ...stacked.shape.slice(1)]);
};

const gatherNd: Kernel = (args) => {
  const [params, indices] = args.inputs as tf.Tensor[];
  return tf.gatherND(params, indicesOf(indices));
};

export const gatherKernels: KernelTable = {
  GATHER: gather,
  GATHER_ND: gatherNd,
};
