/**
 * What a model needs before LiteRT.js (2.5.3) can run it, and what it cannot run at all.
 *
 * `prepareForRuntime` returns a copy with the fixes LiteRT needs; the evaluated copy is then written
 * to bytes. It never changes what the model computes for the static shapes the file declares.
 * `runtimeBlockers` lists what no fix can help, so the UI can say so before loading.
 */
import { toObject as flexbufferToObject } from 'flatbuffers/js/flexbuffers.js';
import type { ModelGraph, Operator, Subgraph, Tensor } from '../tflite/graph';
import { opCodeName, opName } from '../tflite/ops';
import { TensorType } from '../tflite/schema/generated/tflite_generated';

/** Tensor element types LiteRT.js can pass in and out (with our int8/int16 patch). */
export const RUNTIME_IO_TYPES: ReadonlySet<TensorType> = new Set([
  TensorType.FLOAT32,
  TensorType.INT32,
  TensorType.UINT8,
  TensorType.INT8,
  TensorType.INT16,
]);

export interface PreparedGraph {
  graph: ModelGraph;
  /** One line per fix, e.g. "pinned dynamic dimensions (-1 in shape_signature) of 7 tensors ...". */
  changes: string[];
}

/**
 * A copy of `graph` that LiteRT.js can run; `graph` itself is not mutated. Unchanged parts (buffers,
 * operators, untouched tensors) are shared with the input, changed ones are new objects; when
 * nothing needs fixing, the input graph itself comes back with no changes.
 *
 * Fixes:
 * - dynamic dimensions (-1 in shape_signature) are pinned to the static shape stored beside them;
 *   LiteRT.js otherwise rejects the input buffers ("ranked tensor type Float32[1,28,28,1] does not
 *   match expected Float32[-1,28,28,1]").
 * - the outputs of TFLite_Detection_PostProcess (SSD detectors) get the shapes the kernel gives them
 *   at run time; old converters stored them as [], which LiteRT.js cannot make output buffers for.
 * - per-tensor quantization (one scale) whose quantized_dimension is outside [0, rank) gets 0; full
 *   TFLite rejects the file otherwise ("quantized_dimension must be in range [0, 4). Was 4"), while
 *   TFLite Micro, which some files come from, ignores the field for per-tensor parameters.
 */
export function prepareForRuntime(graph: ModelGraph): PreparedGraph {
  const changes: string[] = [];
  const subgraphs = graph.subgraphs.map((subgraph, s) => {
    const where = graph.subgraphs.length > 1 ? ` in subgraph ${s}${subgraph.name ? ` '${subgraph.name}'` : ''}` : '';
    const shaped = shapeDetectionOutputs(graph, subgraph, where, changes);
    return fixQuantizedDimensions(pinDynamicShapes(shaped, where, changes), where, changes);
  });
  if (!changes.length) return { graph, changes };
  return { graph: { ...graph, subgraphs }, changes };
}

function pinDynamicShapes(subgraph: Subgraph, where: string, changes: string[]): Subgraph {
  let pinned = 0;
  let firstIo: string | null = null;
  const ioTensors = new Set([...subgraph.inputs, ...subgraph.outputs]);
  const tensors = subgraph.tensors.map((tensor, t) => {
    if (!tensor.shapeSignature || !tensor.shapeSignature.includes(-1)) return tensor;
    pinned++;
    const fixed = pinnedSignature(tensor);
    if (ioTensors.has(t) && firstIo === null) {
      firstIo = `'${tensor.name}' ${formatShape(tensor.shapeSignature)} -> ${formatShape(fixed ?? tensor.shape)}`;
    }
    return { ...tensor, shapeSignature: fixed } satisfies Tensor;
  });
  if (!pinned) return subgraph;
  const example = firstIo ? ` (e.g. ${firstIo})` : '';
  changes.push(
    `pinned dynamic dimensions (-1 in shape_signature) of ${pinned} tensor${pinned === 1 ? '' : 's'}${where} to their static shapes${example}`,
  );
  return { ...subgraph, tensors };
}

/** The signature with each -1 replaced by the stored static size; null (no signature) when they disagree in rank. */
function pinnedSignature(tensor: Tensor): number[] | null {
  const signature = tensor.shapeSignature!;
  if (signature.length !== tensor.shape.length) return null;
  return signature.map((d, i) => (d === -1 ? tensor.shape[i] : d));
}

function fixQuantizedDimensions(subgraph: Subgraph, where: string, changes: string[]): Subgraph {
  const names: string[] = [];
  const tensors = subgraph.tensors.map((tensor) => {
    const q = tensor.quantization;
    if (!q || (q.scale?.length ?? 0) > 1 || q.quantizedDimension === 0) return tensor;
    if (q.quantizedDimension > 0 && q.quantizedDimension < tensor.shape.length) return tensor;
    names.push(`'${tensor.name}'`);
    return { ...tensor, quantization: { ...q, quantizedDimension: 0 } } satisfies Tensor;
  });
  if (!names.length) return subgraph;
  const list = names.length > 3 ? `${names.slice(0, 3).join(', ')}, ...` : names.join(', ');
  changes.push(
    `set quantized_dimension to 0 on ${names.length} per-tensor quantized tensor${names.length === 1 ? '' : 's'}${where} where it was outside the tensor's rank (${list})`,
  );
  return { ...subgraph, tensors };
}

/**
 * TFLite_Detection_PostProcess writes boxes [1, n, 4], classes [1, n], scores [1, n] and the count
 * [1], n = max_detections * max_classes_per_detection (tflite kernels/detection_postprocess.cc).
 */
function shapeDetectionOutputs(graph: ModelGraph, subgraph: Subgraph, where: string, changes: string[]): Subgraph {
  let tensors: Tensor[] | null = null;
  for (const op of subgraph.operators) {
    if (opName(graph, op) !== 'TFLite_Detection_PostProcess' || op.outputs.length !== 4) continue;
    const n = detectionCount(op);
    if (n === null) continue;
    const shapes = [[1, n, 4], [1, n], [1, n], [1]];
    const fixed: string[] = [];
    op.outputs.forEach((t, i) => {
      const tensor = (tensors ?? subgraph.tensors)[t];
      if (!tensor || tensor.shape.length) return;
      tensors ??= [...subgraph.tensors];
      tensors[t] = { ...tensor, shape: shapes[i], shapeSignature: null };
      fixed.push(`'${tensor.name}' ${formatShape(shapes[i])}`);
    });
    if (fixed.length) changes.push(`gave the TFLite_Detection_PostProcess outputs${where} their run-time shapes: ${fixed.join(', ')}`);
  }
  return tensors ? { ...subgraph, tensors } : subgraph;
}

function detectionCount(op: Operator): number | null {
  if (!op.customOptions?.length) return null;
  try {
    const options = flexbufferToObject(op.customOptions.slice().buffer) as Record<string, unknown>;
    const maxDetections = Number(options.max_detections);
    const maxClasses = Number(options.max_classes_per_detection ?? 1);
    return maxDetections > 0 && maxClasses > 0 ? maxDetections * maxClasses : null;
  } catch {
    return null;
  }
}

function formatShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Why LiteRT.js cannot run this model at all, one readable line each; empty when nothing is known
 * to stop it (it may still fail, e.g. on an op it lacks).
 */
export function runtimeBlockers(graph: ModelGraph): string[] {
  const blockers: string[] = [];
  const multi = graph.subgraphs.length > 1;

  graph.subgraphs.forEach((subgraph, s) => {
    const where = multi ? ` (subgraph ${s})` : '';
    const variables = subgraph.tensors.filter((t) => t.isVariable);
    if (variables.length) {
      const names = variables.slice(0, 3).map((t) => `'${t.name}'`).join(', ') + (variables.length > 3 ? `, ... (${variables.length} in all)` : '');
      blockers.push(
        `${variables.length === 1 ? 'tensor' : 'tensors'} ${names}${where} ${variables.length === 1 ? 'is a variable (state) tensor' : 'are variable (state) tensors'}; LiteRT.js does not support variable tensors`,
      );
    }
  });

  const flexOps = new Set<string>();
  for (const code of graph.operatorCodes) {
    const name = opCodeName(code);
    if (name.startsWith('Flex')) flexOps.add(name);
  }
  if (flexOps.size) {
    blockers.push(`ops ${[...flexOps].map((n) => `'${n}'`).join(', ')} are TensorFlow (Flex) ops; LiteRT.js does not include them`);
  }

  // LiteRT.js builds its JS tensor wrappers for the inputs and outputs of every signature at load.
  for (const { subgraph, label } of signatureSubgraphs(graph)) {
    for (const [kind, indices] of [['input', subgraph.inputs], ['output', subgraph.outputs]] as const) {
      for (const t of indices) {
        const tensor = subgraph.tensors[t];
        if (!tensor || RUNTIME_IO_TYPES.has(tensor.type)) continue;
        blockers.push(
          `${kind} '${tensor.name}'${label} has type ${TensorType[tensor.type] ?? tensor.type}; LiteRT.js can only pass float32, int32, uint8, int8 and int16 tensors in and out`,
        );
      }
    }
  }
  return blockers;
}

/** The subgraphs LiteRT.js exposes as signatures: those of the signature defs, else subgraph 0. */
function signatureSubgraphs(graph: ModelGraph): { subgraph: Subgraph; label: string }[] {
  if (!graph.signatureDefs.length) return graph.subgraphs.length ? [{ subgraph: graph.subgraphs[0], label: '' }] : [];
  const multi = graph.signatureDefs.length > 1;
  return graph.signatureDefs
    .filter((def) => graph.subgraphs[def.subgraphIndex])
    .map((def) => ({ subgraph: graph.subgraphs[def.subgraphIndex], label: multi ? ` of signature '${def.signatureKey}'` : '' }));
}
