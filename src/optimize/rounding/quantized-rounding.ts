/**
 * Second rounding of int4 layers, for the inputs the quantized model gives them: the planned model
 * is quantized once with the first rounding (from the float model's inputs), run beside the float
 * model on the calibration samples (quantized-inputs.ts), and every dense int4 layer is rounded again
 * (scale search + the rounding method) against the Gram matrix of its quantized inputs X~, its
 * weights either as they are ('quantized': GPTQ's sequential form) or refitted so that X~ w' best
 * matches the float layer's X w ('asymmetric', asymmetric-target.ts). One extra LiteRT pass over the
 * samples for all layers at once: the layers' inputs come from the first rounding of the layers
 * above, not from their second (a cascade layer by layer would take a pass per layer).
 *
 * Neither beat rounding from the float inputs (pipeline.ts INT4_INPUTS has the figures): kept as
 * options for experiments (npm run bench:w4a8 -- --int4-inputs quantized|asymmetric --refit-layers N).
 */
import { cloneGraph } from '../../tflite/edit';
import type { Samples } from '../../runtime/samples';
import type { ModelGraph } from '../../tflite/graph';
import { constantAsFloat32 } from '../quantize/fold-dequantize';
import { applyInteger, type IntegerOptions, type PlannedInteger } from '../quantize/integer';
import { rangeKey } from '../quantize/ranges';
import { asymmetricTarget, MIN_ROWS_PER_INPUT } from './asymmetric-target';
import type { LayerInputCollector } from './layer-inputs';
import { MAX_WIDTH, roundPlannedWeights } from './round-plan';
import type { LayerRows, RoundingMethod } from './problem';
import { quantizedInputMoments } from './quantized-inputs';

export type Int4Inputs = 'float' | 'quantized' | 'asymmetric';
export const INT4_INPUT_MODES: readonly Int4Inputs[] = ['float', 'quantized', 'asymmetric'];

/** Layers the asymmetric form refits by default (one LiteRT pass each). */
export const ASYMMETRIC_LAYERS = 1;

const countOf = (samples: Samples) => (Array.isArray(samples) ? samples.length : 1);

export interface QuantizedRoundingOptions {
  method: Exclude<RoundingMethod, 'nearest'>;
  target: Exclude<Int4Inputs, 'float'>;
  centered: boolean;
  /** 'asymmetric': how many layers (the last ones with enough rows) are refitted; default ASYMMETRIC_LAYERS. */
  layers?: number;
  /** Rows per layer for X~^T X~ (default the quantized-inputs default). */
  rows?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface QuantizedRoundingResult {
  /** Layers rounded again, and of those the ones whose weights were refitted (asymmetric). */
  layers: number;
  refitted: number;
  note: string;
}

/**
 * Rounds the dense int4 layers of `planned` again from their quantized inputs; the new integers go
 * into `integerOptions.roundedWeights` (and the new scales into the plan), the rest stays.
 */
export async function roundFromQuantizedInputs(
  floatGraph: ModelGraph,
  planned: PlannedInteger,
  integerOptions: IntegerOptions,
  collector: Pick<LayerInputCollector, 'sites' | 'rows'>,
  samples: Samples,
  options: QuantizedRoundingOptions,
): Promise<QuantizedRoundingResult> {
  const subgraph = planned.graph.subgraphs[0];
  const int4 = new Map(
    (planned.plan.subgraphs[0]?.ops ?? [])
      .filter((op) => op.mode === 'quantized' && op.weights?.bits === 4 && integerOptions.roundedWeights?.has(rangeKey(0, op.weights.tensorIndex)))
      .map((op) => [rangeKey(0, subgraph.operators[op.opIndex].outputs[0]), op]),
  );
  const sites = collector.sites.filter((s) => s.layout === 'dense' && s.width <= MAX_WIDTH && int4.has(s.key));
  const empty: QuantizedRoundingResult = { layers: 0, refitted: 0, note: '' };
  if (!sites.length) return empty;
  const floatRows = collector.rows();
  if (options.target === 'quantized') {
    // Every layer from one pass: only H changes (no refit), so the layers' stale prefixes matter little.
    const first = applyInteger({ graph: cloneGraph(planned.graph), plan: structuredClone(planned.plan) }, integerOptions);
    const moments = await quantizedInputMoments(floatGraph, first.graph, sites, samples, { total: countOf(samples), rows: options.rows, signal: options.signal });
    const rows = new Map<string, LayerRows>();
    const only = new Set<number>();
    for (const site of sites) {
      const m = moments.get(site.key);
      const reservoir = floatRows.get(site.key);
      if (!m || !reservoir) continue;
      rows.set(site.key, { ...reservoir, moments: { count: m.count, sum: m.sum, outer: m.outer } });
      only.add(int4.get(site.key)!.opIndex);
    }
    const again = await roundPlannedWeights(planned.graph, planned.plan, rows, { method: options.method, centered: options.centered, signal: options.signal, onProgress: options.onProgress, only });
    for (const [key, q] of again.weights) integerOptions.roundedWeights!.set(key, q);
    return { layers: again.layers, refitted: 0, note: `int4 weights rounded again from the quantized model's inputs in ${again.layers} layer(s) on ${countOf(samples)} sample(s)` };
  }
  // Refitting a layer makes it take out the error its inputs carry in, so the layers after it must
  // be measured with it refitted (refitting all from one pass takes the same error out twice:
  // MobileNetV1 W4A8 fell to 9.5% top-1): one pass per layer, the last `layers` ones with enough rows.
  const fits = sites.filter((site) => {
    const reservoir = floatRows.get(site.key);
    return reservoir?.moments && reservoir.moments.count >= MIN_ROWS_PER_INPUT * site.width;
  });
  const chosen = fits.slice(Math.max(0, fits.length - (options.layers ?? ASYMMETRIC_LAYERS)));
  let refitted = 0;
  for (let i = 0; i < chosen.length; i++) {
    const site = chosen[i];
    const current = applyInteger({ graph: cloneGraph(planned.graph), plan: structuredClone(planned.plan) }, integerOptions);
    const m = (await quantizedInputMoments(floatGraph, current.graph, [site], samples, { total: countOf(samples), rows: options.rows, cross: true, signal: options.signal })).get(site.key);
    const reservoir = floatRows.get(site.key);
    if (!m || !reservoir) continue;
    const op = int4.get(site.key)!;
    const w = op.weights!;
    const key = rangeKey(0, w.tensorIndex);
    const target = asymmetricTarget(constantAsFloat32(planned.graph, 0, w.tensorIndex), subgraph.tensors[w.tensorIndex].shape[0], m, options.centered);
    if (!target) continue;
    const again = await roundPlannedWeights(planned.graph, planned.plan, new Map([[site.key, { ...reservoir, moments: { count: m.count, sum: m.sum, outer: m.outer } }]]), {
      method: options.method,
      centered: options.centered,
      signal: options.signal,
      only: new Set([op.opIndex]),
      targets: new Map([[key, target]]),
    });
    const q = again.weights.get(key);
    if (q) {
      integerOptions.roundedWeights!.set(key, q);
      refitted++;
    }
    options.onProgress?.(i + 1, chosen.length);
  }
  return {
    layers: refitted,
    refitted,
    note: `int4 weights of the last ${refitted} layer(s) with enough rows refitted to the float model's outputs from the quantized model's inputs, one after the other, on ${countOf(samples)} sample(s)`,
  };
}
