/**
 * A synthetic float model with as many ops as asked, for the graph view's scale test (e2e/graph.test.mjs;
 * synthetic-graph.test.ts checks it in LiteRT):
 * a chain of blocks on a [1, 8, 8, 4] activation, each with two branches that join,
 *   a = CONV_2D(x, 1x1 kernel, bias);  c = ADD(x, k);  y = ADD(a, c)
 * so the layout has forks and joins, not only a line. Kernels are -0.5 I plus small noise, so each
 * block roughly halves x and adds a constant: values stay bounded over a thousand ops, and a plain
 * float64 loop (largeGraphReference) computes what LiteRT must return.
 */
import { seededRandom } from '../seeded-random';
import { addBuffer, addTensor, newGraph, newOperator, newTensor, opcodeIndex } from './edit';
import type { ModelGraph } from './graph';
import { ActivationFunctionType, AddOptionsT, BuiltinOperator, BuiltinOptions, Conv2DOptionsT, Padding, TensorType } from './schema/generated/tflite_generated';

export const LARGE_GRAPH_SHAPE = [1, 8, 8, 4] as const;
const C = LARGE_GRAPH_SHAPE[3];

interface Block {
  kernel: Float32Array; // [out][in]
  bias: Float32Array;
  k: Float32Array;
}

function blocksFor(ops: number, seed: number): Block[] {
  const random = seededRandom(seed);
  return Array.from({ length: Math.ceil(ops / 3) }, () => {
    const kernel = new Float32Array(C * C);
    for (let o = 0; o < C; o++) for (let i = 0; i < C; i++) kernel[o * C + i] = (o === i ? -0.5 : 0) + (random() - 0.5) * 0.1;
    return { kernel, bias: Float32Array.from({ length: C }, () => random() - 0.5), k: Float32Array.from({ length: C }, () => (random() - 0.5) * 0.2) };
  });
}

const bytes = (values: Float32Array) => new Uint8Array(values.buffer.slice(0));

/** The model: at least `ops` ops (a multiple of 3), named block{i}/conv, block{i}/branch, block{i}/join. */
export function largeGraphModel(ops: number, seed = 1): ModelGraph {
  const graph = newGraph('tflite-workbench synthetic large graph');
  const subgraph = graph.subgraphs[0];
  const conv = opcodeIndex(graph, BuiltinOperator.CONV_2D);
  const add = opcodeIndex(graph, BuiltinOperator.ADD);
  const shape = [...LARGE_GRAPH_SHAPE];
  let x = addTensor(subgraph, newTensor({ name: 'input', type: TensorType.FLOAT32, shape }));
  subgraph.inputs.push(x);
  blocksFor(ops, seed).forEach((b, i) => {
    const kernel = addTensor(subgraph, newTensor({ name: `block${i}/kernel`, type: TensorType.FLOAT32, shape: [C, 1, 1, C], buffer: addBuffer(graph, bytes(b.kernel)) }));
    const bias = addTensor(subgraph, newTensor({ name: `block${i}/bias`, type: TensorType.FLOAT32, shape: [C], buffer: addBuffer(graph, bytes(b.bias)) }));
    const k = addTensor(subgraph, newTensor({ name: `block${i}/k`, type: TensorType.FLOAT32, shape: [C], buffer: addBuffer(graph, bytes(b.k)) }));
    const a = addTensor(subgraph, newTensor({ name: `block${i}/conv`, type: TensorType.FLOAT32, shape }));
    const c = addTensor(subgraph, newTensor({ name: `block${i}/branch`, type: TensorType.FLOAT32, shape }));
    const y = addTensor(subgraph, newTensor({ name: `block${i}/join`, type: TensorType.FLOAT32, shape }));
    const convOptions = new Conv2DOptionsT();
    convOptions.padding = Padding.SAME;
    convOptions.strideW = 1;
    convOptions.strideH = 1;
    convOptions.dilationWFactor = 1;
    convOptions.dilationHFactor = 1;
    convOptions.fusedActivationFunction = ActivationFunctionType.NONE;
    subgraph.operators.push(newOperator(conv, [x, kernel, bias], [a], BuiltinOptions.Conv2DOptions, convOptions));
    subgraph.operators.push(newOperator(add, [x, k], [c], BuiltinOptions.AddOptions, new AddOptionsT()));
    subgraph.operators.push(newOperator(add, [a, c], [y], BuiltinOptions.AddOptions, new AddOptionsT()));
    x = y;
  });
  subgraph.outputs.push(x);
  return graph;
}

/** What the model computes, in float64: the independent reference for LiteRT's output. */
export function largeGraphReference(input: Float32Array, ops: number, seed = 1): Float64Array {
  let x = Float64Array.from(input);
  for (const b of blocksFor(ops, seed)) {
    const y = new Float64Array(x.length);
    for (let p = 0; p < x.length; p += C) {
      for (let o = 0; o < C; o++) {
        let a = b.bias[o];
        for (let i = 0; i < C; i++) a += b.kernel[o * C + i] * x[p + i];
        y[p + o] = a + x[p + o] + b.k[o];
      }
    }
    x = y;
  }
  return x;
}
