/**
 * Test helpers shared by the engine's tests: run one signature of a model in LiteRT and in the engine
 * on the same inputs, as real numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import type { LoadedModel, RuntimeData, RuntimeTensor } from '../runtime/types';
import type { ModelGraph } from '../tflite/graph';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { GraphExecutor } from './executor';

/** real = scale * (q - zero_point) for quantized runtime data, else the values as floats. */
export function realValues(data: RuntimeData, quantization: { scale: number; zeroPoint: number } | null): Float32Array {
  if (!quantization) return Float32Array.from(data as ArrayLike<number>);
  return Float32Array.from(data as ArrayLike<number>, (v) => quantization.scale * (v - quantization.zeroPoint));
}

/** Where a LiteRT signature's inputs and outputs sit in the graph: subgraph and tensor indices in LiteRT's order. */
export function signatureBinding(graph: ModelGraph, model: Pick<LoadedModel, 'signature' | 'inputs' | 'outputs'>): { subgraph: number; inputs: number[]; outputs: number[] } {
  const def = graph.signatureDefs.find((s) => s.signatureKey === model.signature);
  const subgraph = def?.subgraphIndex ?? 0;
  const sg = graph.subgraphs[subgraph];
  const byName = (maps: { name: string; tensorIndex: number }[] | undefined, fallback: number[], name: string, i: number) =>
    maps?.find((m) => m.name === name)?.tensorIndex ?? fallback.find((t) => sg.tensors[t].name === name) ?? fallback[i];
  return {
    subgraph,
    inputs: model.inputs.map((info, i) => byName(def?.inputs, sg.inputs, info.name, i)),
    outputs: model.outputs.map((info, i) => byName(def?.outputs, sg.outputs, info.name, i)),
  };
}

/**
 * The engine's feeds for LiteRT inputs: quantized inputs dequantized, integer inputs as int32,
 * in the subgraph's input order, each with `batch` rows stacked from the given data sets.
 */
export function engineFeeds(graph: ModelGraph, model: Pick<LoadedModel, 'signature' | 'inputs' | 'outputs'>, dataSets: RuntimeData[][]): tf.Tensor[] {
  const binding = signatureBinding(graph, model);
  const sg = graph.subgraphs[binding.subgraph];
  return sg.inputs.map((tensorIndex) => {
    const i = binding.inputs.indexOf(tensorIndex);
    const info = model.inputs[i];
    const tensor = sg.tensors[tensorIndex];
    const rows = dataSets.map((data) => {
      const integer = !info.quantization && (info.dtype === 'int32' || tensor.type === TensorType.INT64 || tensor.type === TensorType.BOOL);
      return integer ? tf.tensor(Int32Array.from(data[i] as ArrayLike<number>), info.shape, 'int32') : tf.tensor(realValues(data[i], info.quantization), info.shape);
    });
    return rows.length === 1 ? rows[0] : tf.concat(rows, 0);
  });
}

/** Runs the engine on the signature LiteRT ran and returns the outputs in LiteRT's order, as floats. */
export async function engineOutputs(executor: GraphExecutor, graph: ModelGraph, model: Pick<LoadedModel, 'signature' | 'inputs' | 'outputs'>, dataSets: RuntimeData[][]): Promise<{ shape: number[]; values: Float32Array }[]> {
  const binding = signatureBinding(graph, model);
  const feeds = engineFeeds(graph, model, dataSets);
  const outs = tf.tidy(() => executor.run(feeds, { freeIntermediates: true }).outputs);
  const result = await Promise.all(
    binding.outputs.map(async (t) => {
      const o = outs[executor.outputIndices.indexOf(t)];
      return { shape: o.shape, values: Float32Array.from((await o.data()) as ArrayLike<number>) };
    }),
  );
  tf.dispose([...feeds, ...outs]);
  return result;
}

/** max |a - b| / max |reference|. */
export function maxRelativeError(reference: ArrayLike<number>, got: ArrayLike<number>): number {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < reference.length; i++) {
    err = Math.max(err, Math.abs(reference[i] - got[i]));
    ref = Math.max(ref, Math.abs(reference[i]));
  }
  return ref === 0 ? err : err / ref;
}

/** LiteRT's outputs as real numbers. */
export function runtimeReals(model: Pick<LoadedModel, 'outputs'>, outputs: RuntimeTensor[]): Float32Array[] {
  return outputs.map((o, i) => realValues(o.data, model.outputs[i].quantization));
}

/** Every output of the model (loaded here, then freed) on seeded random inputs, one row per seed, as real numbers. */
export async function seededRuntimeOutputs(bytes: Uint8Array, seeds: number[]): Promise<Float32Array[][]> {
  const model = await loadModel(bytes);
  try {
    const rows: Float32Array[][] = [];
    for (const seed of seeds) rows.push(runtimeReals(model, await model.run(randomInputs(model, seed))));
    return rows;
  } finally {
    model.delete();
  }
}
