import { describe, expect, it } from 'vitest';
import { readSharedModel } from '../test-support/shared';
import { addBuffer, addTensor, cloneGraph, newTensor, opcodeIndex, removeOperators, removeUnusedBuffers, removeUnusedTensors, rewireReaders } from './edit';
import { opName } from './ops';
import { bufferUsers, consumers, isConstant, producers, sharedBuffers, topologicalOrder } from './queries';
import { readModel } from './read';
import { BuiltinOperator, TensorType } from './schema/generated/tflite_generated';
import { writeModel } from './write';

describe('ModelGraph queries', () => {
  const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
  const subgraph = graph.subgraphs[0];

  it('producers and consumers', () => {
    const producer = producers(subgraph);
    const readers = consumers(subgraph);
    const [input] = subgraph.inputs;
    expect(producer[input]).toBe(-1);
    expect(readers[input]).toEqual([0]); // the CONV_2D
    const [output] = subgraph.outputs;
    expect(opName(graph, subgraph.operators[producer[output]])).toBe('SOFTMAX');
    expect(readers[output]).toEqual([]);
    for (const op of subgraph.operators) {
      const weights = op.inputs.filter((t) => t >= 0 && isConstant(graph, subgraph.tensors[t]));
      for (const t of weights) expect(producer[t]).toBe(-1);
    }
  });

  it('topological order of a shuffled operator list puts producers first', () => {
    const shuffled = { ...subgraph, operators: [...subgraph.operators].reverse() };
    const order = topologicalOrder(shuffled);
    expect(order.map((o) => opName(graph, shuffled.operators[o]))).toEqual(subgraph.operators.map((op) => opName(graph, op)));
  });

  it('a cycle is reported', () => {
    const cyclic = cloneGraph(graph).subgraphs[0];
    cyclic.operators[0].inputs[0] = cyclic.operators[1].outputs[0];
    expect(() => topologicalOrder(cyclic)).toThrow(/cycle/);
  });

  it('shared buffers across subgraphs', () => {
    const shared = readModel(readSharedModel('ops/weight_sharing_fcs.tflite'));
    const buffers = sharedBuffers(shared);
    expect(buffers).toHaveLength(1);
    const users = bufferUsers(shared).get(buffers[0])!;
    expect(new Set(users.map((u) => u.subgraph))).toEqual(new Set([0, 1]));
  });
});

describe('ModelGraph edits keep indices right', () => {
  it('cloneGraph deep-copies structure, shares weight bytes, keeps option classes', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const copy = cloneGraph(graph);
    copy.subgraphs[0].tensors[0].name = 'changed';
    expect(graph.subgraphs[0].tensors[0].name).not.toBe('changed');
    expect(copy.buffers[1].data).toBe(graph.buffers[1].data);
    const options = copy.subgraphs[0].operators[0].builtinOptions!;
    expect(Object.getPrototypeOf(options)).toBe(Object.getPrototypeOf(graph.subgraphs[0].operators[0].builtinOptions));
    expect(typeof options.pack).toBe('function');
  });

  it('inserting an identity-like op, then removing it, round-trips to a working, equal model', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const copy = cloneGraph(graph);
    const subgraph = copy.subgraphs[0];
    const [output] = subgraph.outputs;
    // A RELU after the softmax output (values are >= 0, so it changes nothing).
    const extra = addTensor(subgraph, newTensor({ name: 'extra', type: TensorType.FLOAT32, shape: [...subgraph.tensors[output].shape] }));
    subgraph.operators.push({ ...subgraph.operators[subgraph.operators.length - 1], opcodeIndex: opcodeIndex(copy, BuiltinOperator.RELU), inputs: [output], outputs: [extra], builtinOptions: null, builtinOptionsType: 0 });
    subgraph.outputs = [extra];
    expect(readModel(writeModel(copy)).subgraphs[0].operators).toHaveLength(7);
    // Undo: drop the op, rewire, and clean up what is unused.
    removeOperators(subgraph, [subgraph.operators.length - 1]);
    rewireReaders(subgraph, extra, output);
    subgraph.outputs = [output];
    expect(removeUnusedTensors(copy, 0)).toBe(1);
    const unusedBuffer = addBuffer(copy, new Uint8Array([1, 2, 3, 4]));
    expect(unusedBuffer).toBe(copy.buffers.length - 1);
    expect(removeUnusedBuffers(copy)).toBe(1);
    const reread = readModel(writeModel(copy));
    expect(reread.subgraphs[0].tensors.length).toBe(graph.subgraphs[0].tensors.length);
    expect(reread.buffers.length).toBe(graph.buffers.length);
  });

  it('removing tensors renumbers operators, subgraph I/O and signatures', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const subgraph = graph.subgraphs[0];
    const before = subgraph.outputs.map((t) => subgraph.tensors[t].name);
    // An unused tensor at index 0 shifts everything by one.
    subgraph.tensors.unshift(newTensor({ name: 'unused', type: TensorType.FLOAT32, shape: [1] }));
    for (const op of subgraph.operators) {
      op.inputs = op.inputs.map((t) => (t >= 0 ? t + 1 : t));
      op.outputs = op.outputs.map((t) => t + 1);
    }
    subgraph.inputs = subgraph.inputs.map((t) => t + 1);
    subgraph.outputs = subgraph.outputs.map((t) => t + 1);
    for (const m of [...graph.signatureDefs[0].inputs, ...graph.signatureDefs[0].outputs]) m.tensorIndex += 1;
    expect(removeUnusedTensors(graph, 0)).toBe(1);
    expect(subgraph.outputs.map((t) => subgraph.tensors[t].name)).toEqual(before);
    expect(subgraph.tensors[graph.signatureDefs[0].outputs[0].tensorIndex].name).toBe(before[0]);
  });
});
