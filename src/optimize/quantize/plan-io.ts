/**
 * The I/O interface of the plan. With float I/O every input and output stays float (quantized
 * outputs are dequantized). With int8 / uint8 I/O the main subgraph's float inputs that have a range
 * become integer (their float consumers dequantize them), and so do its outputs that are integer or
 * have a range; uint8 is int8 shifted by 128 (int16 activations take int8 I/O as int16). Called
 * subgraphs keep their float interface: the ops that call them pass float tensors.
 */
import type { Subgraph } from '../../tflite/graph';
import type { SubgraphFacts } from './op-modes';
import type { IoTensorPlan, IoType, OpPlan, SubgraphPlan, TensorPlan } from './plan-types';

export function planIo(
  subgraph: Subgraph,
  s: number,
  ops: OpPlan[],
  facts: SubgraphFacts,
  io: IoType,
  activationPlan: (t: number) => TensorPlan,
): SubgraphPlan['io'] {
  const type = s === 0 ? io : 'float';
  const integerInput = (t: number) => type !== 'float' && facts.isFloat(t) && !!facts.rangeOf(t);
  const producedInteger = new Set(ops.filter((op) => op.mode === 'quantized').flatMap((op) => subgraph.operators[op.opIndex].outputs));
  const integer = (t: number) => producedInteger.has(t) || (subgraph.inputs.includes(t) && integerInput(t));
  const entry = (t: number, dtype: IoTensorPlan['dtype']): IoTensorPlan => ({ tensorIndex: t, name: subgraph.tensors[t].name, dtype });
  const integerDtype = (t: number): IoTensorPlan['dtype'] => {
    const plan = activationPlan(t);
    return type === 'uint8' && plan.dtype === 'int8' ? 'uint8' : (plan.dtype as 'int8' | 'int16');
  };
  const floatDtype = (t: number) => (facts.isFloat(t) || integer(t) ? 'float32' : 'unchanged');

  const inputs = subgraph.inputs.map((t) => (integerInput(t) ? entry(t, integerDtype(t)) : entry(t, floatDtype(t))));
  const outputs = subgraph.outputs.map((t) => {
    if (type === 'float' || (!facts.isFloat(t) && !integer(t))) return entry(t, floatDtype(t));
    if (integer(t) || facts.rangeOf(t)) return entry(t, integerDtype(t));
    return entry(t, 'float32'); // a float output with no range stays float
  });
  return { type, inputs, outputs };
}
