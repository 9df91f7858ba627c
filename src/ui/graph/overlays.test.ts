/**
 * Overlay colours and legends on real per-op facts (pose_landmark_lite_fp16), and op mapping across
 * the float model and a variant through a real diff. The legend must name the bin every node's
 * colour comes from; ops inside collapsed chains are covered by their chain.
 */
import { describe, expect, it } from 'vitest';
import { collapseChains } from '../../app/graph/chains';
import { buildSubgraphView } from '../../app/graph/graph-view';
import { mapOp, nodeOfOp } from '../../app/graph/op-map';
import type { OpDiff } from '../../app/graph/op-match';
import { opFacts } from '../../app/graph/op-facts';
import { readSharedModel } from '../../test-support/shared';
import { readModel } from '../../tflite/read';
import type { LayerComparison } from '../../evaluate/compare';
import { binOf, dtypeColor, NO_DATA, overlayFor, sqnrColor, SQNR_BINS } from './overlays';

const graph = readModel(readSharedModel('pose_landmark_lite_fp16.tflite'));
const view = buildSubgraphView(graph, 0);
const facts = opFacts(graph, 0, false);

describe('overlays', () => {
  it('dtype: every op coloured by its output dtype, the legend lists exactly the dtypes present', () => {
    const o = overlayFor('dtype', { nodes: view.nodes, facts, sqnr: null, floatOps: null });
    const ops = view.nodes.filter((n) => n.kind === 'op');
    for (const n of ops) expect(o.fill.get(n.id)).toBe(dtypeColor(facts[n.opIndex!].dtype));
    expect(o.legend.map((l) => l.label).sort()).toEqual([...new Set(facts.map((f) => `${f.dtype} output`))].sort());
    // MediaPipe DEQUANTIZE ops read FLOAT16 and write FLOAT32: the mark says both.
    const dq = facts.find((f) => f.op === 'DEQUANTIZE')!;
    expect(o.mark.get(`op:${dq.opIndex}`)).toBe('FLOAT32·w FLOAT16');
  });

  it('weight bytes: ops without constants are grey, the largest op gets the darkest blue', () => {
    const o = overlayFor('weight-bytes', { nodes: view.nodes, facts, sqnr: null, floatOps: null });
    const largest = facts.reduce((a, b) => (b.weightBytes > a.weightBytes ? b : a));
    expect(o.fill.get(`op:${largest.opIndex}`)).toBe('#08519c');
    const none = facts.find((f) => f.weightBytes === 0)!;
    expect(o.fill.get(`op:${none.opIndex}`)).toBe(NO_DATA);
    expect(o.legend).toHaveLength(6);
  });

  it('SQNR: colour bins as the legend states them; a chain shows its worst op', () => {
    expect(SQNR_BINS.map((b) => sqnrColor(Math.min(b.below, 100) - 0.5))).toEqual(SQNR_BINS.map((b) => b.color));
    expect(sqnrColor(Infinity)).toBe(SQNR_BINS[4].color);
    expect(sqnrColor(-3)).toBe(SQNR_BINS[0].color);
    const folded = collapseChains(view);
    const chain = folded.nodes.find((n) => n.kind === 'chain')!;
    const layer = (opIndex: number, sqnrDb: number) => ({ opIndex, sqnrDb, tensor: `t${opIndex}` }) as LayerComparison;
    const sqnr = new Map([[chain.ops![0], layer(chain.ops![0], 45)], [chain.ops![1], layer(chain.ops![1], 12)]]);
    const o = overlayFor('sqnr', { nodes: folded.nodes, facts: null, sqnr, floatOps: null });
    expect(o.fill.get(chain.id)).toBe(sqnrColor(12));
    expect(o.mark.get(chain.id)).toBe('12.0 dB');
  });

  it('float ops: marked with the reason, counted by reason in the note', () => {
    const floatOps = new Map([[3, { subgraph: 0, opIndex: 3, op: 'CONV_2D', reason: 'kept in float by the recipe' }]]);
    const o = overlayFor('float-ops', { nodes: view.nodes, facts: null, sqnr: null, floatOps });
    expect(o.mark.get('op:3')).toBe('float');
    expect(o.title.get('op:3')).toMatch(/kept in float by the recipe/);
    expect(o.note).toBe('Why: 1× kept in float by the recipe');
  });

  it('bins are clamped to the scale', () => {
    expect(binOf(0, 10, 5)).toBe(0);
    expect(binOf(10, 10, 5)).toBe(4);
    expect(binOf(4.9, 10, 5)).toBe(2);
  });
});

describe('mapOp and nodeOfOp', () => {
  // Variant A inserted a QUANTIZE at 0; variant B folded float op 1 away.
  const diff = (variant: (number | null)[], float: (number | null)[]): OpDiff => ({
    subgraph: 0,
    variant: variant.map((f, v) => ({ opIndex: v, op: 'X', floatOp: f, change: f === null ? 'inserted' : 'same' })),
    float: float.map((v, f) => ({ opIndex: f, op: 'X', output: `t${f}`, variantOp: v, fate: v === null ? 'folded' : 'kept' })),
    counts: { same: 0, dtype: 0, inserted: 0, removed: 0, folded: 0 },
  });
  const diffs = new Map([['a', diff([null, 0, 1, 2], [1, 2, 3])], ['b', diff([0, 2], [0, null, 1])]]);

  it('goes through the float model, and says when there is no match', () => {
    expect(mapOp(2, 'a', 'float', diffs)).toBe(1);
    expect(mapOp(1, 'float', 'a', diffs)).toBe(2);
    expect(mapOp(3, 'a', 'b', diffs)).toBe(1);
    expect(mapOp(0, 'a', 'b', diffs)).toBeNull();
    expect(mapOp(2, 'a', 'b', diffs)).toBeNull();
    expect(mapOp(5, 'b', 'b', diffs)).toBe(5);
  });

  it('finds the node of an op, or the chain that holds it', () => {
    const folded = collapseChains(view);
    const chain = folded.nodes.find((n) => n.kind === 'chain')!;
    expect(nodeOfOp(folded, chain.ops![2])?.id).toBe(chain.id);
    expect(nodeOfOp(view, chain.ops![2])?.id).toBe(`op:${chain.ops![2]}`);
  });
});
