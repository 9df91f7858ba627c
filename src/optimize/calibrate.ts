/**
 * Calibration: run the float model over representative samples in LiteRT and record statistics of
 * every float activation, for the quantizer to turn into ranges (calibrate-ranges.ts).
 *
 * One LiteRT run per sample returns every activation at once: the model is loaded with taps
 * (evaluate/taps.ts: each float activation of subgraph 0 is also an output). Model inputs get their
 * statistics from the samples themselves. Statistics are keyed `${subgraph}:${tensorIndex}` of the
 * graph passed in (rangeKey in quantize/integer.ts); taps do not renumber tensors.
 *
 * Limitations: only subgraph 0 (the main graph LiteRT runs) is calibrated. Tensors inside
 * control-flow bodies (WHILE / IF subgraphs) get no statistics, so the quantizer leaves the ops that
 * touch them in float ("no calibration range"). Models LiteRT.js cannot run (variable tensors,
 * Flex ops) cannot be calibrated.
 *
 * Deterministic: samples are processed in order, no randomness, all arithmetic in float64 in a fixed
 * order; the same code runs in Node and in a browser worker. (LiteRT's own float results may differ
 * in the last bits between its wasm builds: relaxed SIMD in browsers, "compat" in Node 20.)
 */
import { WorkbenchError } from '../errors';
import { initRuntime, loadModel, type LoadedModel } from '../evaluate/runtime';
import { cancelled, eachSample, sampleCount, toModelInputs, type RunProgress, type Samples } from '../evaluate/samples';
import { inputTensorIndices, isActivation, tapOutputIndices, withTaps } from '../evaluate/taps';
import type { ModelGraph } from '../tflite/graph';
import { producers } from '../tflite/queries';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { writeModel } from '../tflite/write';
import { accumulate, DEFAULT_BINS, DEFAULT_MOMENTUM, newTensorStats, type TensorStats } from './calibrate-histogram';

export { rangesFrom, rangeOf, RANGE_ALGORITHMS, DEFAULT_PERCENTILE, type RangeAlgorithm, type RangeOptions } from './calibrate-ranges';
export { DEFAULT_BINS, DEFAULT_MOMENTUM, type TensorStats, type Histogram } from './calibrate-histogram';

export interface CalibrationOptions extends RunProgress {
  /** Total number of samples, for progress, when `samples` is an iterable without a length. */
  total?: number;
  /** Moving-average momentum (default 0.99): m = momentum * m + (1 - momentum) * sample min/max. */
  momentum?: number;
  /** Histogram bins per tensor (default 2048). */
  bins?: number;
}

export interface CalibrationStats {
  /** The subgraph calibrated (always 0, see the limitations above). */
  subgraph: number;
  /** Samples (model runs) seen. */
  samples: number;
  momentum: number;
  bins: number;
  /** Statistics of every float activation (model inputs and outputs included), by rangeKey. */
  tensors: Map<string, TensorStats>;
  /** Wall time of the sample loop (model load excluded), ms. */
  elapsedMs: number;
}

/**
 * Runs `graph` (float) in LiteRT over `samples` and records per-tensor statistics. Progress is
 * reported after every sample; aborting `signal` stops before the next sample with a WorkbenchError
 * of code 'cancelled'.
 */
export async function calibrate(graph: ModelGraph, samples: Samples, options: CalibrationOptions = {}): Promise<CalibrationStats> {
  const { signal, onProgress } = options;
  const momentum = options.momentum ?? DEFAULT_MOMENTUM;
  const bins = options.bins ?? DEFAULT_BINS;
  if (!(momentum >= 0 && momentum < 1)) throw new WorkbenchError('bad-input', `The moving-average momentum must be in [0, 1); got ${momentum}.`);
  if (!(Number.isInteger(bins) && bins >= 16)) throw new WorkbenchError('bad-input', `The histogram needs at least 16 bins; got ${bins}.`);
  const total = sampleCount(samples, options.total);
  if (signal?.aborted) throw cancelled('Calibration', 0, total);
  const subgraphIndex = 0;
  const subgraph = graph.subgraphs[subgraphIndex];
  if (!subgraph) throw new WorkbenchError('bad-input', 'The model has no subgraph to calibrate.');

  const producer = producers(subgraph);
  const tapped = withTaps(
    graph,
    subgraphIndex,
    (t, tensor, sg, g) => tensor.type === TensorType.FLOAT32 && isActivation(g, sg, t, producer),
  );
  const signature = graph.signatureDefs.find((d) => d.subgraphIndex === subgraphIndex)?.signatureKey;
  await initRuntime();
  const model = await loadModel(writeModel(tapped.graph), signature ? { signature } : {});
  try {
    return await calibrationLoop(graph, model, tapped.taps, samples, { signal, onProgress, total, momentum, bins });
  } finally {
    model.delete();
  }
}

interface LoopOptions extends RunProgress {
  total: number | undefined;
  momentum: number;
  bins: number;
}

async function calibrationLoop(
  graph: ModelGraph,
  model: LoadedModel,
  taps: ReturnType<typeof withTaps>['taps'],
  samples: Samples,
  options: LoopOptions,
): Promise<CalibrationStats> {
  const { signal, onProgress, total, momentum, bins } = options;
  const subgraph = graph.subgraphs[0];
  const tensors = new Map<string, TensorStats>();
  const statsFor = (t: number): TensorStats => {
    const key = `0:${t}`;
    let stats = tensors.get(key);
    if (!stats) {
      stats = newTensorStats(0, t, subgraph.tensors[t]?.name ?? '', bins);
      tensors.set(key, stats);
    }
    return stats;
  };

  // Float inputs: statistics from the samples.
  const inputIndices = inputTensorIndices(graph, model);
  const inputStats = model.inputs.map((info, i) => (info.dtype === 'float32' && inputIndices[i] !== undefined ? statsFor(inputIndices[i]) : null));
  // Taps, in tensor order (so the map iterates inputs first, then tensors by index).
  const outputIndices = tapOutputIndices(model, { taps, originalOutputs: 0 });
  const tapStats = taps.map((tap) => statsFor(tap.tensorIndex));

  const started = performance.now();
  let done = 0;
  for await (const sample of eachSample(samples)) {
    if (signal?.aborted) throw cancelled('Calibration', done, total);
    const inputs = toModelInputs(sample, model.inputs, done);
    const results = await model.run(inputs);
    for (let i = 0; i < inputStats.length; i++) {
      const stats = inputStats[i];
      if (stats) accumulate(stats, inputs[i] as Float32Array, momentum);
    }
    for (let k = 0; k < tapStats.length; k++) {
      const data = results[outputIndices[k]].data;
      if (!(data instanceof Float32Array)) {
        throw new WorkbenchError('runtime', `LiteRT returned ${results[outputIndices[k]].dtype} data for the float tensor '${taps[k].name}'.`);
      }
      accumulate(tapStats[k], data, momentum);
    }
    done++;
    onProgress?.(done, total);
    if (signal?.aborted && (total === undefined || done < total)) throw cancelled('Calibration', done, total);
  }
  if (done === 0) throw new WorkbenchError('bad-input', 'Calibration needs at least one sample; none were given.');
  const sorted = new Map([...tensors].sort((a, b) => a[1].tensorIndex - b[1].tensorIndex));
  return { subgraph: 0, samples: done, momentum, bins, tensors: sorted, elapsedMs: performance.now() - started };
}
