/**
 * Cross-layer equalization as a step before calibration: on the float graph (float16 weights folded
 * to float32 first), and with RELU6 pairs only when the float model with RELU in their place still
 * computes what the original does on the calibration samples.
 *
 * RELU6 is what MobileNets put between almost every pair (MobileNetV1 0.25: all 26), so skipping it
 * leaves CLE nearly nothing to do there; replacing it by RELU (AIMET's approach) changes the function
 * wherever the clip fired. Two ways through it, both measured on the calibration samples rather than
 * assumed: 'measured' scales only the channels that stay well under the clip (and keeps RELU6), 'try-relu'
 * replaces RELU6 by RELU when the output SQNR of the RELU model against the original reaches
 * MIN_RELU6_SQNR_DB (it did on none of the shared RELU6 models, bench:equalize).
 */
import { WorkbenchError } from '../errors';
import { sqnrFromPowers } from '../sqnr';
import { loadModel } from '../runtime/load';
import { eachSample, toModelInputs, type Sample, type Samples } from '../runtime/samples';
import type { ModelGraph } from '../tflite/graph';
import { cloneGraph } from '../tflite/edit';
import { writeModel } from '../tflite/write';
import { equalizeCrossLayer, pairTensors, type EqualizeResult } from './equalize';
import { measureChannelRanges } from './channel-maxima';
import { absorbHighBias, absorptionTensors, type AbsorbResult, type ChannelRange } from './absorb';
import { dropUnused, foldConstantDequantize } from './quantize/fold-dequantize';

/**
 * Below this, RELU6 stays and its pairs are not equalized. int8 itself leaves MobileNet outputs at
 * 15-25 dB (bench:equalize), so a change of the float function at 30 dB or more is small beside it.
 */
export const MIN_RELU6_SQNR_DB = 30;
/** Calibration samples the RELU6 check runs (each costs two float inferences). */
const CHECK_SAMPLES = 16;
/**
 * Calibration samples whose per-channel maxima decide where CLE may scale through RELU6 (one tapped
 * float run each; a stream's first ones are held in memory until calibration reads them again).
 */
const MEASURE_SAMPLES = 128;
/**
 * Fewest calibration samples 'measured' trusts: which channels stay under the clip (or never leave
 * 0) is read from them. MobileNetV1's equalized float model against the original on unseen images:
 * 29.2 dB from 8 samples, 76.1 dB from 32, 113.5 dB from 100 (npm run bench:pertensor).
 */
export const MIN_MEASURE_SAMPLES = 32;
/** Clip of a scaled RELU6 channel at >= this x its measured maximum (equalize.ts clipMargin). */
export const DEFAULT_CLIP_MARGIN = 2;

export interface EqualizeStep extends EqualizeResult {
  /** The calibration samples still to be read in full (the first ones were read for the check). */
  samples: Samples;
  /** Output SQNR of the float model with RELU instead of RELU6 against the original, when measured. */
  relu6SqnrDb?: number;
  /** High-bias absorption after CLE (EqualizeStepOptions.absorb), when it ran. */
  absorption?: Omit<AbsorbResult, 'graph' | 'notes'>;
}

/**
 * 'exact': only pairs CLE keeps exact for any input (no RELU6), and no inference spent. 'measured':
 * also through RELU6 where the calibration data shows the clip never fires, and dead channels zeroed
 * (equalize.ts); one tapped float run per measured sample. 'try-relu': RELU in place of RELU6 if the
 * float outputs stay within minSqnrDb (two float runs per checked sample), else `otherwise`.
 */
export type EqualizeStrategy = 'exact' | 'measured' | 'try-relu';

export interface EqualizeStepOptions {
  strategy: EqualizeStrategy;
  minSqnrDb?: number;
  clipMargin?: number;
  /** 'try-relu' when RELU is refused: 'exact' or 'measured' (default 'measured'). */
  otherwise?: 'exact' | 'measured';
  /**
   * High-bias absorption after CLE (absorb.ts), from per-channel minima measured on the first
   * calibration samples (with 'measured', in the same tapped run as the maxima).
   */
  absorb?: boolean;
  /** absorb.ts margin: a channel moves down by its calibration minimum / this (default ABSORB_MARGIN). */
  absorbMargin?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function equalizeForQuantization(input: ModelGraph, samples: Samples, options: EqualizeStepOptions): Promise<EqualizeStep> {
  const step = await equalizeOnly(input, samples, options);
  if (!options.absorb || step.absorption) return step;
  // CLE without measurements ('exact', 'try-relu'): measure the equalized model for absorption.
  const { head, all } = await firstSamples(step.samples, MEASURE_SAMPLES);
  if (head.length < MIN_MEASURE_SAMPLES) {
    return { ...step, samples: all, notes: [...step.notes, `high-bias absorption: not done; it needs at least ${MIN_MEASURE_SAMPLES} calibration samples to tell which channels never reach their clip, and ${head.length} were given`] };
  }
  const ranges = await measureOrNote(step.graph, absorptionTensors(step.graph), head, options);
  if (typeof ranges === 'string') return { ...step, samples: all, notes: [...step.notes, `high-bias absorption: not done, ${ranges}`] };
  return { ...step, samples: all, ...absorbed(step, ranges, head.length, options) };
}

/** Absorption on the step's graph with ranges measured on it: the graph, the counts and the notes. */
function absorbed(step: Pick<EqualizeStep, 'graph' | 'notes'>, ranges: Map<number, ChannelRange>, measured: number, options: EqualizeStepOptions): Pick<EqualizeStep, 'graph' | 'notes' | 'absorption'> {
  const { graph, notes, ...absorption } = absorbHighBias(step.graph, { channelRanges: ranges, margin: options.absorbMargin, clipMargin: options.clipMargin ?? DEFAULT_CLIP_MARGIN });
  return { graph, absorption, notes: [...step.notes, ...notes.map((n, i) => (i === 0 ? `${n}, minima from ${measured} calibration sample(s)` : n))] };
}

/** The ranges, or why LiteRT could not measure them (a cancel still throws). */
async function measureOrNote(graph: ModelGraph, tensors: number[], head: Sample[], options: EqualizeStepOptions): Promise<Map<number, ChannelRange> | string> {
  try {
    return await measureChannelRanges(graph, tensors, head, { signal: options.signal, onProgress: options.onProgress });
  } catch (error) {
    if (error instanceof WorkbenchError && error.code === 'cancelled') throw error;
    return `LiteRT could not run the model to measure its activations (${error instanceof Error ? error.message : String(error)})`;
  }
}

async function equalizeOnly(input: ModelGraph, samples: Samples, options: EqualizeStepOptions): Promise<EqualizeStep> {
  const minSqnrDb = options.minSqnrDb ?? MIN_RELU6_SQNR_DB;
  const graph = cloneGraph(input);
  foldConstantDequantize(graph);
  dropUnused(graph);
  if (options.strategy === 'exact') return { ...equalizeCrossLayer(graph, { relu6: 'skip' }), samples };
  if (options.strategy === 'measured') return measured(graph, samples, [], options);
  const withRelu = equalizeCrossLayer(graph, { relu6: 'as-relu' });
  if (!withRelu.relu6Replaced) return { ...withRelu, samples };
  const { head, all } = await firstSamples(samples, CHECK_SAMPLES);
  const sqnr = await outputSqnr(writeModel(input), writeModel(withRelu.graph), head);
  if (sqnr >= minSqnrDb) {
    return { ...withRelu, samples: all, relu6SqnrDb: sqnr, notes: [...withRelu.notes, `cross-layer equalization: RELU6 -> RELU changes the float outputs by ${sqnr.toFixed(1)} dB SQNR on ${head.length} calibration sample(s) (accepted at >= ${minSqnrDb} dB)`] };
  }
  const why = `cross-layer equalization: RELU6 kept (RELU in its place moved the float outputs to ${sqnr.toFixed(1)} dB SQNR on ${head.length} calibration sample(s), below ${minSqnrDb} dB)`;
  if (options.otherwise === 'exact') {
    const exact = equalizeCrossLayer(graph, { relu6: 'skip' });
    return { ...exact, samples: all, relu6SqnrDb: sqnr, notes: [why, ...exact.notes] };
  }
  return { ...(await measured(graph, all, [why], options)), relu6SqnrDb: sqnr };
}

/** CLE through RELU6 where the first MEASURE_SAMPLES calibration samples stay well under the clip ('measured'). */
async function measured(graph: ModelGraph, samples: Samples, notes: string[], options: EqualizeStepOptions): Promise<EqualizeStep> {
  const clipMargin = options.clipMargin ?? DEFAULT_CLIP_MARGIN;
  const tensors = pairTensors(graph);
  // Absorption's tensors in the same tapped run (most are CLE's pairs too).
  const measuredTensors = options.absorb ? [...new Set([...tensors, ...absorptionTensors(graph)])] : tensors;
  if (!tensors.length) {
    const exact = equalizeCrossLayer(graph, { relu6: 'skip' });
    return { ...exact, samples, notes: [...notes, ...exact.notes] };
  }
  const { head, all } = await firstSamples(samples, MEASURE_SAMPLES);
  if (head.length < MIN_MEASURE_SAMPLES) {
    const exact = equalizeCrossLayer(graph, { relu6: 'skip' });
    const why = `cross-layer equalization: exact pairs only; through RELU6 it needs at least ${MIN_MEASURE_SAMPLES} calibration samples to tell which channels stay under the clip, and ${head.length} were given`;
    return { ...exact, samples: all, notes: [...notes, ...exact.notes, why] };
  }
  const ranges = await measureOrNote(graph, measuredTensors, head, options);
  if (typeof ranges === 'string') {
    // Calibration may still succeed where this tapped run did not: equalize only what is exact without it.
    const exact = equalizeCrossLayer(graph, { relu6: 'skip' });
    const why = `cross-layer equalization: exact pairs only, ${ranges}`;
    const absorption = options.absorb ? [`high-bias absorption: not done, ${ranges}`] : [];
    return { ...exact, samples: all, notes: [...notes, ...exact.notes, why, ...absorption], absorption: options.absorb ? skippedAll() : undefined };
  }
  const channelMaxima = new Map([...ranges].filter(([t]) => tensors.includes(t)).map(([t, r]) => [t, r.max]));
  const result = equalizeCrossLayer(graph, { relu6: 'measured', channelMaxima, clipMargin });
  const how = `cross-layer equalization: through RELU6 only in channels that stayed under 6 / ${clipMargin} on ${head.length} calibration sample(s) (their clip kept at >= ${clipMargin}x that maximum)`;
  const step: EqualizeStep = { ...result, samples: all, notes: [...notes, ...result.notes, how] };
  if (!options.absorb) return step;
  // CLE holds channel i of each pair's tensor divided by s_i, exactly on these samples (each moved
  // clip stays above what they reach): the equalized model's ranges without measuring it again.
  const scaled = new Map(ranges);
  for (const pair of result.pairs) {
    const r = ranges.get(pair.tensor);
    if (pair.subgraph !== 0 || !r) continue;
    scaled.set(pair.tensor, { min: r.min.map((v, i) => v / pair.scales[i]), max: r.max.map((v, i) => v / pair.scales[i]) });
  }
  return { ...step, ...absorbed(step, scaled, head.length, options) };
}

/** The absorption record when nothing could be measured. */
function skippedAll(): Omit<AbsorbResult, 'graph' | 'notes'> {
  return { pairs: [], absorbed: 0, channels: 0, skipped: new Map() };
}

/** The first `count` samples, and an iterable over all of them that does not read the source twice. */
async function firstSamples(samples: Samples, count: number): Promise<{ head: Sample[]; all: Samples }> {
  if (Array.isArray(samples)) return { head: (samples as readonly Sample[]).slice(0, count), all: samples };
  const iterator = eachSample(samples);
  const head: Sample[] = [];
  while (head.length < count) {
    const next = await iterator.next();
    if (next.done) return { head, all: head };
    head.push(next.value);
  }
  async function* rest(): AsyncGenerator<Sample> {
    yield* head;
    yield* { [Symbol.asyncIterator]: () => iterator };
  }
  return { head, all: rest() };
}

/** SQNR of all outputs of `candidate` against `reference` over the samples (powers summed). */
async function outputSqnr(reference: Uint8Array, candidate: Uint8Array, samples: Sample[]): Promise<number> {
  const a = await loadModel(reference);
  const b = await loadModel(candidate);
  try {
    let signal = 0;
    let noise = 0;
    for (const [i, sample] of samples.entries()) {
      // Both models are float: their outputs are float32 values as they are.
      const x = (await a.run(toModelInputs(sample, a.inputs, i))).map((t) => t.data);
      const y = (await b.run(toModelInputs(sample, b.inputs, i))).map((t) => t.data);
      x.forEach((out, o) => {
        // Each output weighs by its own power, so a large output does not hide a small one.
        let power = 0;
        for (let k = 0; k < out.length; k++) power += out[k] * out[k];
        const weight = power > 0 ? out.length / power : 1;
        for (let k = 0; k < out.length; k++) {
          signal += out[k] * out[k] * weight;
          noise += (out[k] - y[o][k]) ** 2 * weight;
        }
      });
    }
    return sqnrFromPowers(signal, noise);
  } finally {
    a.delete();
    b.delete();
  }
}
