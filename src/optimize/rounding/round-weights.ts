/**
 * roundWeights: the integers of one weight tensor by a rounding method, for the planned scales.
 * Pure (no graph, no runtime): the int8 and the int4 weight paths both call it, and the tests call
 * it with their own rows.
 */
import { adaroundGroup, ADAROUND_DEFAULTS, type AdaRoundOptions } from './adaround';
import { gptqGroup } from './gptq';
import { layoutOf, nearestInteger, type LayerLayout, type RoundingMethod, type RoundingProblem } from './problem';

export interface RoundOptions {
  adaround?: Partial<AdaRoundOptions>;
}

/** `layout`: the problem's channel groups and Gram matrices when the caller has them already (layoutOf). */
export function roundWeights(method: RoundingMethod, problem: RoundingProblem, options: RoundOptions = {}, layout: LayerLayout = layoutOf(problem)): Int8Array {
  const { values, bits } = problem;
  const out = new Int8Array(values.length);
  if (method === 'nearest') {
    for (const group of layout.groups) {
      for (const c of group.channels) {
        const s = layout.scaleOf(c);
        for (let j = 0; j < group.k; j++) {
          const i = group.index(c, j);
          out[i] = nearestInteger(values[i], s, bits);
        }
      }
    }
    return out;
  }
  const adaround = { ...ADAROUND_DEFAULTS, ...options.adaround };
  for (const group of layout.groups) {
    if (method === 'gptq') gptqGroup(group, values, layout.scaleOf, bits, out);
    else adaroundGroup(group, values, layout.scaleOf, bits, out, layout.outChannels, adaround);
  }
  return out;
}
