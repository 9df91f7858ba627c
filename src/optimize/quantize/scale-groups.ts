/**
 * Step 2 of the integer plan: activation parameters. Ops that only move data (reshape, pooling,
 * concatenation...) keep input and output on one scale, so their tensors join one group (union-find)
 * whose range is the union of its members' calibrated ranges; a group holding a softmax / logistic /
 * tanh output takes that op's fixed parameters instead. Every tensor of a group gets the same params
 * at a given width; in a model that mixes int8 and 16x8 ops a tensor may be needed at both widths
 * (group-widths.ts decides which width each op of a group runs at).
 */
import type { ModelGraph, Operator } from '../../tflite/graph';
import { builtinCodeOf } from '../../tflite/ops';
import type { OpMode, SubgraphFacts } from './op-modes';
import { activationParams, type ActivationBits, type QuantParams } from './params';
import type { TensorRange } from './ranges';
import { sameScaleInputs, type FixedOutput } from './rules';

export const FIXED_SCALE_CONFLICT = 'its fixed output scale conflicts with another';

/** Union-find over tensor indices, for groups that must share one scale. */
export class Groups {
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

/** Whether a quantized op only moves data: it has float inputs that must share its output's scale. */
export function movesData(graph: ModelGraph, facts: SubgraphFacts, op: Operator): boolean {
  return sameScaleMembers(graph, facts, op).length > 0;
}

function sameScaleMembers(graph: ModelGraph, facts: SubgraphFacts, op: Operator): number[] {
  const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
  return sameScaleInputs(builtin, op.inputs.length).map((i) => op.inputs[i]).filter((t) => t !== undefined && facts.isFloat(t));
}

/** The same-scale groups of a subgraph's tensors, over the ops that run quantized. */
export function scaleGroupsOf(graph: ModelGraph, s: number, facts: SubgraphFacts, modes: OpMode[]): Groups {
  const subgraph = graph.subgraphs[s];
  const groups = new Groups(subgraph.tensors.length);
  subgraph.operators.forEach((op, o) => {
    if (!modes[o].rule) return;
    const members = sameScaleMembers(graph, facts, op);
    if (!members.length) return;
    for (const t of [...members, ...op.outputs]) groups.union(t, op.outputs[0]);
  });
  return groups;
}

/**
 * The activation parameters of tensor t at a width (shared across its group, computed once per group
 * and width). Ops whose fixed output parameters conflict, at their own width, with another's in the
 * same group are turned float in `modes` (the later one), with FIXED_SCALE_CONFLICT as the reason.
 */
export function activationParamsOf(graph: ModelGraph, s: number, facts: SubgraphFacts, modes: OpMode[]): (t: number, bits: ActivationBits) => QuantParams {
  const subgraph = graph.subgraphs[s];
  const groups = scaleGroupsOf(graph, s, facts, modes);

  // A fixed output binds its group at its own width; the group's other width (a QUANTIZE's output
  // for consumers of that width, which any parameters suit) takes the same op's value at that width.
  const fixed = new Map<number, { int8: FixedOutput; int16: FixedOutput }>();
  subgraph.operators.forEach((op, o) => {
    const mode = modes[o];
    if (!mode.rule?.fixedOutput) return;
    const value = mode.rule.fixedOutput;
    const key = mode.bits === 8 ? 'int8' : 'int16';
    const root = groups.find(op.outputs[0]);
    const existing = fixed.get(root);
    if (existing && (existing[key].scale !== value[key].scale || existing[key].zeroPoint !== value[key].zeroPoint)) {
      modes[o] = { rule: null, reason: FIXED_SCALE_CONFLICT };
      return;
    }
    if (!existing) fixed.set(root, value);
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

  const cache = new Map<string, QuantParams>();
  return (t, bits) => {
    const root = groups.find(t);
    const key = `${root}:${bits}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const f = fixed.get(root)?.[bits === 8 ? 'int8' : 'int16'];
    let params: QuantParams;
    if (f) params = { scale: [f.scale], zeroPoint: [f.zeroPoint], axis: 0 };
    else {
      // A group of constants only has no calibrated range: the first member asked for gives its own.
      const range = groupRange.get(root) ?? facts.rangeOf(t);
      if (!range) throw new Error(`no range for tensor ${t}`);
      params = activationParams(range.min, range.max, bits);
    }
    cache.set(key, params);
    return params;
  };
}
