/**
 * Step 2 of the integer plan: activation parameters. Ops that only move data (reshape, pooling,
 * concatenation...) keep input and output on one scale, so their tensors join one group (union-find)
 * whose range is the union of its members' calibrated ranges; a group holding a softmax / logistic /
 * tanh output takes that op's fixed parameters instead. Every tensor of a group gets the same params.
 */
import type { ModelGraph } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import type { OpMode, SubgraphFacts } from './op-modes';
import { activationParams, type ActivationBits, type QuantParams } from './params';
import type { TensorRange } from './ranges';
import { sameScaleInputs } from './rules';

export const FIXED_SCALE_CONFLICT = 'its fixed output scale conflicts with another';

/** Union-find over tensor indices, for groups that must share one scale. */
class Groups {
  private parent: Int32Array;
  constructor(size: number) {
    this.parent = Int32Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]];
      i = this.parent[i];
    }
    return i;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

/**
 * The activation parameters of tensor t (shared across its group, computed once per group). Ops whose
 * fixed output parameters conflict with another's in the same group are turned float in `modes`
 * (the later one), with FIXED_SCALE_CONFLICT as the reason.
 */
export function activationParamsOf(graph: ModelGraph, s: number, facts: SubgraphFacts, modes: OpMode[], bits: ActivationBits): (t: number) => QuantParams {
  const subgraph = graph.subgraphs[s];
  const groups = new Groups(subgraph.tensors.length);
  subgraph.operators.forEach((op, o) => {
    if (!modes[o].rule) return;
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const members = sameScaleInputs(builtin, op.inputs.length).map((i) => op.inputs[i]).filter((t) => t !== undefined && facts.isFloat(t));
    if (!members.length) return;
    for (const t of [...members, ...op.outputs]) groups.union(t, op.outputs[0]);
  });

  const fixed = new Map<number, { scale: number; zeroPoint: number }>();
  subgraph.operators.forEach((op, o) => {
    const rule = modes[o].rule;
    if (!rule?.fixedOutput) return;
    const value = bits === 8 ? rule.fixedOutput.int8 : rule.fixedOutput.int16;
    const root = groups.find(op.outputs[0]);
    const existing = fixed.get(root);
    if (existing && (existing.scale !== value.scale || existing.zeroPoint !== value.zeroPoint)) {
      modes[o] = { rule: null, reason: FIXED_SCALE_CONFLICT };
      return;
    }
    fixed.set(root, value);
  });

  const groupRange = new Map<number, TensorRange>();
  for (let t = 0; t < subgraph.tensors.length; t++) {
    if (!facts.isFloat(t) || facts.constant(t)) continue;
    const range = facts.rangeOf(t);
    if (!range) continue;
    const root = groups.find(t);
    const current = groupRange.get(root);
    groupRange.set(root, current ? { min: Math.min(current.min, range.min), max: Math.max(current.max, range.max) } : { ...range });
  }

  const cache = new Map<number, QuantParams>();
  return (t) => {
    const root = groups.find(t);
    const cached = cache.get(root);
    if (cached) return cached;
    const f = fixed.get(root);
    let params: QuantParams;
    if (f) params = { scale: [f.scale], zeroPoint: [f.zeroPoint], axis: 0 };
    else {
      // A group of constants only has no calibrated range: the first member asked for gives its own.
      const range = groupRange.get(root) ?? facts.rangeOf(t);
      if (!range) throw new Error(`no range for tensor ${t}`);
      params = activationParams(range.min, range.max, bits);
    }
    cache.set(root, params);
    return params;
  };
}
