/**
 * Step 1b of the integer plan, for models that mix int8 and 16x8 ops: an op that only moves data
 * (reshape, pooling, concatenation...) must read and write one scale, so it runs at the width of its
 * scale group rather than its own. A group's width is the widest of the ops that write into it without
 * only moving data (a 16x8 convolution keeps its pooling and reshape at 16 bits up to the next op that
 * computes); a group written by none of those (fed by a model input or a float op) takes the widest
 * its own ops ask. An op with no kernel at its group's width stays float, which can split the group,
 * so the widths are settled again until nothing changes. Ops that compute keep their own width: a
 * tensor they write at another width than a consumer reads gets a QUANTIZE (int8 <-> int16) there.
 */
import type { ModelGraph } from '../../tflite/graph';
import { hasKernel, noKernelReason, type OpMode, type SubgraphFacts } from './op-modes';
import type { ActivationBits } from './params';
import { movesData, scaleGroupsOf } from './scale-groups';

export function settleGroupWidths(graph: ModelGraph, s: number, facts: SubgraphFacts, modes: OpMode[]): void {
  const operators = graph.subgraphs[s].operators;
  // Each pass either turns an op float or ends; ops only ever turn float, so this ends.
  for (let pass = 0; pass <= operators.length; pass++) {
    const groups = scaleGroupsOf(graph, s, facts, modes);
    const written = new Map<number, ActivationBits>(); // by ops that compute
    const moved = new Map<number, ActivationBits>(); // by ops that only move data
    const moves = operators.map((op, o) => modes[o].rule !== null && movesData(graph, facts, op));
    operators.forEach((op, o) => {
      const mode = modes[o];
      if (!mode.rule) return;
      const widths = moves[o] ? moved : written;
      for (const t of op.outputs) {
        const root = groups.find(t);
        widths.set(root, Math.max(widths.get(root) ?? 8, mode.bits) as ActivationBits);
      }
    });
    let split = false;
    operators.forEach((op, o) => {
      const mode = modes[o];
      if (!mode.rule || !moves[o]) return;
      const root = groups.find(op.outputs[0]);
      const width = written.get(root) ?? moved.get(root) ?? mode.bits;
      if (width === mode.bits) return;
      if (!hasKernel(mode.rule, width)) {
        modes[o] = { rule: null, reason: `${noKernelReason(width)} (it shares one scale with ops at ${width} bits)` };
        split = true;
        return;
      }
      modes[o] = { rule: mode.rule, bits: width, note: `runs at ${width === 16 ? 'int16x8' : 'int8'}: it shares one scale with ops at that width` };
    });
    if (!split) return;
  }
}
