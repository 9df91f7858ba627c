/**
 * Per-channel maxima of float activations on calibration samples, from the float model run in
 * LiteRT with taps on those tensors: what cross-layer equalization through RELU6 needs to know (does
 * the clip of channel i ever fire, how far below 6 does it stay) and which channels are dead (never
 * above 0 after their RELU); and the minima, for high-bias absorption (absorb.ts: does the lower clip
 * ever fire). The channel is the tensor's last axis.
 */
import { WorkbenchError } from '../errors';
import { loadTapped } from '../runtime/taps';
import { cancelled, toModelInputs, type Sample } from '../runtime/samples';
import type { ModelGraph } from '../tflite/graph';
import type { ChannelRange } from './absorb';

type MeasureOptions = { signal?: AbortSignal; onProgress?: (done: number, total: number) => void };

export async function measureChannelMaxima(graph: ModelGraph, tensors: number[], samples: readonly Sample[], options: MeasureOptions = {}): Promise<Map<number, Float64Array>> {
  const ranges = await measureChannelRanges(graph, tensors, samples, options);
  return new Map([...ranges].map(([t, r]) => [t, r.max]));
}

/** Per-channel minimum and maximum of each tensor (by index in subgraph 0) over the samples, in one tapped run each. */
export async function measureChannelRanges(graph: ModelGraph, tensors: number[], samples: readonly Sample[], options: MeasureOptions = {}): Promise<Map<number, ChannelRange>> {
  const subgraph = graph.subgraphs[0];
  const wanted = new Set(tensors.filter((t) => !subgraph.inputs.includes(t)));
  const ranges = new Map<number, ChannelRange>();
  if (!wanted.size || !samples.length) return ranges;
  const runner = await loadTapped(graph, { select: (t) => wanted.has(t), tapsOnly: true });
  try {
    for (const [n, sample] of samples.entries()) {
      if (options.signal?.aborted) throw cancelled('Measuring the activations for equalization', n, samples.length);
      options.onProgress?.(n, samples.length);
      const { values } = await runner.run(toModelInputs(sample, runner.inputs, n));
      runner.taps.forEach((tap, k) => {
        const v = values[k];
        if (!(v instanceof Float32Array)) throw new WorkbenchError('runtime', `tensor ${tap.name} is not float32 in the float model`);
        const channels = subgraph.tensors[tap.tensorIndex].shape.at(-1) ?? 1;
        let r = ranges.get(tap.tensorIndex);
        if (!r) ranges.set(tap.tensorIndex, (r = { min: new Float64Array(channels).fill(Infinity), max: new Float64Array(channels).fill(-Infinity) }));
        const { min, max } = r;
        // Row by row: the channel is the innermost index.
        for (let base = 0; base < v.length; base += channels) {
          for (let c = 0; c < channels; c++) {
            const x = v[base + c];
            if (x > max[c]) max[c] = x;
            if (x < min[c]) min[c] = x;
          }
        }
      });
    }
  } finally {
    runner.delete();
  }
  return ranges;
}
