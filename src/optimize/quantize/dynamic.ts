/**
 * Dynamic-range quantization: int8 weights read directly by hybrid kernels, which quantize the
 * float activations on the fly; biases and activations stay float. Small tensors stay float, as
 * the TFLite converter leaves them (1,024 elements by default).
 */
import { cloneGraph, opcodeIndex } from '../../tflite/edit';
import { linearQuantization } from '../../tflite/edit';
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { BuiltinOperator as Op, FullyConnectedOptionsT, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32, dropUnused, foldConstantDequantize } from './fold-dequantize';
import { bytesOf, quantizeInt8, symmetricWeightParams } from './params';
import type { WeightQuantOptions, WeightQuantResult } from './weight-only';
import { weightSites, type WeightSite } from './weight-sites';
import { quantizeWeightOnly } from './weight-only';

/** Ops with hybrid (float activation x int8 weight) kernels in TFLite, and whether per channel. */
const HYBRID: Partial<Record<Op, { perChannel: boolean; version: (perChannel: boolean) => number }>> = {
  [Op.CONV_2D]: { perChannel: true, version: (pc) => (pc ? 5 : 2) },
  [Op.DEPTHWISE_CONV_2D]: { perChannel: true, version: (pc) => (pc ? 6 : 4) },
  [Op.FULLY_CONNECTED]: { perChannel: false, version: () => 9 },
  [Op.BATCH_MATMUL]: { perChannel: false, version: () => 4 },
  [Op.EMBEDDING_LOOKUP]: { perChannel: false, version: () => 3 },
  [Op.UNIDIRECTIONAL_SEQUENCE_LSTM]: { perChannel: false, version: () => 3 },
  [Op.LSTM]: { perChannel: false, version: () => 4 },
  [Op.SVDF]: { perChannel: false, version: () => 4 },
  [Op.RNN]: { perChannel: false, version: () => 3 },
  [Op.UNIDIRECTIONAL_SEQUENCE_RNN]: { perChannel: false, version: () => 3 },
};

/**
 * Whether LiteRT.js computes this site correctly with a hybrid kernel. Measured: FULLY_CONNECTED
 * without a bias gives NaN in its hybrid path, and BATCH_MATMUL's hybrid kernel only takes a
 * constant right-hand side. Such weights are stored weight-only (int8 + DEQUANTIZE) instead.
 */
function hybridWorks(graph: ModelGraph, site: WeightSite): boolean {
  const op = graph.subgraphs[site.subgraph].operators[site.op];
  if (site.builtin === Op.FULLY_CONNECTED) return op.inputs.length > 2 && op.inputs[2] >= 0;
  if (site.builtin === Op.BATCH_MATMUL) return site.input === 1;
  return true;
}

export function quantizeDynamicRange(source: ModelGraph, options: WeightQuantOptions): WeightQuantResult {
  const graph = cloneGraph(source);
  foldConstantDequantize(graph);
  const skipped: string[] = [];
  let quantizedTensors = 0;
  const sites = weightSites(graph, options.minElements).filter((site) => !options.skip?.(site.subgraph, site.op));
  // A weight goes to hybrid kernels only when every op reading it has one that works.
  const byTensor = new Map<string, WeightSite[]>();
  for (const site of sites) {
    const key = `${site.subgraph}:${site.tensor}`;
    byTensor.set(key, [...(byTensor.get(key) ?? []), site]);
  }
  const readers = graph.subgraphs.map((subgraph) => {
    const count = new Map<number, number>();
    for (const op of subgraph.operators) for (const t of op.inputs) count.set(t, (count.get(t) ?? 0) + 1);
    return count;
  });
  const weightOnly = new Set<string>();
  const convertedBuffers = new Map<string, { buffer: number; params: ReturnType<typeof symmetricWeightParams>; perChannel: boolean }>();
  for (const [key, list] of byTensor) {
    const allHybrid = list.every((site) => HYBRID[site.builtin] && hybridWorks(graph, site));
    const allReaders = list.length === (readers[list[0].subgraph].get(list[0].tensor) ?? 0);
    if (!allHybrid || !allReaders) weightOnly.add(key);
  }
  for (const [key, list] of byTensor) {
    if (weightOnly.has(key)) continue;
    const site = list[0];
    const hybrid = HYBRID[site.builtin]!;
    const subgraph = graph.subgraphs[site.subgraph];
    let perChannel = options.perChannel && list.every((s) => HYBRID[s.builtin]!.perChannel && s.axis !== null);
    const tensor = subgraph.tensors[site.tensor];
    const axis = site.axis ?? 0;
    // Tensors tied to one float buffer (e.g. in two subgraphs) get one int8 buffer.
    const sharedKey = `${tensor.buffer}:${axis}:${perChannel}:${tensor.shape.join('x')}`;
    let converted = convertedBuffers.get(sharedKey);
    if (!converted) {
      const values = constantAsFloat32(graph, site.subgraph, site.tensor);
      const custom = options.weightParams?.(values, tensor.shape, axis, perChannel) ?? null;
      const params = custom ?? symmetricWeightParams(values, tensor.shape, axis, perChannel);
      graph.buffers.push({ data: bytesOf(quantizeInt8(values, tensor.shape, params, true)) });
      converted = { buffer: graph.buffers.length - 1, params, perChannel: custom ? params.scale.length > 1 : perChannel };
      convertedBuffers.set(sharedKey, converted);
    }
    const { params } = converted;
    perChannel = converted.perChannel;
    tensor.buffer = converted.buffer;
    tensor.type = TensorType.INT8;
    tensor.quantization = linearQuantization(params.scale, params.zeroPoint, perChannel ? axis : 0);
    quantizedTensors++;
    for (const s of list) {
      const op = subgraph.operators[s.op];
      if (s.builtin === Op.FULLY_CONNECTED && op.builtinOptions instanceof FullyConnectedOptionsT) {
        // Quantize inputs asymmetrically per batch row: the converter's current hybrid scheme.
        op.builtinOptions.asymmetricQuantizeInputs = true;
      }
      const code = graph.operatorCodes[op.opcodeIndex];
      op.opcodeIndex = opcodeIndex(graph, builtinCodeOf(code), Math.max(code.version, hybrid.version(perChannel)), code.customCode);
    }
  }
  dropUnused(graph);
  // Weights of ops without a (working) hybrid kernel: int8 storage with DEQUANTIZE, float compute.
  let result: WeightQuantResult = { graph, quantizedTensors, skipped };
  if (weightOnly.size) {
    const stored = quantizeWeightOnly(graph, {
      perChannel: options.perChannel,
      minElements: options.minElements,
      weightParams: options.weightParams,
      skip: (s, o) => !sites.some((site) => site.subgraph === s && site.op === o && weightOnly.has(`${s}:${site.tensor}`)),
    });
    skipped.push(`${stored.quantizedTensors} weight tensor(s) of ops without a hybrid kernel in LiteRT.js stored as int8 behind DEQUANTIZE (float compute)`);
    result = { graph: stored.graph, quantizedTensors: quantizedTensors + stored.quantizedTensors, skipped };
  }
  return result;
}
