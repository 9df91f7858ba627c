/**
 * Retarget a subgraph's inputs and outputs to the plan's interface (float, int8 / int16, or uint8),
 * keep the names users and signature defs know them by, and point the signatures at the new tensors.
 */
import { newTensor } from '../../tflite/edit';
import type { ModelGraph, Subgraph } from '../../tflite/graph';
import { BuiltinOperator, TensorType } from '../../tflite/schema/generated/tflite_generated';
import { floatActivation, integerActivation } from './apply-conversions';
import { quantizationOf, TENSOR_TYPES, type SubgraphRewrite } from './rewrite-context';

export function retargetIo(rw: SubgraphRewrite): void {
  const { subgraph, plan } = rw;
  const oldInputs = [...subgraph.inputs];
  const oldOutputs = [...subgraph.outputs];
  subgraph.inputs = plan.io.inputs.map(({ tensorIndex: t, dtype }) => {
    if (dtype === 'float32' || dtype === 'unchanged') return t;
    const tensor = subgraph.tensors[t];
    const params = rw.activation(t, rw.modelBits);
    tensor.type = TENSOR_TYPES[params.dtype];
    tensor.quantization = quantizationOf(params);
    if (dtype !== 'uint8') return t;
    // uint8 input: the graph takes uint8 (zero point + 128) and requantizes to int8 at once.
    const input = uint8Twin(rw, t, t);
    // Before the conversions made from t while the ops were rewritten (e.g. its int16 twin).
    rw.convert(BuiltinOperator.QUANTIZE, input, t, 2, -1, true);
    return input;
  });
  subgraph.outputs = plan.io.outputs.map(({ tensorIndex: t, dtype }) => {
    if (dtype === 'float32' || dtype === 'unchanged') return floatActivation(rw, t);
    // Integer outputs are at the model's width, whatever width the op writing them runs at.
    const integer = integerActivation(rw, t, rw.modelBits);
    if (dtype !== 'uint8') return integer;
    const output = uint8Twin(rw, integer, t);
    rw.convert(BuiltinOperator.QUANTIZE, integer, output, 2);
    return output;
  });
  keepIoNames(subgraph, oldInputs, subgraph.inputs);
  keepIoNames(subgraph, oldOutputs, subgraph.outputs);
  retargetSignatures(rw.graph, plan.index, oldInputs, subgraph.inputs, oldOutputs, subgraph.outputs);
}

/** A uint8 tensor shaped like t, on the scale of `source`'s int8 params shifted by 128. */
function uint8Twin(rw: SubgraphRewrite, t: number, source: number): number {
  const tensor = rw.subgraph.tensors[t];
  const params = rw.activation(source, 8);
  return rw.addTensor(
    newTensor({
      name: `${tensor.name}_uint8`,
      type: TensorType.UINT8,
      shape: [...tensor.shape],
      shapeSignature: tensor.shapeSignature ? [...tensor.shapeSignature] : null,
      quantization: quantizationOf({ scales: params.scales, zeroPoints: [params.zeroPoints[0] + 128] }),
    }),
  );
}

/**
 * The tensors at the model's edges keep the names users and signatures know them by; the
 * internal tensor they were converted from takes the suffixed name instead.
 */
function keepIoNames(subgraph: Subgraph, before: number[], now: number[]): void {
  before.forEach((old, i) => {
    const current = now[i];
    if (current === old) return;
    const outer = subgraph.tensors[current];
    const inner = subgraph.tensors[old];
    const suffix = outer.name.startsWith(inner.name) ? outer.name.slice(inner.name.length) : '_internal';
    outer.name = inner.name;
    inner.name = `${inner.name}${suffix}`;
  });
}

/** Signature defs name subgraph I/O by tensor index; point them at the rewritten I/O tensors. */
function retargetSignatures(graph: ModelGraph, s: number, oldInputs: number[], inputs: number[], oldOutputs: number[], outputs: number[]): void {
  const moved = new Map<number, number>();
  oldInputs.forEach((t, i) => moved.set(t, inputs[i]));
  oldOutputs.forEach((t, i) => moved.set(t, outputs[i]));
  for (const signature of graph.signatureDefs) {
    if (signature.subgraphIndex !== s) continue;
    for (const map of [...signature.inputs, ...signature.outputs]) map.tensorIndex = moved.get(map.tensorIndex) ?? map.tensorIndex;
  }
}
