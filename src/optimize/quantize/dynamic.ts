/**
 * Dynamic-range quantization: int8 weights read directly by hybrid kernels, which quantize the
 * float activations on the fly; biases and activations stay float. Small tensors stay float, as
 * the TFLite converter leaves them (1,024 elements by default).
 */
import { cloneGraph, opcodeIndex, removeUnusedBuffers } from '../../tflite/edit';
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { BuiltinOperator as Op, FullyConnectedOptionsT, QuantizationDetails, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32, foldConstantDequantize } from './fold-dequantize';
import { bytesOf, quantizeInt8, symmetricWeightParams } from './params';
import type { WeightQuantOptions, WeightQuantResult } from './weight-only';
import { weightSites } from './weight-sites';

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

export function quantizeDynamicRange(source: ModelGraph, options: WeightQuantOptions): WeightQuantResult {
  const graph = cloneGraph(source);
  foldConstantDequantize(graph);
  const skipped: string[] = [];
  let quantizedTensors = 0;
  const converted = new Map<string, number[]>(); // tensor -> scales, so shared weights are done once
  for (const site of weightSites(graph, options.minElements)) {
    const hybrid = HYBRID[site.builtin];
    if (!hybrid) continue;
    if (options.skip?.(site.subgraph, site.op)) continue;
    const subgraph = graph.subgraphs[site.subgraph];
    const op = subgraph.operators[site.op];
    const key = `${site.subgraph}:${site.tensor}`;
    const perChannel = options.perChannel && hybrid.perChannel && site.axis !== null;
    if (!converted.has(key)) {
      const tensor = subgraph.tensors[site.tensor];
      const values = constantAsFloat32(graph, site.subgraph, site.tensor);
      const axis = site.axis ?? 0;
      const params = symmetricWeightParams(values, tensor.shape, axis, perChannel);
      graph.buffers.push({ data: bytesOf(quantizeInt8(values, tensor.shape, params, true)) });
      tensor.buffer = graph.buffers.length - 1;
      tensor.type = TensorType.INT8;
      tensor.quantization = {
        min: null,
        max: null,
        scale: params.scale,
        zeroPoint: params.zeroPoint,
        quantizedDimension: perChannel ? axis : 0,
        detailsType: QuantizationDetails.NONE,
        details: null,
      };
      converted.set(key, params.scale);
      quantizedTensors++;
    }
    if (site.builtin === Op.FULLY_CONNECTED && op.builtinOptions instanceof FullyConnectedOptionsT) {
      // Quantize inputs asymmetrically per batch row: the converter's current hybrid scheme.
      op.builtinOptions.asymmetricQuantizeInputs = true;
    }
    const code = graph.operatorCodes[op.opcodeIndex];
    op.opcodeIndex = opcodeIndex(graph, builtinCodeOf(code), Math.max(code.version, hybrid.version(perChannel)), code.customCode);
  }
  removeUnusedBuffers(graph);
  return { graph, quantizedTensors, skipped };
}
