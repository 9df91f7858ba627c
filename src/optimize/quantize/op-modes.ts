/**
 * Step 1 of the integer plan: which ops run quantized, and at which width. An op does when an integer
 * kernel exists for the width the recipe asks of it (the model's, or its own per-op precision), the
 * recipe does not keep it in float, it writes float tensors, its weights are a float constant, and
 * every float tensor it touches has a range. Every other op stays float with the first reason that
 * applies, so the report can tell the user what to change. Ops that only move data may still change
 * width to match their scale group (group-widths.ts).
 */
import type { ModelGraph, Operator } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import { rangeKey, type RangeMap, type TensorRange } from './ranges';
import type { ActivationBits } from './params';
import { PRECISION_BITS, type OpPrecision } from './plan-types';
import { ruleFor, type OpRule } from './rules';
import { isConstant } from '../../tflite/queries';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import { constantAsFloat32 } from './fold-dequantize';

/** What the planner asks about the tensors of one subgraph of the (folded) float model. */
export interface SubgraphFacts {
  isFloat(t: number): boolean;
  constant(t: number): boolean;
  /** Calibrated range, or min/max of a constant's values (both always contain 0). */
  rangeOf(t: number): TensorRange | undefined;
}

export function subgraphFacts(graph: ModelGraph, s: number, ranges: RangeMap): SubgraphFacts {
  const subgraph = graph.subgraphs[s];
  const constant = (t: number) => isConstant(graph, subgraph.tensors[t]);
  return {
    isFloat: (t) => t >= 0 && subgraph.tensors[t].type === TensorType.FLOAT32,
    constant,
    rangeOf: (t) => {
      if (!constant(t)) return ranges.get(rangeKey(s, t));
      const values = constantAsFloat32(graph, s, t);
      let min = 0;
      let max = 0;
      for (let i = 0; i < values.length; i++) {
        if (values[i] < min) min = values[i];
        if (values[i] > max) max = values[i];
      }
      return { min, max };
    },
  };
}

/** The rule an op runs quantized under and its activation width, or null and why it stays float. */
export type OpMode = { rule: OpRule; bits: ActivationBits; note?: string } | { rule: null; reason: string };

export type KeepFloat = (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => boolean;
/** The precision the recipe asks of one op (absent: the model's width for every op). */
export type PrecisionOf = (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => OpPrecision;

export const hasKernel = (rule: OpRule, bits: ActivationBits): boolean => (bits === 8 ? rule.int8 : rule.int16);
export const noKernelReason = (bits: ActivationBits) => (bits === 8 ? 'no int8 kernel' : 'no int16x8 kernel');

/**
 * `bits` is the model's width; `precisionOf` may ask another per op. An op kept float by the recipe
 * (keepFloat, or precision 'float') is still checked for a kernel at the model's width first, so a
 * report says "no int8 kernel" where that is the reason that would remain.
 */
export function chooseOpModes(graph: ModelGraph, s: number, facts: SubgraphFacts, bits: ActivationBits, keepFloat: KeepFloat, precisionOf?: PrecisionOf): OpMode[] {
  const subgraph = graph.subgraphs[s];
  return subgraph.operators.map((op, o): OpMode => {
    const floatOp = (reason: string): OpMode => ({ rule: null, reason });
    const floatTensors = [...op.inputs, ...op.outputs].filter(facts.isFloat);
    if (floatTensors.length === 0) return floatOp('no float tensors');
    const rule = ruleFor(builtinCodeOf(graph.operatorCodes[op.opcodeIndex]));
    const asked = keepFloat(s, o, op, graph) ? 'float' : (precisionOf?.(s, o, op, graph) ?? null);
    const opBits = asked === null || asked === 'float' ? bits : PRECISION_BITS[asked];
    if (!rule || !hasKernel(rule, opBits)) return floatOp(noKernelReason(opBits));
    if (asked === 'float') return floatOp('kept in float by the recipe');
    if (op.outputs.some((t) => !facts.isFloat(t))) return floatOp('has non-float outputs');
    if (rule.weights) {
      const w = op.inputs[rule.weights.input];
      if (w === undefined || w < 0 || !facts.constant(w) || !facts.isFloat(w)) return floatOp('weights are not a float constant');
    }
    const missing = floatTensors.find((t) => !facts.rangeOf(t));
    if (missing !== undefined) return floatOp(`no calibration range for tensor "${subgraph.tensors[missing].name}"`);
    return { rule, bits: opBits };
  });
}
