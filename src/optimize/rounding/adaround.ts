/**
 * AdaRound (Nagel et al., "Up or Down? Adaptive Rounding for Post-Training Quantization", 2020):
 * each weight rounds down or up, q = floor(w/s) + h(V), with h a rectified sigmoid
 * h = clip(sigmoid(V) (zeta - gamma) + gamma, 0, 1), zeta = 1.1, gamma = -0.1, learned by Adam on
 *   (1/O) sum_c d_c^T H d_c + lambda sum (1 - |2h - 1|^beta),   d = w - s q(V)
 * i.e. the layer's output MSE on the sampled rows (problem.ts) plus a regularizer that pushes every
 * h to 0 or 1 as beta anneals from 20 to 2 after a warm start without it. The final integers take
 * h >= 0.5 as "up". The paper's settings (lambda 0.01, beta 20 -> 2, 20% warm start); fewer
 * iterations than its 10k with a larger step, since the objective here is the exact full-batch
 * quadratic rather than mini-batches of images.
 *
 * Cost per iteration: the gradient needs D H; only the entries of D that moved are multiplied again
 * (h saturated at 0 or 1 stops moving, which most weights do once the regularizer is on), with a
 * full product every REFRESH iterations so rounding drift cannot build up.
 */
import { INTEGER_RANGE, type ChannelGroup, type RoundingBits } from './problem';

export interface AdaRoundOptions {
  iterations: number;
  learningRate: number;
  lambda: number;
  betaStart: number;
  betaEnd: number;
  warmStart: number;
}

export const ADAROUND_DEFAULTS: AdaRoundOptions = { iterations: 500, learningRate: 0.01, lambda: 0.01, betaStart: 20, betaEnd: 2, warmStart: 0.2 };

const ZETA = 1.1;
const GAMMA = -0.1;
const REFRESH = 50;

/** Writes the integers of every channel of `group` into `out`; `outChannels` is the layer's total (the loss is a mean over them). */
export function adaroundGroup(
  group: ChannelGroup,
  values: Float32Array,
  scaleOf: (c: number) => number,
  bits: RoundingBits,
  out: Int8Array,
  outChannels: number,
  options: AdaRoundOptions = ADAROUND_DEFAULTS,
): void {
  const { k, hessian, channels } = group;
  const m = channels.length;
  const n = m * k;
  const [lo, hi] = INTEGER_RANGE[bits];
  const w = new Float64Array(n);
  const scale = new Float64Array(n);
  const base = new Float64Array(n); // floor(w/s), or the fixed integer of a weight that cannot move
  const learnable = new Uint8Array(n);
  const v = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    const c = channels[r];
    const s = scaleOf(c);
    for (let j = 0; j < k; j++) {
      const i = r * k + j;
      w[i] = values[group.index(c, j)];
      scale[i] = s;
      const f = Math.floor(w[i] / s);
      if (f >= lo && f + 1 <= hi) {
        base[i] = f;
        learnable[i] = 1;
        // Start at h = the fractional part: the soft weights equal the float ones.
        const frac = Math.min(0.999, Math.max(0.001, w[i] / s - f));
        v[i] = -Math.log((ZETA - GAMMA) / (frac - GAMMA) - 1);
      } else base[i] = Math.min(hi, Math.max(lo, Math.round(w[i] / s)));
    }
  }
  const h = new Float64Array(n);
  const sigmoid = new Float64Array(n); // of the current v: one exp per weight and iteration
  const setSoft = (i: number) => {
    const sig = 1 / (1 + Math.exp(-v[i]));
    sigmoid[i] = sig;
    const raw = (ZETA - GAMMA) * sig + GAMMA;
    return raw < 0 ? 0 : raw > 1 ? 1 : raw;
  };
  for (let i = 0; i < n; i++) h[i] = learnable[i] ? setSoft(i) : 0;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = w[i] - scale[i] * (base[i] + h[i]);
  const g = new Float64Array(n); // D H
  const multiply = () => {
    g.fill(0);
    for (let r = 0; r < m; r++) axpyRows(d, r * k, hessian, k, g);
  };
  multiply();
  const m1 = new Float64Array(n);
  const m2 = new Float64Array(n);
  const delta = new Float64Array(k);
  const { iterations, learningRate, lambda, betaStart, betaEnd, warmStart } = options;
  const warm = Math.floor(warmStart * iterations);
  const b1 = 0.9;
  const b2 = 0.999;
  const reconScale = 2 / outChannels;
  for (let t = 1; t <= iterations; t++) {
    const regularized = t > warm;
    const beta = betaEnd + (betaStart - betaEnd) * Math.max(0, 1 - (t - warm) / Math.max(1, iterations - warm));
    const c1 = learningRate / (1 - b1 ** t);
    const c2 = 1 / (1 - b2 ** t);
    for (let r = 0; r < m; r++) {
      const row = r * k;
      let moved = false;
      for (let j = 0; j < k; j++) {
        const i = row + j;
        delta[j] = 0;
        if (!learnable[i]) continue;
        const sig = sigmoid[i];
        const raw = (ZETA - GAMMA) * sig + GAMMA;
        // Outside (0, 1) h is clipped: no gradient through it (the regularizer's is zero there too).
        if (raw <= 0 || raw >= 1) {
          m1[i] *= b1;
          m2[i] *= b2;
          if (m1[i] === 0) continue;
        } else {
          // d loss / d h: the reconstruction through d = w - s (f + h), and the regularizer.
          let grad = -scale[i] * reconScale * g[i];
          if (regularized) {
            const a = 2 * raw - 1;
            grad += lambda * -beta * Math.abs(a) ** (beta - 1) * Math.sign(a) * 2;
          }
          grad *= (ZETA - GAMMA) * sig * (1 - sig);
          m1[i] = b1 * m1[i] + (1 - b1) * grad;
          m2[i] = b2 * m2[i] + (1 - b2) * grad * grad;
        }
        v[i] -= (c1 * m1[i]) / (Math.sqrt(m2[i] * c2) + 1e-8);
        const next = setSoft(i);
        if (next !== h[i]) {
          delta[j] = -scale[i] * (next - h[i]);
          h[i] = next;
          d[i] = w[i] - scale[i] * (base[i] + next);
          moved = true;
        }
      }
      if (moved && t % REFRESH !== 0) axpyRows(delta, 0, hessian, k, g, row);
    }
    if (t % REFRESH === 0) multiply();
  }
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < k; j++) {
      const i = r * k + j;
      const q = learnable[i] ? base[i] + (h[i] >= 0.5 ? 1 : 0) : base[i];
      out[group.index(channels[r], j)] = q;
    }
  }
}

/** g[out + :] += x[at + :] H (one row of D times H), skipping zeros. */
function axpyRows(x: Float64Array, at: number, hessian: Float64Array, k: number, g: Float64Array, out = at): void {
  for (let i = 0; i < k; i++) {
    const a = x[at + i];
    if (a === 0) continue;
    const row = i * k;
    for (let j = 0; j < k; j++) g[out + j] += a * hessian[row + j];
  }
}
