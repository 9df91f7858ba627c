/**
 * Where the weights are: for each op, the constant inputs that are weights, with the axis their
 * output channels run along. Weight-only, dynamic-range and float16 storage all start here.
 */
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { isConstant } from '../../tflite/queries';
import { BuiltinOperator as Op, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { elementCount } from '../../tflite/summary';

export interface WeightSite {
  subgraph: number;
  op: number;
  input: number;
  tensor: number;
  /** Channel axis for per-channel scales; null when only per-tensor makes sense. */
  axis: number | null;
  builtin: Op;
}

/** Input index -> channel axis of the weight inputs, per op. */
const WEIGHT_INPUTS: Partial<Record<Op, Record<number, number | null>>> = {
  [Op.CONV_2D]: { 1: 0 },
  [Op.DEPTHWISE_CONV_2D]: { 1: 3 },
  [Op.FULLY_CONNECTED]: { 1: 0 },
  [Op.TRANSPOSE_CONV]: { 1: 0 },
  [Op.CONV_3D]: { 1: 4 },
  [Op.BATCH_MATMUL]: { 0: null, 1: null },
  [Op.EMBEDDING_LOOKUP]: { 1: 0 },
  [Op.GATHER]: { 0: null },
  [Op.UNIDIRECTIONAL_SEQUENCE_LSTM]: Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 16].map((i) => [i, null])),
  [Op.LSTM]: Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 16].map((i) => [i, null])),
  [Op.SVDF]: { 1: null, 2: null },
  [Op.UNIDIRECTIONAL_SEQUENCE_RNN]: { 1: null, 2: null },
  [Op.RNN]: { 1: null, 2: null },
};

export function weightSites(graph: ModelGraph, minElements = 0): WeightSite[] {
  const sites: WeightSite[] = [];
  graph.subgraphs.forEach((subgraph, s) => {
    subgraph.operators.forEach((op, o) => {
      const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
      const inputs = WEIGHT_INPUTS[builtin];
      if (!inputs) return;
      for (const [key, axis] of Object.entries(inputs)) {
        const input = Number(key);
        const t = op.inputs[input];
        if (t === undefined || t < 0) continue;
        const tensor = subgraph.tensors[t];
        if (tensor.type !== TensorType.FLOAT32 || !isConstant(graph, tensor)) continue;
        if (elementCount(tensor.shape) < minElements) continue;
        sites.push({ subgraph: s, op: o, input, tensor: t, axis, builtin });
      }
    });
  });
  return sites;
}
