/**
 * Structural checks after decoding: every index points at something, shapes are plausible and
 * constant data is as long as its shape says. A file that passes can be summarized, rewritten and
 * handed to optimizers without index errors deep inside them.
 */
import { WorkbenchError } from '../errors';
import { dtypeBytes, dtypeName } from './dtypes';
import type { ModelGraph, Subgraph, Tensor } from './graph';

/** Beyond this many elements a tensor cannot be held in a browser tab, whatever the file says. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
const MAX_RANK = 32;

export function validateGraph(graph: ModelGraph): void {
  const fail = (message: string, opIndex?: number): never => {
    throw new WorkbenchError('malformed', `The TFLite file is inconsistent: ${message}.`, opIndex);
  };
  if (graph.subgraphs.length === 0) fail('it has no subgraph (no computation)');
  if (graph.buffers.length === 0 && graph.subgraphs.some((s) => s.tensors.length > 0)) fail('it has no buffer table');

  graph.subgraphs.forEach((subgraph, s) => {
    const where = graph.subgraphs.length > 1 ? ` in subgraph ${s}` : '';
    const tensorCount = subgraph.tensors.length;
    const checkTensorIndex = (index: number, what: string, allowOmitted: boolean, opIndex?: number) => {
      if (!Number.isInteger(index) || index >= tensorCount || index < (allowOmitted ? -1 : 0)) {
        fail(`${what}${where} refers to tensor ${index}, but there are ${tensorCount} tensors`, opIndex);
      }
    };
    subgraph.inputs.forEach((t) => checkTensorIndex(t, 'an input', false));
    subgraph.outputs.forEach((t) => checkTensorIndex(t, 'an output', false));
    subgraph.tensors.forEach((tensor, t) => checkTensor(graph, subgraph, tensor, t, where, fail));
    subgraph.operators.forEach((op, o) => {
      if (op.opcodeIndex < 0 || op.opcodeIndex >= graph.operatorCodes.length) {
        fail(`operator ${o}${where} uses opcode ${op.opcodeIndex}, but there are ${graph.operatorCodes.length} opcodes`, o);
      }
      op.inputs.forEach((t) => checkTensorIndex(t, `operator ${o}`, true, o));
      op.outputs.forEach((t) => checkTensorIndex(t, `operator ${o}`, false, o));
      op.intermediates?.forEach((t) => checkTensorIndex(t, `operator ${o}`, false, o));
    });
  });

  for (const entry of graph.metadata) {
    if (entry.buffer < 0 || entry.buffer >= graph.buffers.length) {
      fail(`metadata "${entry.name}" refers to buffer ${entry.buffer}, but there are ${graph.buffers.length} buffers`);
    }
  }
  graph.signatureDefs.forEach((signature) => {
    const subgraph = graph.subgraphs[signature.subgraphIndex];
    if (!subgraph) fail(`signature "${signature.signatureKey}" refers to subgraph ${signature.subgraphIndex}, which does not exist`);
    for (const map of [...signature.inputs, ...signature.outputs]) {
      if (map.tensorIndex < 0 || map.tensorIndex >= subgraph.tensors.length) {
        fail(`signature "${signature.signatureKey}" maps "${map.name}" to tensor ${map.tensorIndex}, which does not exist`);
      }
    }
  });
}

function checkTensor(
  graph: ModelGraph,
  _subgraph: Subgraph,
  tensor: Tensor,
  index: number,
  where: string,
  fail: (message: string) => never,
): void {
  const label = `tensor ${index} "${tensor.name}"${where}`;
  if (tensor.buffer >= graph.buffers.length) {
    fail(`${label} refers to buffer ${tensor.buffer}, but there are ${graph.buffers.length} buffers`);
  }
  if (tensor.shape.length > MAX_RANK) fail(`${label} has ${tensor.shape.length} dimensions`);
  let elements = 1;
  for (const dim of tensor.shape) {
    if (dim < -1) fail(`${label} has a negative dimension ${dim} in its shape [${tensor.shape}]`);
    elements *= Math.max(dim, 0);
  }
  if (elements > MAX_TENSOR_ELEMENTS) fail(`${label} has an absurd shape [${tensor.shape}] (${elements.toExponential(2)} elements)`);
  for (const dim of tensor.shapeSignature ?? []) {
    if (dim < -1) fail(`${label} has an invalid dimension ${dim} in its shape signature`);
  }
  const data = graph.buffers[tensor.buffer].data;
  if (data.length === 0 || tensor.sparsity || tensor.shape.includes(-1)) return;
  const needed = dtypeBytes(tensor.type, elements);
  if (needed !== null && data.length < needed) {
    fail(`${label} (${dtypeName(tensor.type)} [${tensor.shape}]) needs ${needed} bytes of data but its buffer holds ${data.length}`);
  }
}
