/**
 * A model's outputs at a series of sites, op after op in graph order, where the model changes between
 * sites but only at or after the site just measured (output bias correction moves one op's bias,
 * then measures the next op). Instead of a run from the model's inputs per site (a prefix pass each:
 * MobileNetV2 W4A8 with 36 int4 sites paid ~18 whole passes over the samples), the walk keeps, per
 * sample, the tensors live before the last site's op and runs only the ops from there to the next
 * site (tflite/prefix.ts segmentGraph): one whole pass in all, each op run about once.
 *
 * The cache holds those tensors for every sample, so a walk is only offered when that fits in
 * WALK_CACHE_BYTES and every cached tensor is a type LiteRT.js takes as an input.
 */
import { WorkbenchError } from '../../errors';
import { loadGraph } from '../../runtime/load';
import { eachSample, toModelInputs, type Samples } from '../../runtime/samples';
import type { RuntimeData } from '../../runtime/types';
import type { ModelGraph } from '../../tflite/graph';
import { liveBefore, segmentGraph } from '../../tflite/prefix';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';

/** Largest cache a walk may hold (all samples' live tensors at one site). */
export const WALK_CACHE_BYTES = 512 * 1024 * 1024;

const BYTES: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.INT32]: 4,
  [TensorType.INT16]: 2,
  [TensorType.INT8]: 1,
  [TensorType.UINT8]: 1,
};

/** The tensors a site's segment hands to the next: written before op `at` (or a model input), read by `at` or later. */
function carried(graph: ModelGraph, at: number): number[] {
  const subgraph = graph.subgraphs[0];
  const writtenBefore = new Set(subgraph.inputs);
  for (let o = 0; o < at; o++) for (const t of subgraph.operators[o].outputs) if (t >= 0) writtenBefore.add(t);
  return [...liveBefore(graph, 0, at)].filter((t) => writtenBefore.has(t));
}

/**
 * Why a walk over these sites (op indices, ascending) cannot be used, or null: a cached tensor of a
 * type LiteRT.js does not take, a state (variable) tensor, a tensor without a static shape, or a cache over the limit.
 */
export function walkObstacle(graph: ModelGraph, siteOps: number[], samples: number, cacheBytes = WALK_CACHE_BYTES): string | null {
  const subgraph = graph.subgraphs[0];
  if (subgraph.tensors.some((t) => t.isVariable)) return 'the model keeps state in variable tensors';
  let largest = 0;
  for (const at of siteOps) {
    let bytes = 0;
    for (const t of carried(graph, at)) {
      const tensor = subgraph.tensors[t];
      const size = BYTES[tensor.type];
      if (!size) return `tensor '${tensor.name}' is ${TensorType[tensor.type]}`;
      // A dynamic batch (shape signature -1) runs as the file's static shape, as every run here does.
      if (tensor.shape.some((d) => d < 0)) return `tensor '${tensor.name}' has no static shape`;
      bytes += size * tensor.shape.reduce((n, d) => n * d, 1);
    }
    largest = Math.max(largest, bytes);
  }
  if (largest * samples > cacheBytes) return `its cache would hold ${Math.round((largest * samples) / 2 ** 20)} MB, over the ${Math.round(cacheBytes / 2 ** 20)} MB allowed`;
  return null;
}

export class SegmentWalk {
  /** Per cached tensor, its value for each sample. */
  private cache = new Map<number, RuntimeData[]>();
  /** The op the next segment starts at (the last site's op). */
  private at = 0;

  constructor(
    private readonly samples: Samples,
    private readonly signal?: AbortSignal,
  ) {}

  /** How many values the cache holds per kept tensor (one per sample each, when all is well). */
  get cachedCounts(): number[] {
    return [...this.cache.values()].map((values) => values.length);
  }

  /**
   * Runs `graph` from the last site's op to the op writing `siteTensor` on every sample and hands
   * `visit` each sample's value of it. `graph` must equal the graph of the previous call in every op
   * before the previous site's op; sites come in ascending op order.
   */
  async next(graph: ModelGraph, siteTensor: number, visit: (value: RuntimeData) => void): Promise<void> {
    const siteOp = graph.subgraphs[0].operators.findIndex((op) => op.outputs.includes(siteTensor));
    if (siteOp < 0) throw new Error(`segment walk: no op writes tensor ${siteTensor}`);
    if (siteOp < this.at) throw new Error(`segment walk: site op ${siteOp} comes before op ${this.at}`);
    const segment = segmentGraph(graph, 0, this.at, siteOp, [siteTensor]);
    const keep = carried(graph, siteOp);
    const model = await loadGraph(segment.graph);
    const next = new Map<number, RuntimeData[]>();
    // From op 0 every kept value is made again (the model's inputs included), so nothing is carried over.
    for (const t of keep) next.set(t, this.at === 0 ? [] : (this.cache.get(t) ?? []));
    try {
      const inputOf = model.inputs.map((info) => segment.inputs[segment.inputNames.indexOf(info.name)]);
      const outputOf = model.outputs.map((info) => segment.outputs[segment.outputNames.indexOf(info.name)]);
      if (inputOf.some((t) => t === undefined) || outputOf.some((t) => t === undefined)) throw new WorkbenchError('runtime', 'segment walk: LiteRT renamed a segment input or output');
      let index = 0;
      for await (const sample of eachSample(this.samples)) {
        if (this.signal?.aborted) throw new WorkbenchError('cancelled', 'Output bias correction was cancelled.');
        const i = index++;
        let inputs: RuntimeData[];
        if (this.at === 0) {
          inputs = toModelInputs(sample, model.inputs, i);
          // The model's inputs themselves, where a later segment reads them.
          inputOf.forEach((t, k) => next.get(t)?.push(inputs[k]));
        } else {
          inputs = inputOf.map((t) => {
            const value = this.cache.get(t)?.[i];
            if (!value) throw new WorkbenchError('runtime', `segment walk: no cached value of tensor ${t} for sample ${i}`);
            return value;
          });
        }
        const outputs = await model.run(inputs);
        outputOf.forEach((t, k) => {
          if (t === siteTensor) visit(outputs[k].data);
          // Written in this segment, read after it (what passes through from before `at` is in `next` already).
          if (t !== siteTensor) next.get(t)?.push(outputs[k].data);
        });
      }
    } finally {
      model.delete();
    }
    this.cache = next;
    this.at = siteOp;
  }
}
