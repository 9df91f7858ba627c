/**
 * What is in a model, in the terms a person optimizing it cares about: I/O, ops, weight bytes by
 * type, how (if at all) it is quantized, and what a runtime may trip over.
 */
import { gzipSync } from 'fflate';
import { elementCount } from './shape';
import { dtypeBytes, dtypeName } from './dtypes';
import type { ModelGraph, Subgraph, Tensor } from './graph';
import { isCustom, opCodeName, opName } from './ops';
import { readModel } from './read';
import { BuiltinOperator, TensorType } from './schema/generated/tflite_generated';
import type { ModelSummary, OperatorInfo, QuantizationState, TensorInfo } from './summary-types';

export type { ModelSummary, OperatorInfo, QuantizationState, TensorInfo } from './summary-types';

const LARGEST_TENSORS = 10;

/** Parse and summarize; throws WorkbenchError for anything that is not a readable model. */
export function summarizeModel(bytes: Uint8Array): ModelSummary {
  return summarizeGraph(readModel(bytes), bytes);
}

export function summarizeGraph(graph: ModelGraph, fileBytes: Uint8Array): ModelSummary {
  const main = graph.subgraphs[0];
  const ops: Record<string, number> = {};
  let opCount = 0;
  for (const subgraph of graph.subgraphs) {
    for (const op of subgraph.operators) {
      const name = opName(graph, op);
      ops[name] = (ops[name] ?? 0) + 1;
      opCount++;
    }
  }
  const weights = constantBuffers(graph);
  const bytesByDtype: Record<string, number> = {};
  let params = 0;
  for (const { tensor, bytes } of weights) {
    const name = dtypeName(tensor.type);
    bytesByDtype[name] = (bytesByDtype[name] ?? 0) + bytes;
    params += elementCount(tensor.shape);
  }
  const largestTensors = [...weights]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, LARGEST_TENSORS)
    .map(({ tensor, bytes }) => ({ name: tensor.name, dtype: dtypeName(tensor.type), shape: tensor.shape, bytes }));

  return {
    bytes: fileBytes.length,
    gzipBytes: gzipSync(fileBytes, { level: 9 }).length,
    schemaVersion: graph.version,
    description: graph.description,
    subgraphCount: graph.subgraphs.length,
    inputs: main.inputs.map((t) => tensorInfo(main.tensors[t])),
    outputs: main.outputs.map((t) => tensorInfo(main.tensors[t])),
    signatures: graph.signatureDefs.map((def) => ({
      key: def.signatureKey,
      subgraphIndex: def.subgraphIndex,
      inputs: def.inputs.map((m) => m.name),
      outputs: def.outputs.map((m) => m.name),
    })),
    ops,
    opCount,
    operatorList: operatorList(graph),
    params,
    bytesByDtype,
    quantization: quantizationState(graph),
    largestTensors,
    customOps: [...new Set(graph.operatorCodes.filter(isCustom).map(opCodeName))],
    metadata: graph.metadata.map((m) => ({ name: m.name, bytes: graph.buffers[m.buffer].data.length })),
    associatedFiles: graph.appendedZip?.fileNames ?? [],
    notes: runtimeNotes(graph),
  };
}

/** Every operator in execution order with the dtypes of its activations, outputs and constant inputs. */
export function operatorList(graph: ModelGraph): OperatorInfo[] {
  const list: OperatorInfo[] = [];
  graph.subgraphs.forEach((subgraph, s) => {
    subgraph.operators.forEach((op, index) => {
      const inputDtypes: string[] = [];
      const weightDtypes: string[] = [];
      for (const t of op.inputs) {
        if (t < 0 || !subgraph.tensors[t]) continue;
        const tensor = subgraph.tensors[t];
        const constant = (graph.buffers[tensor.buffer]?.data.length ?? 0) > 0;
        (constant ? weightDtypes : inputDtypes).push(dtypeName(tensor.type));
      }
      const outputDtypes = op.outputs.filter((t) => t >= 0 && subgraph.tensors[t]).map((t) => dtypeName(subgraph.tensors[t].type));
      list.push({ subgraph: s, index, op: opName(graph, op), inputDtypes, outputDtypes, weightDtypes });
    });
  });
  return list;
}

export function tensorInfo(tensor: Tensor): TensorInfo {
  const q = tensor.quantization;
  return {
    name: tensor.name,
    shape: tensor.shape,
    shapeSignature: tensor.shapeSignature,
    dtype: dtypeName(tensor.type),
    quantization: q && q.scale && q.scale.length
      ? { scale: q.scale, zeroPoint: q.zeroPoint ?? q.scale.map(() => 0), quantizedDimension: q.quantizedDimension }
      : null,
  };
}

export { elementCount } from './shape';

/** Each constant buffer once (buffers can be shared), with the first tensor that reads it. */
function constantBuffers(graph: ModelGraph): { tensor: Tensor; bytes: number }[] {
  const seen = new Set<number>();
  const result: { tensor: Tensor; bytes: number }[] = [];
  for (const subgraph of graph.subgraphs) {
    for (const tensor of subgraph.tensors) {
      const data = graph.buffers[tensor.buffer]?.data;
      if (!data || data.length === 0 || seen.has(tensor.buffer)) continue;
      seen.add(tensor.buffer);
      result.push({ tensor, bytes: data.length });
    }
  }
  return result;
}

const QUANTIZABLE_ACTIVATIONS = new Set([TensorType.FLOAT32, TensorType.FLOAT16, TensorType.INT8, TensorType.UINT8, TensorType.INT16]);

/**
 * Classify by what the compute ops produce and how their weights arrive: int activations mean full
 * integer; float activations with int8 weights fed straight into kernels mean dynamic range; weights
 * that pass through DEQUANTIZE mean weight-only (int8) or float16 storage.
 */
export function quantizationState(graph: ModelGraph): QuantizationState {
  const activationTypes = new Set<TensorType>();
  const dequantizedWeightTypes = new Set<TensorType>();
  const directWeightTypes = new Set<TensorType>();
  const isConstant = (subgraph: Subgraph, t: number) => t >= 0 && (graph.buffers[subgraph.tensors[t].buffer]?.data.length ?? 0) > 0;
  for (const subgraph of graph.subgraphs) {
    for (const op of subgraph.operators) {
      const code = graph.operatorCodes[op.opcodeIndex];
      const builtin = Math.max(code.builtinCode, code.deprecatedBuiltinCode);
      if (builtin === BuiltinOperator.DEQUANTIZE) {
        const input = op.inputs[0];
        if (isConstant(subgraph, input)) dequantizedWeightTypes.add(subgraph.tensors[input].type);
        continue;
      }
      // Custom ops (e.g. detection post-processing) emit float by design; they say nothing of the rest.
      if (builtin === BuiltinOperator.QUANTIZE || builtin === BuiltinOperator.CUSTOM) continue;
      for (const t of op.outputs) {
        const type = subgraph.tensors[t].type;
        if (QUANTIZABLE_ACTIVATIONS.has(type)) activationTypes.add(type);
      }
      for (const t of op.inputs) {
        if (isConstant(subgraph, t)) directWeightTypes.add(subgraph.tensors[t].type);
      }
    }
  }
  const intActivations = [TensorType.INT8, TensorType.UINT8, TensorType.INT16].filter((t) => activationTypes.has(t));
  const floatActivations = activationTypes.has(TensorType.FLOAT32) || activationTypes.has(TensorType.FLOAT16);
  if (intActivations.length > 0 && floatActivations) return 'mixed';
  if (intActivations.length > 1) return activationTypes.has(TensorType.INT16) ? '16x8' : 'mixed';
  if (intActivations.length === 1) {
    return intActivations[0] === TensorType.INT16 ? '16x8' : intActivations[0] === TensorType.UINT8 ? 'uint8' : 'int8';
  }
  const directInt = directWeightTypes.has(TensorType.INT8) || directWeightTypes.has(TensorType.UINT8);
  if (directInt) return 'dynamic-range';
  if (dequantizedWeightTypes.has(TensorType.INT8)) return 'weight-only-int8';
  if (dequantizedWeightTypes.has(TensorType.FLOAT16)) return 'float16';
  const anyFloatWeights = directWeightTypes.has(TensorType.FLOAT32);
  return anyFloatWeights ? 'float32' : 'no-weights';
}

/** Facts about the model that change what a runtime or an optimizer can do with it. */
function runtimeNotes(graph: ModelGraph): string[] {
  const notes: string[] = [];
  const variables = graph.subgraphs.flatMap((s) => s.tensors.filter((t) => t.isVariable));
  if (variables.length) {
    notes.push(`${variables.length} variable (state) tensor(s), e.g. "${variables[0].name}": LiteRT.js cannot run models with variable tensors.`);
  }
  const main = graph.subgraphs[0];
  const dynamicInputs = main.inputs.map((t) => main.tensors[t]).filter((t) => t.shapeSignature?.includes(-1));
  if (dynamicInputs.length) {
    notes.push(`Input(s) with dynamic dimensions (${dynamicInputs.map((t) => `"${t.name}" [${t.shapeSignature}]`).join(', ')}); they are pinned to the stored shape for evaluation.`);
  }
  if (graph.subgraphs.length > 1) notes.push(`${graph.subgraphs.length} subgraphs (control flow or multiple signatures).`);
  const sparse = graph.subgraphs.flatMap((s) => s.tensors.filter((t) => t.sparsity));
  if (sparse.length) notes.push(`${sparse.length} tensor(s) stored in sparse format.`);
  const unsized = graph.subgraphs.flatMap((s) => s.tensors.filter((t) => dtypeBytes(t.type, 1) === null));
  if (unsized.length) notes.push(`${unsized.length} tensor(s) of STRING/RESOURCE/VARIANT type.`);
  return notes;
}
