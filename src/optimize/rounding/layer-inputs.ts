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
import type { RuntimeData, RuntimeTensorInfo } from '../../runtime/types';
import { INDEX_INPUT, loadRowGatherer, withRowGathers } from './rows-in-litert';
import type { RunRider } from '../calibrate/run-rider';
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
  /**
   * How the rows leave LiteRT: 'gather' (default) cuts them inside the run (rows-in-litert.ts),
   * falling back to 'taps' (every layer input copied out, rows cut in JS) when LiteRT rejects that
   * model. The same rows either way.
   */
  path?: 'gather' | 'taps';
}

export interface LayerInputCollector {
  sites: LayerSite[];
  add(sample: Sample): Promise<void>;
  /** The rows by layer key (rangeKey of the op's output). */
  rows(): Map<string, LayerRows>;
  /**
   * Where add() spent its time so far: the LiteRT runs (rows or layer inputs copied out included)
   * and putting rows in place in JS; which path ran, and why not 'gather' if it did not.
   */
  timing: { samples: number; runMs: number; rowsMs: number; path: string; gatherFailure: string };
  /**
   * The same rows gathered in another model's runs (calibration's, calibrate.ts RunRider): once
   * attached, add() does nothing and this collector's own model is freed. Null without layers.
   */
  rider: RunRider | null;
  dispose(): void;
}

interface Moments {
  rows: number;
  perSample: number;
  sum: Float64Array;
  /** Upper triangle of X^T X, row-major k x k. */
  outer: Float64Array;
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
            random: seededRandom(seed * 104729 + i),
          }
        : null;
    return { site, moments, capacity, data: new Float32Array(capacity * site.width), filled: 0, seen: 0, random: seededRandom(seed * 7919 + i), perSample };
  });
  // Rows a sample per layer: the reservoir's draws, then the running matrix's.
  const draws = reservoirs.map((r) => Math.min(r.perSample, r.site.positions));
  const momentDraws = reservoirs.map((r) => (r.moments ? Math.min(r.moments.perSample, r.site.positions) : 0));
  const rowsPerSample = reservoirs.map((_, i) => draws[i] + momentDraws[i]);
  const offsets: number[] = [];
  const indexOffsets: number[] = [];
  let totalRows = 0;
  let totalValues = 0;
  let indexCount = 0;
  for (let i = 0; i < reservoirs.length; i++) {
    offsets.push(totalValues);
    indexOffsets.push(indexCount);
    totalRows += rowsPerSample[i];
    totalValues += rowsPerSample[i] * reservoirs[i].site.width;
    indexCount += rowsPerSample[i] * reservoirs[i].site.gather.pixelsPerRow;
  }
  const rows = openRowSource(graph, sites, rowsPerSample, options.path ?? 'gather');
  if (sites.length) await rows.ready(); // a model LiteRT cannot load fails here, before calibration
  let count = 0;
  let attached = false;
  const timing = { samples: 0, runMs: 0, rowsMs: 0, path: '', gatherFailure: '' };
  /** One sample's draws: which positions each layer's rows come from, and which reservoir slot they go to. */
  const draw = () => {
    const positions = new Int32Array(totalRows);
    const slots = new Int32Array(totalRows);
    // Which positions go where depends only on the seeded generators: drawn before the run.
    let k = 0;
    reservoirs.forEach((r, i) => {
      for (let d = 0; d < draws[i]; d++, k++) {
        const slot = r.filled < r.capacity ? r.filled++ : Math.floor(r.random() * (r.seen + 1));
        r.seen++;
        positions[k] = Math.floor(r.random() * r.site.positions);
        slots[k] = slot < r.capacity ? slot : -1;
      }
      const m = r.moments;
      // One random position per stratum, so every part of the image counts.
      for (let d = 0; d < momentDraws[i]; d++, k++) positions[k] = Math.min(r.site.positions - 1, Math.floor(((d + m!.random()) * r.site.positions) / momentDraws[i]));
    });
    return { positions, slots };
  };
  /** Puts one sample's rows (in draw order, layer after layer) in place, in sample order. */
  const apply = (values: Float32Array, slots: Int32Array) => {
    const started = performance.now();
    let k = 0;
    reservoirs.forEach((r, i) => {
      const width = r.site.width;
      let at = offsets[i];
      for (let d = 0; d < draws[i]; ) {
        const slot = slots[k];
        // Draws into consecutive slots (all of them while the reservoir fills) go in one copy.
        let run = 1;
        while (slot >= 0 && d + run < draws[i] && slots[k + run] === slot + run) run++;
        if (slot >= 0) r.data.set(values.subarray(at, at + run * width), slot * width);
        d += run;
        k += run;
        at += run * width;
      }
      for (let d = 0; d < momentDraws[i]; d++, k++, at += width) accumulate(r.moments!, values.subarray(at, at + width));
    });
    timing.samples++;
    timing.rowsMs += performance.now() - started;
  };
  return {
    sites,
    timing,
    async add(sample) {
      if (!sites.length || attached) return;
      const source = await rows.ready();
      const inputs = toModelInputs(sample, source.inputs, count);
      count++;
      const { positions, slots } = draw();
      const started = performance.now();
      const values = await source.rows(inputs, positions);
      timing.runMs += performance.now() - started;
      timing.path = rows.failure ? 'taps' : source.path;
      timing.gatherFailure = rows.failure;
      apply(values, slots);
    },
    rider: sites.length
      ? {
          attach(model) {
            // Our own model leaves LiteRT before the joint one loads (a model's weights less in its
            // heap at the peak); should LiteRT reject the joint model, add() loads ours again.
            rows.suspend();
            const built = withRowGathers(model, sites, rowsPerSample, { at: 'end', keepOutputs: true });
            return { graph: built.graph, indexInput: INDEX_INPUT, rows: built.rowsTensor };
          },
          attached() {
            attached = true;
            timing.path = 'gather, in the calibration run';
            rows.dispose();
          },
          next() {
            const { positions, slots } = draw();
            const indices = new Int32Array(indexCount);
            let k = 0;
            sites.forEach((site, i) => {
              const { pixelsPerRow, pixelIndices } = site.gather;
              let at = indexOffsets[i];
              for (let d = 0; d < rowsPerSample[i]; d++, k++, at += pixelsPerRow) pixelIndices(positions[k], indices, at);
            });
            return { indices, take: (values: Float32Array) => apply(values, slots) };
          },
        }
      : null,
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
      rows.dispose();
    },
  };
}

/** Widest dense input that gets a running Gram matrix: what rounding takes on (round-plan.ts MAX_WIDTH). */
const MAX_DENSE_WIDTH = 1280;

/** Adds one row to the layer's moments (upper triangle of X^T X, column sums). */
function accumulate(m: Moments, x: Float32Array): void {
  const k = x.length;
  const { sum, outer } = m;
  for (let i = 0; i < k; i++) {
    const xi = x[i];
    if (xi === 0) continue; // post-ReLU inputs are mostly zeros
    sum[i] += xi;
    const row = i * k;
    for (let j = i; j < k; j++) outer[row + j] += xi * x[j];
  }
  m.rows++;
}

/** Where a sample's rows come from: gathered inside LiteRT, or cut in JS from the tapped layer inputs. */
interface RowSource {
  path: 'gather' | 'taps';
  inputs: RuntimeTensorInfo[];
  /** The rows at `positions` (rowsPerSample[i] of site i, site after site), one after the other. */
  rows(inputs: RuntimeData[], positions: Int32Array): Promise<Float32Array>;
}

/**
 * The rows, gathered inside LiteRT (rows-in-litert.ts) unless `path` asks for taps or LiteRT
 * rejects the gathering model (at load or its first run): then cut in JS from the layer inputs,
 * copied out of a tapped run. The same values either way.
 */
function openRowSource(graph: ModelGraph, sites: LayerSite[], rowsPerSample: number[], path: 'gather' | 'taps') {
  const subgraph = graph.subgraphs[0];
  let source: Promise<RowSource> | null = null;
  let release: () => void = () => {};
  let gatherFailure = '';
  const total = rowsPerSample.reduce((n, r, i) => n + r * sites[i].width, 0);
  const indexCount = rowsPerSample.reduce((n, r, i) => n + r * sites[i].gather.pixelsPerRow, 0);

  const taps = async (): Promise<RowSource> => {
    const tapped = new Set(sites.map((s) => s.input).filter((t) => !subgraph.inputs.includes(t)));
    let values = 0;
    for (const t of tapped) values += subgraph.tensors[t].shape.reduce((n, d) => n * Math.max(1, d), 1);
    const runner: TappedRunner = await loadTapped(graph, { select: (t) => tapped.has(t), tapsOnly: true, pack: values <= PACK_MAX_VALUES });
    release = () => runner.delete();
    const inputIndices = inputTensorIndices(graph, runner);
    const out = new Float32Array(total);
    return {
      path: 'taps',
      inputs: runner.inputs,
      async rows(inputs, positions) {
        const { values } = tapped.size ? await runner.run(inputs) : { values: [] };
        const byTensor = new Map<number, Float32Array>();
        runner.taps.forEach((tap, k) => byTensor.set(tap.tensorIndex, values[k] as Float32Array));
        inputIndices.forEach((t, i) => {
          if (inputs[i] instanceof Float32Array) byTensor.set(t, inputs[i] as Float32Array);
        });
        let k = 0;
        let at = 0;
        sites.forEach((site, i) => {
          const activation = byTensor.get(site.input);
          if (!(activation instanceof Float32Array)) throw new WorkbenchError('runtime', `no float values for the input of op #${site.opIndex}`);
          for (let d = 0; d < rowsPerSample[i]; d++, k++, at += site.width) site.cut(activation, positions[k], out, at);
        });
        return out;
      },
    };
  };

  const gather = async (): Promise<RowSource> => {
    const gatherer = await loadRowGatherer(graph, sites, rowsPerSample);
    release = () => gatherer.delete();
    const indices = new Int32Array(indexCount);
    let ranOnce = false;
    const self: RowSource = {
      path: 'gather',
      inputs: gatherer.inputs,
      async rows(inputs, positions) {
        let k = 0;
        sites.forEach((site, i) => {
          const { pixelsPerRow, pixelIndices } = site.gather;
          let at = gatherer.gathers[i].indexOffset;
          for (let d = 0; d < rowsPerSample[i]; d++, k++, at += pixelsPerRow) pixelIndices(positions[k], indices, at);
        });
        try {
          const values = await gatherer.run(inputs, indices);
          ranOnce = true;
          return values;
        } catch (error) {
          if (ranOnce || (error instanceof WorkbenchError && error.code === 'bad-input')) throw error;
          // LiteRT loaded the gathering model but cannot run it: taps from now on, this sample included.
          gatherer.delete();
          gatherFailure = error instanceof Error ? error.message : String(error);
          const fallback = await taps();
          source = Promise.resolve(fallback);
          return fallback.rows(inputs, positions);
        }
      },
    };
    return self;
  };

  return {
    ready(): Promise<RowSource> {
      source ??= path === 'taps' ? taps() : gather().catch((error: unknown) => {
        gatherFailure = error instanceof Error ? error.message : String(error);
        return taps();
      });
      return source;
    },
    get failure() {
      return gatherFailure;
    },
    /** Frees the loaded model; the next ready() loads it again. */
    suspend() {
      release();
      release = () => {};
      source = null;
    },
    dispose: () => release(),
  };
}
