/**
 * Model outputs with a heavy one-sided tail. A detector's score logits (BlazeFace: 896 anchors, nearly
 * all background) sit densely in [-20, 1] with a tail of rare logits down to -330. Every range
 * algorithm keeps that tail (minmax by definition; mse because the few clipped values would each
 * cost (330 - lo)^2; percentile clips both sides and so also the rare high values, which are the
 * detections), so the int8 step is ~1.3 logits and the scores near the decision threshold (logit 0)
 * take two or three values. Past the dense region the exact value of such an output carries nothing
 * a consumer ranks by (a sigmoid of -20 and of -330 are both 0), while its other side (the rare
 * high scores) is what is ranked: so the heavy side is clipped at Tukey's far-out fence (FENCE
 * interquartile ranges beyond the quartile) and the other keeps its extreme, as SOFTMAX inputs keep
 * theirs (output-ranges.ts RANKING_OPS).
 *
 * Only for a graph output whose int8 grid leaves the middle half of its values unresolved (fewer than
 * MIN_STEPS_PER_IQR steps across the interquartile range) because of a tail on one side only (the
 * extreme more than HEAVY interquartile ranges beyond the quartile there, not on the other side).
 * The quartiles come from the output's histogram; the clip is applied to every tensor sharing the
 * output's scale (back through RESHAPE / CONCATENATION... to the ops computing it), whose union
 * would otherwise bring the tail back. Measured on BlazeFace (tflite-opt eval with --anchors): int8
 * mAP@0.5 against the float model 71% -> 94% (bench/README.md).
 */
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import type { RangeMap } from '../quantize/ranges';
import { rangeKey } from '../quantize/ranges';
import { ruleFor, sameScaleInputs } from '../quantize/rules';
import { quantile, type StatsSource } from './ranges';
import { occupiedBins } from './statistics/histogram';

/** The clip: Tukey's far-out fence, FENCE interquartile ranges beyond the quartile. */
export const FENCE = 3;
/** A tail is heavy when its extreme lies more than HEAVY interquartile ranges beyond the quartile. */
export const HEAVY = 10;
/**
 * And only when the int8 grid over the whole range puts fewer than this many steps across the
 * interquartile range (the middle half of the values is then unresolved). BlazeFace's score logits:
 * 1.9 steps (range 317, IQR 2.35), clipped; its box regressions: 10 steps (range 295, IQR 12.4),
 * whose high tail is the sizes of large faces: clipping it there (at 46) took mAP@0.5 from 94% to 82%.
 */
export const MIN_STEPS_PER_IQR = 4;

export interface TailClip {
  tensor: string;
  side: 'low' | 'high';
  from: number;
  to: number;
  /** The output's first and third quartiles on the calibration data. */
  quartiles: [number, number];
}

/**
 * Clips, in place, the heavy tails of the graph outputs' scale groups; returns what it clipped. `stats` gives the quartiles (histograms needed: without, nothing is
 * clipped), `ranges` the ranges calibration chose (minmax or any other).
 */
export function clipOutputTails(graph: ModelGraph, stats: StatsSource, ranges: RangeMap, bits: 8 | 16 = 8): TailClip[] {
  const steps = bits === 8 ? 255 : 65534;
  const clips: TailClip[] = [];
  graph.subgraphs.forEach((subgraph, s) => {
    const producer = new Map<number, number>();
    subgraph.operators.forEach((op, o) => op.outputs.forEach((t) => producer.set(t, o)));
    for (const output of subgraph.outputs) {
      // The tensors that take the output's scale: back through RESHAPE / CONCATENATION / ... to the
      // ops that compute it. The output holds all their values, so its histogram decides for all.
      const members = new Set<number>();
      const visit = (t: number) => {
        if (members.has(t)) return;
        members.add(t);
        const o = producer.get(t);
        if (o === undefined) return;
        const op = subgraph.operators[o];
        const code = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
        for (const i of sameScaleInputs(code, op.inputs.length)) if (op.inputs[i] !== undefined && op.inputs[i] >= 0) visit(op.inputs[i]);
      };
      visit(output);
      // A SOFTMAX / LOGISTIC / TANH output has its fixed parameters whatever its range.
      const fixed = [...members].some((t) => {
        const o = producer.get(t);
        return o !== undefined && ruleFor(builtinCodeOf(graph.operatorCodes[subgraph.operators[o].opcodeIndex]))?.fixedOutput !== undefined;
      });
      if (fixed) continue;
      const key = rangeKey(s, output);
      const tensor = stats.tensors.get(key);
      const range = ranges.get(key);
      if (!tensor || !range || tensor.count === 0) continue;
      const bins = occupiedBins(tensor);
      if (!bins.total) continue;
      const q1 = quantile(bins, 0.25, tensor);
      const q3 = quantile(bins, 0.75, tensor);
      const iqr = q3 - q1;
      if (!(iqr > 0)) continue;
      // Only where the grid over the whole range leaves the middle half of the values unresolved.
      if ((range.max - range.min) / iqr < steps / MIN_STEPS_PER_IQR) continue;
      const lowHeavy = range.min < q1 - HEAVY * iqr;
      const highHeavy = range.max > q3 + HEAVY * iqr;
      // One-sided only: a tail on both sides says nothing about which side is ranked. Zero stays on the grid.
      let clip: TailClip | null = null;
      if (lowHeavy && !highHeavy) clip = { tensor: subgraph.tensors[output].name, side: 'low', from: range.min, to: Math.min(q1 - FENCE * iqr, 0), quartiles: [q1, q3] };
      else if (highHeavy && !lowHeavy) clip = { tensor: subgraph.tensors[output].name, side: 'high', from: range.max, to: Math.max(q3 + FENCE * iqr, 0), quartiles: [q1, q3] };
      if (!clip) continue;
      clips.push(clip);
      for (const t of members) {
        const r = ranges.get(rangeKey(s, t));
        if (!r) continue;
        ranges.set(rangeKey(s, t), clip.side === 'low' ? { min: Math.max(r.min, clip.to), max: r.max } : { min: r.min, max: Math.min(r.max, clip.to) });
      }
    }
  });
  return clips;
}
