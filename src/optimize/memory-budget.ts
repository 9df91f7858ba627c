/**
 * Whether a calibrating run (int8 / 16x8) fits in memory, checked before LiteRT loads anything, so
 * a model too large for it gets a clear error instead of a wasm abort or a killed tab.
 *
 * The hard limit is LiteRT.js's wasm heap: its glue grows memory up to 2 GiB (getHeapMax in
 * litert_wasm_*_internal.js), by up to 20% more than asked, and the heap never shrinks. During
 * calibration this thread's heap holds, at once, the calibration model (REDUCE_MIN / REDUCE_MAX
 * appended after the model's own ops keep every float activation alive until the end of the run)
 * and, when rounding optimization or output-mse ranges sample the layers' inputs, the model that
 * gathers their rows (rounding/rows-in-litert.ts: it frees activations as the plain model does;
 * its padded copies and gathers keep a few of the largest layer inputs' worth alive). Once the
 * gathers ride in the calibration model (calibrate/run-rider.ts) the sampler's own model is freed
 * and its room reused, so counting both is on the safe side. Per
 * instance: the model and the weights XNNPACK packs from it (2 x the weight bytes), and about
 * 8 bytes per value kept alive (arena + output copy).
 */
import { WorkbenchError } from '../errors';
import type { ModelGraph } from '../tflite/graph';
import { isConstant } from '../tflite/queries';
import { TensorType } from '../tflite/schema/generated/tflite_generated';

/** LiteRT.js's wasm heap stops growing at 2 GiB. */
export const LITERT_HEAP_MAX = 2 ** 31;
/** Bytes of LiteRT's heap per value a loaded model keeps alive, about (see the header). */
const BYTES_PER_LIVE_VALUE = 8;
/** The runtime's own heap before any model (18 MB measured) plus slack. */
const RUNTIME_BYTES = 32e6;
/** The heap grows by up to this factor more than asked (emscripten's over-growth). */
const GROWTH = 1.2;
/** Largest layer inputs' worth of values the row-gathering model keeps alive at once, about. */
const GATHER_LIVE_INPUTS = 4;

export interface CalibrationMemory {
  /** Bytes of the model's constant buffers (weights). */
  weightBytes: number;
  /** Float activation values per sample (what the calibration model keeps alive). */
  activationValues: number;
  /** Values of the largest layer input the rounding sampler reads (0 without it). */
  layerInputValues: number;
  /** Estimated peak of LiteRT's heap in this thread, bytes. */
  heapBytes: number;
}

/** The estimate for a calibration of `graph`, with the layer-input sampler reading `layerInputs` (tensor indices of subgraph 0) or not. */
export function calibrationMemory(graph: ModelGraph, layerInputs: readonly number[] = []): CalibrationMemory {
  const subgraph = graph.subgraphs[0];
  const weightBytes = graph.buffers.reduce((n, b) => n + b.data.length, 0);
  const values = (t: number) => (subgraph.tensors[t]?.shape ?? []).reduce((n, d) => n * Math.max(1, d), 1);
  let activationValues = 0;
  subgraph?.tensors.forEach((tensor, t) => {
    if (tensor.type === TensorType.FLOAT32 && !isConstant(graph, tensor) && !subgraph.inputs.includes(t)) activationValues += values(t);
  });
  const layerInputValues = layerInputs.reduce((n, t) => Math.max(n, values(t)), 0);
  const instance = (live: number) => 2 * weightBytes + BYTES_PER_LIVE_VALUE * live;
  const sampler = layerInputs.length ? instance(GATHER_LIVE_INPUTS * layerInputValues) : 0;
  const heapBytes = GROWTH * (RUNTIME_BYTES + instance(activationValues) + sampler);
  return { weightBytes, activationValues, layerInputValues, heapBytes };
}

/**
 * Throws a 'too-large' WorkbenchError when the estimate passes `budget` (default LITERT_HEAP_MAX),
 * naming what takes the memory and what would need less.
 */
export function checkCalibrationMemory(estimate: CalibrationMemory, budget = LITERT_HEAP_MAX): void {
  if (estimate.heapBytes <= budget) return;
  const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
  const sampler = estimate.layerInputValues
    ? `, plus the model sampling its layers' inputs for rounding optimization (largest ${mb(4 * estimate.layerInputValues)})`
    : '';
  throw new WorkbenchError(
    'too-large',
    `The model is too large to calibrate here: LiteRT would need about ${mb(estimate.heapBytes)} of memory, over the ${mb(budget)} budget ` +
      `(its weights, ${mb(estimate.weightBytes)}, twice per loaded copy; the calibration model's ${mb(4 * estimate.activationValues)} of activations a sample${sampler}). ` +
      (estimate.layerInputValues ? 'Nearest rounding (no layer-input sampling) needs less; ' : '') +
      'dynamic-range or weight-only int8 need no calibration.',
  );
}
