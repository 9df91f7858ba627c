/**
 * Dynamic-range quantization: int8 or int4 weights read directly by hybrid kernels, which quantize
 * the float activations on the fly; biases and activations stay float. Small tensors stay float, as
 * the TFLite converter leaves them (1,024 elements by default). Int4 weights can be blockwise for
 * FULLY_CONNECTED and EMBEDDING_LOOKUP (AEQ's dynamic_wi4_afp32_blockwise).
 */
import { cloneGraph, newTensor, opcodeIndex } from '../../tflite/edit';
import { linearQuantization } from '../../tflite/edit';
import type { ModelGraph, Quantization } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { BuiltinOperator as Op, FullyConnectedOptionsT, QuantizationDetails, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { BlockwiseQuantizationT } from '../../tflite/schema/generated/tflite/blockwise-quantization';
import { constantAsFloat32, dropUnused, foldConstantDequantize } from './fold-dequantize';
import { fitsBlocks, packInt4, quantizeBlockwiseInt4 } from './int4';
import { bytesOf, quantizeInt8, symmetricWeightParams, type QuantParams } from './params';
import { int4Axis, int4Storage, quantizeWeightOnly, weightBitsFor, type WeightBits, type WeightQuantOptions, type WeightQuantResult } from './weight-only';
import { weightSites, type WeightSite } from './weight-sites';

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
 * Hybrid kernels LiteRT.js 2.5.3 runs with an INT4 weight, measured against a float reference on
 * hand-built models. TFLite's op_version.cc has no float x int4 hybrid case, so the versions are the
 * ones LiteRT.js accepts: FULLY_CONNECTED 13 (per-channel and blockwise, with or without bias),
 * CONV_2D 5 (its per-channel hybrid version), EMBEDDING_LOOKUP 4 (per-channel rows and blockwise).
 */
const HYBRID_INT4: Partial<Record<Op, { version: number; blockwise: boolean }>> = {
  [Op.FULLY_CONNECTED]: { version: 13, blockwise: true },
  [Op.CONV_2D]: { version: 5, blockwise: false },
  [Op.EMBEDDING_LOOKUP]: { version: 4, blockwise: true },
};

/** Why an int4 weight of this op is not read by a hybrid kernel (measured in LiteRT.js 2.5.3). */
const NO_INT4_HYBRID: Partial<Record<Op, string>> = {
  [Op.BATCH_MATMUL]: 'its kernel refuses an INT4 right-hand side (batch_matmul.cc: rhs must be FLOAT32, INT8 or INT16)',
  [Op.DEPTHWISE_CONV_2D]: 'no int4 hybrid depthwise kernel was measured to work',
  [Op.GATHER]: 'GATHER has no hybrid kernel',
};

/**
 * Whether LiteRT.js computes this site correctly with a hybrid kernel. Measured: FULLY_CONNECTED
 * without a bias gives NaN in its int8 hybrid path (its int4 path is fine), and BATCH_MATMUL's
 * hybrid kernel only takes a constant right-hand side. Such weights are stored weight-only instead.
 */
function hybridWorks(graph: ModelGraph, site: WeightSite, bits: WeightBits): boolean {
  if (bits === 4) return HYBRID_INT4[site.builtin] !== undefined && site.input === 1;
  if (!HYBRID[site.builtin]) return false;
  const op = graph.subgraphs[site.subgraph].operators[site.op];
  if (site.builtin === Op.FULLY_CONNECTED) return op.inputs.length > 2 && op.inputs[2] >= 0;
  if (site.builtin === Op.BATCH_MATMUL) return site.input === 1;
  return true;
}

interface Converted {
  buffer: number;
  type: TensorType;
  params: QuantParams | null;
  perChannel: boolean;
  /** Blockwise: the float16 scales' buffer, shape and block size. */
  blockwise?: { buffer: number; shape: number[]; blockSize: number };
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
  const bitsOf = (list: WeightSite[]): WeightBits => (list.every((s) => weightBitsFor(s, options) === 4) ? 4 : 8);
  const weightOnly = new Set<string>();
  const int4Fallbacks = new Map<string, number>();
  for (const [key, list] of byTensor) {
    const bits = bitsOf(list);
    const allHybrid = list.every((site) => hybridWorks(graph, site, bits));
    const allReaders = list.length === (readers[list[0].subgraph].get(list[0].tensor) ?? 0);
    if (!allHybrid || !allReaders) weightOnly.add(key);
    if (bits === 4 && !allHybrid) {
      const site = list.find((s) => !hybridWorks(graph, s, 4))!;
      const reason = `${Op[site.builtin]}: int4 weights stored behind DEQUANTIZE (float compute), as LiteRT.js runs no int4 hybrid form of it: ${NO_INT4_HYBRID[site.builtin] ?? 'no hybrid kernel'}`;
      int4Fallbacks.set(reason, (int4Fallbacks.get(reason) ?? 0) + 1);
    }
  }
  const blockSize = options.blockSize ?? 0;
  const notBlockwise = new Map<string, number>();
  const convertedBuffers = new Map<string, Converted>();
  for (const [key, list] of byTensor) {
    if (weightOnly.has(key)) continue;
    const site = list[0];
    const bits = bitsOf(list);
    const subgraph = graph.subgraphs[site.subgraph];
    const tensor = subgraph.tensors[site.tensor];
    const blockwise = bits === 4 && blockSize > 0 && list.every((s) => HYBRID_INT4[s.builtin]!.blockwise) && fitsBlocks(tensor.shape, blockSize);
    if (bits === 4 && blockSize > 0 && !blockwise) {
      // One line per op type and cause (a CNN has dozens of convolutions).
      const reason = list.every((s) => HYBRID_INT4[s.builtin]!.blockwise)
        ? `${Op[site.builtin]} weight(s) [${tensor.shape}]: int4 per-channel instead of blockwise ${blockSize}, as the last dimension is not a multiple of ${blockSize}`
        : `${Op[site.builtin]} weight(s): int4 per-channel instead of blockwise ${blockSize}, as LiteRT.js has no blockwise ${Op[site.builtin]} kernel`;
      notBlockwise.set(reason, (notBlockwise.get(reason) ?? 0) + 1);
    }
    let perChannel =
      bits === 4 ? options.perChannel && site.axis !== null : options.perChannel && list.every((s) => HYBRID[s.builtin]!.perChannel && s.axis !== null);
    const axis = bits === 4 ? (int4Axis(site, tensor.shape) ?? 0) : (site.axis ?? 0);
    // Tensors tied to one float buffer (e.g. in two subgraphs) get one quantized buffer.
    const sharedKey = `${tensor.buffer}:${bits}:${blockwise}:${axis}:${perChannel}:${tensor.shape.join('x')}`;
    let converted = convertedBuffers.get(sharedKey);
    if (!converted) {
      const values = constantAsFloat32(graph, site.subgraph, site.tensor);
      converted = bits === 4 ? convertInt4(graph, values, tensor.shape, axis, perChannel, blockwise ? blockSize : 0) : convertInt8(graph, values, tensor.shape, axis, perChannel, options);
      convertedBuffers.set(sharedKey, converted);
    }
    perChannel = converted.perChannel;
    tensor.buffer = converted.buffer;
    tensor.type = converted.type;
    if (converted.blockwise) {
      const scales = subgraph.tensors.length;
      subgraph.tensors.push(newTensor({ name: `${tensor.name}_scales`, type: TensorType.FLOAT16, shape: converted.blockwise.shape, buffer: converted.blockwise.buffer }));
      tensor.quantization = blockwiseQuantization(scales, converted.blockwise.blockSize);
    } else {
      const params = converted.params!;
      tensor.quantization = linearQuantization(params.scale, params.zeroPoint, perChannel ? axis : 0);
    }
    quantizedTensors++;
    for (const s of list) {
      const op = subgraph.operators[s.op];
      if (s.builtin === Op.FULLY_CONNECTED && op.builtinOptions instanceof FullyConnectedOptionsT) {
        // Quantize inputs asymmetrically per batch row: the converter's current hybrid scheme.
        op.builtinOptions.asymmetricQuantizeInputs = true;
      }
      const code = graph.operatorCodes[op.opcodeIndex];
      const version = bits === 4 ? HYBRID_INT4[s.builtin]!.version : HYBRID[s.builtin]!.version(perChannel);
      op.opcodeIndex = opcodeIndex(graph, builtinCodeOf(code), Math.max(code.version, version), code.customCode);
    }
  }
  dropUnused(graph);
  for (const [reason, count] of notBlockwise) skipped.push(`${count} ${reason}`);
  for (const [reason, count] of int4Fallbacks) skipped.push(`${count} ${reason}`);
  // Weights of ops without a (working) hybrid kernel: quantized storage with DEQUANTIZE, float compute.
  let result: WeightQuantResult = { graph, quantizedTensors, skipped };
  if (weightOnly.size) {
    const stored = quantizeWeightOnly(graph, {
      perChannel: options.perChannel,
      minElements: options.minElements,
      weightParams: options.weightParams,
      weightBits: options.weightBits,
      opWeightBits: options.opWeightBits,
      blockSize: options.blockSize,
      skip: (s, o) => !sites.some((site) => site.subgraph === s && site.op === o && weightOnly.has(`${s}:${site.tensor}`)),
    });
    skipped.push(`${stored.quantizedTensors} weight tensor(s) of ops without a hybrid kernel in LiteRT.js stored behind DEQUANTIZE (float compute)`, ...stored.skipped);
    result = { graph: stored.graph, quantizedTensors: quantizedTensors + stored.quantizedTensors, skipped };
  }
  return result;
}

function convertInt8(graph: ModelGraph, values: Float32Array, shape: number[], axis: number, perChannel: boolean, options: WeightQuantOptions): Converted {
  const custom = options.weightParams?.(values, shape, axis, perChannel) ?? null;
  const params = custom ?? symmetricWeightParams(values, shape, axis, perChannel);
  graph.buffers.push({ data: bytesOf(quantizeInt8(values, shape, params, true)) });
  return { buffer: graph.buffers.length - 1, type: TensorType.INT8, params, perChannel: custom ? params.scale.length > 1 : perChannel };
}

function convertInt4(graph: ModelGraph, values: Float32Array, shape: number[], axis: number, perChannel: boolean, blockSize: number): Converted {
  if (blockSize) {
    const q = quantizeBlockwiseInt4(values, shape, blockSize);
    graph.buffers.push({ data: packInt4(q.values) });
    const buffer = graph.buffers.length - 1;
    graph.buffers.push({ data: bytesOf(q.scales) });
    return { buffer, type: TensorType.INT4, params: null, perChannel: false, blockwise: { buffer: graph.buffers.length - 1, shape: [shape[0], shape[1] / blockSize], blockSize } };
  }
  const stored = int4Storage(values, shape, axis, perChannel);
  graph.buffers.push({ data: stored.data });
  return { buffer: graph.buffers.length - 1, type: TensorType.INT4, params: stored.params, perChannel: stored.perChannel };
}

/** QuantizationParameters carrying BlockwiseQuantization details: scales in tensor `scales`, no zero points. */
function blockwiseQuantization(scales: number, blockSize: number): Quantization {
  return {
    min: null,
    max: null,
    scale: null,
    zeroPoint: null,
    quantizedDimension: 0,
    detailsType: QuantizationDetails.BlockwiseQuantization,
    details: new BlockwiseQuantizationT(scales, -1, blockSize),
  };
}
