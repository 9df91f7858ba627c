/**
 * GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers", 2022): round one input column at a time and push its rounding error onto the
 * columns not yet rounded, in proportion to the inverse Hessian, so that the layer output
 * X (W - Wq) stays small. With U the upper Cholesky factor of H^-1 (H^-1 = U^T U), after rounding
 * column i: w_j -= (w_i - s q_i) / U_ii * U_ij for j > i. Columns go in order of decreasing H_ii
 * ("act order"): the inputs with the most energy are rounded first, while the most columns are left
 * to absorb their error. One pass, no iterations: cost k^3 per group + k^2 per output channel.
 */
import { INTEGER_RANGE, type ChannelGroup, type RoundingBits } from './problem';

/** Diagonal damping, relative to the mean of H's diagonal (the paper's 1%). */
export const GPTQ_DAMPING = 0.01;

/** Writes the integers of every channel of `group` into `out` (flat, the weights' layout). */
export function gptqGroup(group: ChannelGroup, values: Float32Array, scaleOf: (c: number) => number, bits: RoundingBits, out: Int8Array): void {
  const { k } = group;
  const [lo, hi] = INTEGER_RANGE[bits];
  const diagonal = Array.from({ length: k }, (_, i) => group.hessian[i * k + i]);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => diagonal[b] - diagonal[a] || a - b);
  const u = inverseCholeskyUpper(group.hessian, k, order);
  const w = new Float64Array(k);
  for (const c of group.channels) {
    const s = scaleOf(c);
    for (let j = 0; j < k; j++) w[j] = values[group.index(c, order[j])];
    for (let i = 0; i < k; i++) {
      let q = Math.round(w[i] / s);
      q = q < lo ? lo : q > hi ? hi : q;
      out[group.index(c, order[i])] = q;
      const err = (w[i] - s * q) / u[i * k + i];
      if (err === 0) continue;
      const row = i * k;
      for (let j = i + 1; j < k; j++) w[j] -= err * u[row + j];
    }
  }
}

/**
 * Upper Cholesky factor U of (P H P^T + damping)^-1, P the permutation `order`. Inputs that never
 * fire (H_ii = 0) get a unit diagonal: their weights do not matter, and H stays invertible. The
 * damping grows tenfold until the factorization succeeds (H from few rows can be singular).
 */
export function inverseCholeskyUpper(hessian: Float64Array, k: number, order: number[]): Float64Array {
  let meanDiagonal = 0;
  for (let i = 0; i < k; i++) meanDiagonal += hessian[i * k + i];
  meanDiagonal = meanDiagonal > 0 ? meanDiagonal / k : 1;
  for (let damping = GPTQ_DAMPING; ; damping *= 10) {
    const h = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) h[i * k + j] = hessian[order[i] * k + order[j]];
      if (h[i * k + i] <= 0) h[i * k + i] = 1;
      h[i * k + i] += damping * meanDiagonal;
    }
    const l = choleskyLower(h, k);
    if (!l) {
      if (damping > 1e6) throw new Error('GPTQ: the input Gram matrix cannot be factorized');
      continue;
    }
    // H^-1 = L^-T L^-1; its upper factor U (U^T U = H^-1) is the Cholesky factor of H^-1 transposed.
    const inverse = inverseFromCholesky(l, k);
    const f = choleskyLower(inverse, k);
    if (!f) continue;
    const upper = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) upper[i * k + j] = f[j * k + i];
    return upper;
  }
}

/** Lower-triangular L with L L^T = a, or null when a is not positive definite. */
export function choleskyLower(a: Float64Array, k: number): Float64Array | null {
  const l = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j];
    const rj = j * k;
    for (let p = 0; p < j; p++) d -= l[rj + p] * l[rj + p];
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[rj + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      const ri = i * k;
      let v = a[ri + j];
      for (let p = 0; p < j; p++) v -= l[ri + p] * l[rj + p];
      l[ri + j] = v / ljj;
    }
  }
  return l;
}

/**
 * (L L^T)^-1 from L: invert the triangle, then L^-T L^-1. L^-1 is kept transposed (column j of
 * L^-1 as row j), so every inner loop reads memory in order: the same sums in the same order as
 * reading the columns, 4-5x faster for k ~ 1000, where a column stride misses the cache at each step.
 */
function inverseFromCholesky(l: Float64Array, k: number): Float64Array {
  // mt[j][p] = (L^-1)[p][j], by forward substitution column by column.
  const mt = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    const cj = j * k;
    mt[cj + j] = 1 / l[j * k + j];
    for (let i = j + 1; i < k; i++) {
      const ri = i * k;
      let v = 0;
      for (let p = j; p < i; p++) v -= l[ri + p] * mt[cj + p];
      mt[cj + i] = v / l[ri + i];
    }
  }
  // inverse[i][j] = sum_p m[p][i] m[p][j], p >= max(i, j).
  const inverse = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const ci = i * k;
    for (let j = i; j < k; j++) {
      const cj = j * k;
      let v = 0;
      for (let p = j; p < k; p++) v += mt[ci + p] * mt[cj + p];
      inverse[i * k + j] = v;
      inverse[j * k + i] = v;
    }
  }
  return inverse;
}
