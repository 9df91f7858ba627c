/**
 * Turn an already-quantized model (int8/uint8/int16 from a converter, a hybrid one, or one storing
 * float16 weights behind DEQUANTIZE) back into a float32 model, as a starting point for other
 * techniques: constants are dequantized, integer activations become float, and QUANTIZE/DEQUANTIZE
 * ops (now identities) are removed.
 */
import { cloneGraph, removeUnusedBuffers, removeUnusedTensors } from '../../tflite/edit';
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { isConstant } from '../../tflite/queries';
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { elementCount } from '../../tflite/summary';
import { constantAsFloat32, foldConstantDequantize } from './fold-dequantize';
import { bytesOf } from './params';

export interface DequantizeResult {
  graph: ModelGraph;
  notes: string[];
}

const QUANTIZED_TYPES = new Set([TensorType.INT4, TensorType.INT8, TensorType.UINT8, TensorType.INT16]);

export function dequantizeModel(source: ModelGraph): DequantizeResult {
  const graph = cloneGraph(source);
  const notes: string[] = [];
  const folded = foldConstantDequantize(graph);
  if (folded) notes.push(`${folded} DEQUANTIZE op(s) of stored constants (float16 or int8 weights) folded into float32 constants`);
  graph.subgraphs.forEach((subgraph, s) => {
    restoreClamps(graph, s);
    subgraph.tensors.forEach((tensor, t) => {
      const q = tensor.quantization;
      const quantized = !!q?.scale?.length;
      if (isConstant(graph, tensor)) {
        if (!quantized) return;
        if (QUANTIZED_TYPES.has(tensor.type)) {
          graph.buffers.push({ data: bytesOf(constantAsFloat32(graph, s, t)) });
        } else if (tensor.type === TensorType.INT32) {
          // Biases: real = scale[c] * q.
          const data = graph.buffers[tensor.buffer].data.slice();
          const values = new Int32Array(data.buffer, 0, elementCount(tensor.shape));
          const scale = q!.scale!;
          graph.buffers.push({ data: bytesOf(Float32Array.from(values, (v, i) => v * scale[scale.length > 1 ? i % scale.length : 0])) });
        } else return;
        tensor.buffer = graph.buffers.length - 1;
        tensor.type = TensorType.FLOAT32;
        tensor.quantization = null;
        return;
      }
      if (quantized && QUANTIZED_TYPES.has(tensor.type)) {
        if (s === 0 && subgraph.inputs.includes(t)) {
          notes.push(`input "${tensor.name}" now takes float values; the quantized model took ${TensorType[tensor.type]} with real = ${q!.scale![0]} * (q - ${q!.zeroPoint?.[0] ?? 0})`);
        }
        tensor.type = TensorType.FLOAT32;
        tensor.quantization = null;
      }
    });
    // QUANTIZE and DEQUANTIZE between float tensors are identities now: drop them and rewire.
    const replaced = new Map<number, number>();
    subgraph.operators = subgraph.operators.filter((op) => {
      const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
      if (builtin !== BuiltinOperator.QUANTIZE && builtin !== BuiltinOperator.DEQUANTIZE) return true;
      const [input] = op.inputs;
      const [output] = op.outputs;
      if (subgraph.tensors[input].type !== TensorType.FLOAT32 || subgraph.tensors[output].type !== TensorType.FLOAT32) return true;
      replaced.set(output, replaced.get(input) ?? input);
      return false;
    });
    const resolve = (t: number) => replaced.get(t) ?? t;
    for (const op of subgraph.operators) op.inputs = op.inputs.map(resolve);
    const oldOutputs = [...subgraph.outputs];
    subgraph.outputs = subgraph.outputs.map(resolve);
    // Keep the output names users know.
    oldOutputs.forEach((old, i) => {
      const now = subgraph.outputs[i];
      if (now !== old) subgraph.tensors[now].name = subgraph.tensors[old].name;
    });
    for (const signature of graph.signatureDefs) {
      if (signature.subgraphIndex !== s) continue;
      for (const map of signature.outputs) map.tensorIndex = resolve(map.tensorIndex);
    }
    removeUnusedTensors(graph, s);
  });
  removeUnusedBuffers(graph);
  return { graph, notes };
}

/**
 * A quantized op clamps its output to the range its output type can hold, which is how converters
 * express a fused ReLU/ReLU6 in quantized models (they often drop the fused activation). In float,
 * that clamp must become explicit again, or activations run past 0 and 6.
 */
function restoreClamps(graph: ModelGraph, s: number): void {
  const subgraph = graph.subgraphs[s];
  for (const op of subgraph.operators) {
    const options = op.builtinOptions as { fusedActivationFunction?: ActivationFunctionType } | null;
    if (!options || options.fusedActivationFunction !== ActivationFunctionType.NONE) continue;
    const output = subgraph.tensors[op.outputs[0]];
    const q = output?.quantization;
    if (!q?.scale?.length || !QUANTIZED_TYPES.has(output.type)) continue;
    const [qmin, qmax] = output.type === TensorType.UINT8 ? [0, 255] : output.type === TensorType.INT8 ? [-128, 127] : [-32768, 32767];
    const scale = q.scale[0];
    const zeroPoint = q.zeroPoint?.[0] ?? 0;
    const low = scale * (qmin - zeroPoint);
    const high = scale * (qmax - zeroPoint);
    const near = (a: number, b: number) => Math.abs(a - b) <= scale;
    if (near(low, 0)) options.fusedActivationFunction = near(high, 6) ? ActivationFunctionType.RELU6 : ActivationFunctionType.RELU;
    else if (near(low, -1) && near(high, 1)) options.fusedActivationFunction = ActivationFunctionType.RELU_N1_TO_1;
  }
}
