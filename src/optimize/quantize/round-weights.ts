/**
 * The one place a weight's integer values are made from its float values and planned scales:
 * round to nearest, clamped to the planned width (int8 narrow range -127..127 as the TFLite spec asks
 * of int8 weights; int4 the full -8..7, as AI Edge Quantizer stores it). Better rounding (AdaRound,
 * GPTQ) replaces this function; everything after it (packing, bias correction) reads its result.
 */
import { INT4_MAX, INT4_MIN } from './int4';
import { quantizeInto, type QuantParams } from './params';
import type { WeightPlan } from './plan-types';

export function weightParamsOf(plan: Pick<WeightPlan, 'scales' | 'zeroPoints' | 'axis'>): QuantParams {
  return { scale: plan.scales, zeroPoint: plan.zeroPoints, axis: plan.axis ?? 0 };
}

/** Integer weights (one per Int8Array element, int4 unpacked) for `plan`. */
export function roundWeights(values: Float32Array, shape: number[], plan: WeightPlan): Int8Array {
  const out = new Int8Array(values.length);
  const [lo, hi] = plan.bits === 4 ? [INT4_MIN, INT4_MAX] : [-127, 127];
  quantizeInto(values, shape, weightParamsOf(plan), out, lo, hi);
  return out;
}
