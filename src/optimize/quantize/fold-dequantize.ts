/**
 * Turn "constant -> DEQUANTIZE -> float tensor" into a plain float32 constant.
 *
 * Models stored as float16 (or weight-only int8) keep their weights behind DEQUANTIZE ops. To
 * quantize them again, or to re-store them another way, we first need the weights as float32
 * constants feeding the ops directly; this pass does that and nothing else.
 */
import { WorkbenchError } from '../../errors';
import { elementCount } from '../../tflite/summary';
import type { ModelGraph } from '../../tflite/graph';
import { removeUnusedBuffers, removeUnusedTensors } from '../../tflite/edit';
import { builtinCodeOf } from '../../tflite/ops';
import { isConstant } from '../../tflite/queries';
import { BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { fromFloat16 } from '../../tflite/dtypes';
import { noteWeightCopy } from '../../tflite/weight-ledger';
import { unpackInt4 } from './int4';
import { bytesOf } from './params';

/** Float32 values of a constant tensor stored as FLOAT32, FLOAT16, INT4 (per channel / tensor), INT8 or UINT8 (dequantized). */
export function constantAsFloat32(graph: ModelGraph, subgraphIndex: number, tensorIndex: number): Float32Array {
  const tensor = graph.subgraphs[subgraphIndex].tensors[tensorIndex];
  const data = graph.buffers[tensor.buffer].data;
  const count = elementCount(tensor.shape);
  const copy = data.slice(); // aligned, and never aliasing the file
  noteWeightCopy('working', copy, 'weights as float32');
  switch (tensor.type) {
    case TensorType.FLOAT32:
      return new Float32Array(copy.buffer, 0, count);
    case TensorType.FLOAT16:
      return fromFloat16(new Uint16Array(copy.buffer, 0, count));
    case TensorType.INT4:
    case TensorType.INT8:
    case TensorType.UINT8: {
      const q = tensor.quantization;
      // Blockwise int4 keeps its scales in another tensor (details), not read here.
      if (!q?.scale?.length || (tensor.type === TensorType.INT4 && q.details)) break;
      const values =
        tensor.type === TensorType.INT4 ? unpackInt4(copy, count) : tensor.type === TensorType.INT8 ? new Int8Array(copy.buffer, 0, count) : new Uint8Array(copy.buffer, 0, count);
      const out = new Float32Array(count);
      const axis = q.quantizedDimension;
      const channels = q.scale.length;
      const inner = channels > 1 ? tensor.shape.slice(axis + 1).reduce((n, d) => n * d, 1) : count;
      for (let i = 0; i < count; i++) {
        const c = channels > 1 ? Math.floor(i / inner) % channels : 0;
        out[i] = q.scale[c] * (values[i] - (q.zeroPoint?.[c] ?? 0));
      }
      return out;
    }
    default:
      break;
  }
  throw new WorkbenchError('unsupported', `tensor "${tensor.name}" holds ${TensorType[tensor.type]} data that cannot be read as float`);
}

/**
 * Fold every DEQUANTIZE of a constant into a float32 constant; returns how many were folded.
 * Tensor indices stay as they were (the stored constants it no longer needs stay in the list, unused):
 * calibration ranges and channel means are keyed by tensor index of the model as read, so renumbering
 * here would pair them with the wrong tensors. Callers drop unused tensors once their rewrite is done.
 */
export function foldConstantDequantize(graph: ModelGraph): number {
  let folded = 0;
  graph.subgraphs.forEach((subgraph, s) => {
    const keep = subgraph.operators.filter((op) => {
      if (builtinCodeOf(graph.operatorCodes[op.opcodeIndex]) !== BuiltinOperator.DEQUANTIZE) return true;
      const input = subgraph.tensors[op.inputs[0]];
      if (!isConstant(graph, input)) return true;
      const output = subgraph.tensors[op.outputs[0]];
      const values = constantAsFloat32(graph, s, op.inputs[0]);
      graph.buffers.push({ data: bytesOf(values) });
      output.buffer = graph.buffers.length - 1;
      output.type = TensorType.FLOAT32;
      output.quantization = null;
      folded++;
      return false;
    });
    subgraph.operators = keep;
  });
  return folded;
}

/** Drop the tensors and buffers no op, subgraph or signature refers to any more (renumbers them). */
export function dropUnused(graph: ModelGraph): void {
  graph.subgraphs.forEach((_, s) => removeUnusedTensors(graph, s));
  removeUnusedBuffers(graph);
}
