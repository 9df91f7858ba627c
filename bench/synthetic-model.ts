/**
 * A synthetic float model of a chosen size: a chain of FULLY_CONNECTED layers (width x width
 * weights, bias, ReLU). Real enough to run in LiteRT and to quantize; big enough to measure.
 */
import type { ModelGraph, Subgraph } from '../src/tflite/graph';
import { addBuffer, addTensor, newGraph, newOperator, newTensor, opcodeIndex } from '../src/tflite/edit';
import {
  ActivationFunctionType,
  BuiltinOperator,
  BuiltinOptions,
  FullyConnectedOptionsT,
  TensorType,
} from '../src/tflite/schema/generated/tflite_generated';

export function syntheticModel(targetBytes: number, width = 1024, seed = 1): ModelGraph {
  const layers = Math.max(1, Math.round(targetBytes / (width * width * 4)));
  const graph: ModelGraph = newGraph('tflite-workbench synthetic benchmark model');
  const subgraph: Subgraph = graph.subgraphs[0];
  const fc = opcodeIndex(graph, BuiltinOperator.FULLY_CONNECTED);
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
  const floats = (count: number, scale: number) => {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = random() * scale;
    return new Uint8Array(values.buffer);
  };
  let current = addTensor(subgraph, newTensor({ name: 'input', type: TensorType.FLOAT32, shape: [1, width] }));
  subgraph.inputs.push(current);
  const weightScale = 2 * Math.sqrt(3 / width); // keeps activations at a steady size through the chain
  for (let l = 0; l < layers; l++) {
    const weights = addTensor(subgraph, newTensor({ name: `fc${l}/weights`, type: TensorType.FLOAT32, shape: [width, width], buffer: addBuffer(graph, floats(width * width, weightScale)) }));
    const bias = addTensor(subgraph, newTensor({ name: `fc${l}/bias`, type: TensorType.FLOAT32, shape: [width], buffer: addBuffer(graph, floats(width, 0.1)) }));
    const output = addTensor(subgraph, newTensor({ name: `fc${l}/output`, type: TensorType.FLOAT32, shape: [1, width] }));
    const options = new FullyConnectedOptionsT();
    options.fusedActivationFunction = l === layers - 1 ? ActivationFunctionType.NONE : ActivationFunctionType.RELU;
    const op = newOperator(fc, [current, weights, bias], [output], BuiltinOptions.FullyConnectedOptions, options);
    subgraph.operators.push(op);
    current = output;
  }
  subgraph.outputs.push(current);
  return graph;
}
