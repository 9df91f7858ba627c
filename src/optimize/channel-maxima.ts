/**
 * Per-channel maxima of float activations on calibration samples, from the float model run in
 * LiteRT with taps on those tensors: what cross-layer equalization through RELU6 needs to know (does
 * the clip of channel i ever fire, how far below 6 does it stay) and which channels are dead (never
 * above 0 after their RELU). The channel is the tensor's last axis.
 */
import { WorkbenchError } from '../errors';
import { loadTapped } from '../runtime/taps';
import { cancelled, toModelInputs, type Sample } from '../runtime/samples';
import type { ModelGraph } from '../tflite/graph';

export async function measureChannelMaxima(
  graph: ModelGraph,
  tensors: number[],
  samples: readonly Sample[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<Map<number, Float64Array>> {
  const subgraph = graph.subgraphs[0];
  const wanted = new Set(tensors.filter((t) => !subgraph.inputs.includes(t)));
  const maxima = new Map<number, Float64Array>();
  if (!wanted.size || !samples.length) return maxima;
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
        let m = maxima.get(tap.tensorIndex);
        if (!m) maxima.set(tap.tensorIndex, (m = new Float64Array(channels).fill(-Infinity)));
        // Row by row: the channel is the innermost index.
        for (let base = 0; base < v.length; base += channels) {
          for (let c = 0; c < channels; c++) if (v[base + c] > m[c]) m[c] = v[base + c];
        }
      });
    }
  } finally {
    runner.delete();
  }
  return maxima;
}
