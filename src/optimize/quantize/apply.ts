/**
 * Carry out a QuantizationPlan on the graph it was made from, subgraph by subgraph: quantized ops read
 * integer inputs (quantized constants, or QUANTIZE'd twins of float activations) and write integer
 * outputs at their planned parameters; float ops read float twins of integer tensors; then the I/O is
 * retargeted. Ops are visited in order so new tensors and buffers are numbered as they always were:
 * the same plan writes the same bytes (npm run hashes:quantize checks it across refactors).
 */
import { opcodeIndex } from '../../tflite/edit';
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { activationConstant, biasConstant, weightConstant, type ConstantOptions, type WeightsUsed } from './apply-constants';
import { floatActivation, integerActivation } from './apply-conversions';
import { retargetIo } from './apply-io';
import type { OpPlan, QuantizationPlan, QuantizedOpPlan } from './plan-types';
import { quantizationOf, SubgraphRewrite, TENSOR_TYPES } from './rewrite-context';
import { ruleFor } from './rules';

export interface ApplyCounts {
  quantizedOps: number;
  correctedBiases: number;
  /** QUANTIZE/DEQUANTIZE ops added at float/integer boundaries (I/O included). */
  conversions: number;
}

export function applyPlan(graph: ModelGraph, plan: QuantizationPlan, options: ConstantOptions): ApplyCounts {
  const counts: ApplyCounts = { quantizedOps: 0, correctedBiases: 0, conversions: 0 };
  for (const subgraphPlan of plan.subgraphs) {
    const rw = new SubgraphRewrite(graph, subgraphPlan, plan.activationBits);
    for (const op of subgraphPlan.ops) {
      if (op.mode === 'float') floatOp(rw, op);
      else quantizedOp(rw, op, options);
    }
    retargetIo(rw);
    rw.emitOps();
    counts.quantizedOps += subgraphPlan.ops.filter((op) => op.mode === 'quantized').length;
    counts.correctedBiases += rw.correctedBiases;
    counts.conversions += rw.conversions;
  }
  return counts;
}

/** A float op reads float tensors: integer ones through their DEQUANTIZE'd twins. */
function floatOp(rw: SubgraphRewrite, plan: OpPlan): void {
  const op = rw.subgraph.operators[plan.opIndex];
  op.inputs = op.inputs.map((t) => (t >= 0 ? floatActivation(rw, t) : t));
}

function quantizedOp(rw: SubgraphRewrite, plan: QuantizedOpPlan, options: ConstantOptions): void {
  const op = rw.subgraph.operators[plan.opIndex];
  const bits = plan.activationBits;
  const inputs = [...op.inputs];
  let used: WeightsUsed | undefined;
  if (plan.weights) {
    const weights = weightConstant(rw, plan.weights, options);
    inputs[plan.weights.input] = weights.tensor;
    used = weights.used;
  }
  inputs.forEach((t, i) => {
    // Activations: float ones, and those an earlier quantized op writes (at its width, maybe not ours).
    if (t < 0 || !(rw.isFloat(t) || rw.homeBits[t]) || i === plan.weights?.input) return;
    if (i === plan.bias?.input) inputs[i] = biasConstant(rw, plan, used, options);
    else inputs[i] = rw.constant(t) ? activationConstant(rw, t, bits) : integerActivation(rw, t, bits);
  });
  op.inputs = inputs;
  for (const t of op.outputs) {
    const tensor = rw.subgraph.tensors[t];
    const params = rw.activation(t, bits);
    tensor.type = TENSOR_TYPES[params.dtype];
    tensor.quantization = quantizationOf(params);
  }
  // Integer kernels need at least the opcode version the converter gives them.
  const code = rw.graph.operatorCodes[op.opcodeIndex];
  const rule = ruleFor(builtinCodeOf(code));
  const versions = plan.weights?.bits === 4 ? rule?.int4 : rule?.version;
  const version = plan.activationBits === 8 ? versions?.int8 : versions?.int16;
  if (version !== undefined) op.opcodeIndex = opcodeIndex(rw.graph, builtinCodeOf(code), Math.max(version, code.version), code.customCode);
}
