/**
 * Sampled inputs of every layer rounding optimization serves (layer-sites.ts), from the float model
 * run in LiteRT with taps on those inputs: per sample, a few random rows per layer (im2col rows of
 * a convolution, patches of a depthwise one, rows of a fully connected input) go into a reservoir of
 * a bounded size (Algorithm R), so the rows are a uniform sample of all positions of all samples
 * seen, whatever their number, and no activation outlives its sample. Deterministic: a seeded
 * generator per layer.
 */
import { WorkbenchError } from '../../errors';
import { inputTensorIndices, loadTapped, type TappedRunner } from '../../runtime/taps';
import { toModelInputs, type Sample } from '../../runtime/samples';
import type { ModelGraph } from '../../tflite/graph';
import { layerSites, type LayerSite } from './layer-sites';
import type { LayerRows } from './problem';
import { seededRandom } from '../../seeded-random';

/**
 * Rows kept per layer at most, values (rows x width) per layer at most (8 MB), and values over all
 * layers at most (128 MB: a model with many wide layers gets fewer rows per layer).
 */
export const MAX_ROWS = 4096;
export const MAX_VALUES = 1 << 21;
export const TOTAL_VALUES = 1 << 25;
/**
 * Rows per dense layer that go into its running Gram matrix X^T X (and column sums), on top of the
 * reservoir: the matrix costs k^2 float64 whatever the rows, so GPTQ and the int4 scale search see
 * many more positions than the reservoir can hold (MobileNetV2's 960-wide layers kept 659 rows).
 * Measured (bench:w4a8, V2 W4A8): 4x the rows through a larger reservoir took top-1 73.0 -> 74.0% and
 * SQNR 10.2 -> 11.0 dB, at 512 MB of rows; the running matrix 74.3%, 10.7 dB without the memory.
 * Only int4 layers use it (round-plan.ts): for int8, MobileNetV1 from 32 calibration images
 * measured GPTQ with it 19.97 dB on unseen images against nearest rounding's 20.37 (the reservoir's
 * H: above nearest), so int8 keeps the reservoir; the pipeline asks for no matrices (gramRows 0)
 * when the recipe asks no int4 weights.
 */
export const GRAM_ROWS = 16384;
/**
 * Packed taps (runtime/taps.ts) save the fixed cost of each output, which dominates small models;
 * past this many values per sample, joining them costs more: one more copy of every value inside
 * the wasm heap. pose_landmark_heavy's 187 layer inputs (26 M values): 1.0-1.5 s a run packed,
 * 0.4-0.7 s as separate outputs (2-core machine, loaded).
 */
const PACK_MAX_VALUES = 1 << 20;
/** A layer keeps at least this many rows, however wide (GPTQ's damping keeps a rank-deficient X^T X invertible). */
const MIN_ROWS = 256;
/** Rows drawn per sample when the number of samples is not known in advance. */
const ROWS_PER_SAMPLE_UNKNOWN = 32;

export interface LayerInputOptions {
  /** Number of samples that will be added, when known: the rows are then spread evenly over them. */
  total?: number;
  seed?: number;
  maxRows?: number;
  /** Rows per dense layer for its running Gram matrix (default GRAM_ROWS; 0: none). */
  gramRows?: number;
}

export interface LayerInputCollector {
  sites: LayerSite[];
  add(sample: Sample): Promise<void>;
  /** The rows by layer key (rangeKey of the op's output). */
  rows(): Map<string, LayerRows>;
  /** Where add() spent its time so far: the tapped LiteRT run (values copied out included) and cutting rows in JS. */
  timing: { samples: number; runMs: number; rowsMs: number };
  dispose(): void;
}

interface Moments {
  rows: number;
  perSample: number;
  sum: Float64Array;
  /** Upper triangle of X^T X, row-major k x k. */
  outer: Float64Array;
  scratch: Float32Array;
  random: () => number;
}

interface Reservoir {
  site: LayerSite;
  moments: Moments | null;
  capacity: number;
  data: Float32Array;
  filled: number;
  seen: number;
  random: () => number;
  perSample: number;
}

export function rowCapacity(width: number, maxRows = MAX_ROWS, maxValues = MAX_VALUES): number {
  return Math.max(Math.min(MIN_ROWS, maxRows), Math.min(maxRows, Math.floor(maxValues / width)));
}

export async function openLayerInputs(graph: ModelGraph, options: LayerInputOptions = {}): Promise<LayerInputCollector> {
  const sites = layerSites(graph);
  const subgraph = graph.subgraphs[0];
  const seed = options.seed ?? 1;
  const reservoirs: Reservoir[] = sites.map((site, i) => {
    const capacity = rowCapacity(site.width, options.maxRows, Math.min(MAX_VALUES, Math.floor(TOTAL_VALUES / sites.length)));
    const perSample = options.total ? Math.max(1, Math.ceil(capacity / options.total)) : ROWS_PER_SAMPLE_UNKNOWN;
    // Dense layers rounding takes on (MAX_WIDTH, round-plan.ts) keep a running Gram matrix too.
    const moments: Moments | null =
      site.layout === 'dense' && site.width <= MAX_DENSE_WIDTH && options.gramRows !== 0
        ? {
            rows: 0,
            perSample: options.total ? Math.max(1, Math.ceil((options.gramRows ?? GRAM_ROWS) / options.total)) : 4 * ROWS_PER_SAMPLE_UNKNOWN,
            sum: new Float64Array(site.width),
            outer: new Float64Array(site.width * site.width),
            scratch: new Float32Array(site.width),
            random: seededRandom(seed * 104729 + i),
          }
        : null;
    return { site, moments, capacity, data: new Float32Array(capacity * site.width), filled: 0, seen: 0, random: seededRandom(seed * 7919 + i), perSample };
  });
  const tapped = new Set(sites.map((s) => s.input).filter((t) => !subgraph.inputs.includes(t)));
  let runner: TappedRunner | null = null;
  let inputIndices: number[] = [];
  if (sites.length) {
    let values = 0;
    for (const t of tapped) values += subgraph.tensors[t].shape.reduce((n, d) => n * Math.max(1, d), 1);
    runner = await loadTapped(graph, { select: (t) => tapped.has(t), tapsOnly: true, pack: values <= PACK_MAX_VALUES });
    inputIndices = inputTensorIndices(graph, runner);
  }
  let count = 0;
  const timing = { samples: 0, runMs: 0, rowsMs: 0 };
  return {
    sites,
    timing,
    async add(sample) {
      if (!runner) return;
      const inputs = toModelInputs(sample, runner.inputs, count);
      const started = performance.now();
      const { values } = tapped.size ? await runner.run(inputs) : { values: [] };
      const ran = performance.now();
      timing.runMs += ran - started;
      count++;
      const byTensor = new Map<number, Float32Array>();
      runner.taps.forEach((tap, k) => byTensor.set(tap.tensorIndex, values[k] as Float32Array));
      inputIndices.forEach((t, i) => {
        if (inputs[i] instanceof Float32Array) byTensor.set(t, inputs[i] as Float32Array);
      });
      for (const r of reservoirs) {
        const activation = byTensor.get(r.site.input);
        if (!(activation instanceof Float32Array)) throw new WorkbenchError('runtime', `no float values for the input of op #${r.site.opIndex}`);
        const draws = Math.min(r.perSample, r.site.positions);
        for (let d = 0; d < draws; d++) {
          const slot = r.filled < r.capacity ? r.filled++ : Math.floor(r.random() * (r.seen + 1));
          r.seen++;
          const position = Math.floor(r.random() * r.site.positions);
          if (slot < r.capacity) r.site.cut(activation, position, r.data, slot * r.site.width);
        }
        if (r.moments) accumulate(r.moments, r.site, activation);
      }
      timing.samples++;
      timing.rowsMs += performance.now() - ran;
    },
    rows() {
      return new Map(
        reservoirs.map((r) => [
          r.site.key,
          {
            rows: r.data.subarray(0, r.filled * r.site.width),
            count: r.filled,
            width: r.site.width,
            layout: r.site.layout,
            inChannels: r.site.channels,
            ...(r.moments && r.moments.rows ? { moments: { count: r.moments.rows, sum: r.moments.sum, outer: r.moments.outer } } : {}),
          },
        ]),
      );
    },
    dispose() {
      runner?.delete();
      runner = null;
    },
  };
}

/** Widest dense input that gets a running Gram matrix: what rounding takes on (round-plan.ts MAX_WIDTH). */
const MAX_DENSE_WIDTH = 1280;

/**
 * Adds `perSample` rows of one sample to the layer's moments, at positions spread evenly over the
 * sample (one random position per stratum), so every part of the image counts.
 */
function accumulate(m: Moments, site: LayerSite, activation: Float32Array): void {
  const draws = Math.min(m.perSample, site.positions);
  const k = site.width;
  const { sum, outer, scratch: x } = m;
  for (let d = 0; d < draws; d++) {
    const position = Math.min(site.positions - 1, Math.floor(((d + m.random()) * site.positions) / draws));
    site.cut(activation, position, x, 0);
    for (let i = 0; i < k; i++) {
      const xi = x[i];
      if (xi === 0) continue; // post-ReLU inputs are mostly zeros
      sum[i] += xi;
      const row = i * k;
      for (let j = i; j < k; j++) outer[row + j] += xi * x[j];
    }
    m.rows++;
  }
}
