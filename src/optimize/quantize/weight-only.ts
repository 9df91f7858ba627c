/**
 * Weight-only int8 (AI Edge Quantizer's weight_only_wi8_afp32): weights stored as symmetric int8
 * (per channel where the op has output channels) with a DEQUANTIZE in front; compute stays float.
 */
import { cloneGraph } from '../../tflite/edit';
import { linearQuantization } from '../../tflite/edit';
import type { ModelGraph, Operator } from '../../tflite/graph';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32, dropUnused, foldConstantDequantize } from './fold-dequantize';
import { storeBehindDequantize } from './float16';
import { bytesOf, quantizeInt8, symmetricWeightParams, type WeightParamsHook } from './params';
import { weightSites } from './weight-sites';

export interface WeightQuantOptions {
  perChannel: boolean;
  /** Tensors with fewer elements stay float (tiny tensors cost more in ops than they save). */
  minElements: number;
  skip?: (subgraph: number, op: number) => boolean;
  /** Search each channel's clipping range for the least squared error (slower, usually better). */
  searchClipping?: boolean;
  /** Optional: weight parameters from the caller (clustered weights); null or absent = the default. */
  weightParams?: WeightParamsHook;
}

export interface WeightQuantResult {
  graph: ModelGraph;
  quantizedTensors: number;
  skipped: string[];
}

export function quantizeWeightOnly(source: ModelGraph, options: WeightQuantOptions): WeightQuantResult {
  const graph = cloneGraph(source);
  foldConstantDequantize(graph);
  const done = new Set<string>();
  let quantizedTensors = 0;
  const prologues = graph.subgraphs.map(() => [] as Operator[]);
  // Tensors sharing a float buffer (weight tying) share one int8 buffer too.
  const quantizedBytes = new Map<string, { data: Uint8Array; params: ReturnType<typeof symmetricWeightParams>; perChannel: boolean }>();
  const stored = new Map<Uint8Array, number>();
  for (const site of weightSites(graph, options.minElements)) {
    if (options.skip?.(site.subgraph, site.op)) continue;
    const key = `${site.subgraph}:${site.tensor}`;
    if (done.has(key)) continue;
    done.add(key);
    const tensor = graph.subgraphs[site.subgraph].tensors[site.tensor];
    const requestedPerChannel = options.perChannel && site.axis !== null;
    const axis = site.axis ?? 0;
    const sharedKey = `${tensor.buffer}:${axis}:${requestedPerChannel}:${tensor.shape.join('x')}`;
    let quantized = quantizedBytes.get(sharedKey);
    if (!quantized) {
      const values = constantAsFloat32(graph, site.subgraph, site.tensor);
      const custom = options.weightParams?.(values, tensor.shape, axis, requestedPerChannel) ?? null;
      const params = custom ?? symmetricWeightParams(values, tensor.shape, axis, requestedPerChannel, { searchClipping: options.searchClipping });
      quantized = { data: bytesOf(quantizeInt8(values, tensor.shape, params, true)), params, perChannel: custom ? params.scale.length > 1 : requestedPerChannel };
      quantizedBytes.set(sharedKey, quantized);
    }
    const { params, perChannel } = quantized;
    storeBehindDequantize(
      graph,
      site.subgraph,
      site.tensor,
      { type: TensorType.INT8, data: quantized.data, quantization: linearQuantization(params.scale, params.zeroPoint, perChannel ? axis : 0) },
      perChannel ? 5 : 2,
      prologues[site.subgraph],
      stored,
    );
    quantizedTensors++;
  }
  graph.subgraphs.forEach((subgraph, s) => (subgraph.operators = [...prologues[s], ...subgraph.operators]));
  dropUnused(graph);
  return { graph, quantizedTensors, skipped: [] };
}
