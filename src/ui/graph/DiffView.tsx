/**
 * The float model and a variant side by side, each laid out in the worker, ops coloured by what the
 * optimizer did: in the variant, ops inserted (QUANTIZE / DEQUANTIZE) and ops whose dtypes changed;
 * in the float model, ops removed and DEQUANTIZEs folded into the weights. Selecting an op on one
 * side (or in the per-layer chart) selects its match on the other.
 */
import { useEffect, useMemo, useRef } from 'react';
import type { ViewNode } from '../../app/graph/graph-view';
import type { OpDiff } from '../../app/graph/op-match';
import { GraphCanvas, type CanvasHandle } from './GraphCanvas';
import { mapOp, nodeOfOp } from '../../app/graph/op-map';
import { selectOp, useSelection } from './selection';
import { useLayout, type ModelSource } from './use-graph';

export const DIFF_COLORS = {
  same: '#eceef1',
  dtype: '#bcd7f5',
  inserted: '#a5dfb2',
  kept: '#eceef1',
  removed: '#f3a5a5',
  folded: '#f8cf91',
} as const;

const NO_EXPANDED: string[] = [];
const NONE: ReadonlySet<never> = new Set();

interface Props {
  float: NonNullable<ModelSource>;
  variant: NonNullable<ModelSource>;
  variantLabel: string;
  diff: OpDiff | null;
  /** The subgraph compared (the one the panel shows). */
  subgraph: number;
}

export function DiffView({ float, variant, variantLabel, diff, subgraph }: Props) {
  const left = useLayout(float, subgraph, false, NO_EXPANDED);
  const right = useLayout(variant, subgraph, false, NO_EXPANDED);
  const leftCanvas = useRef<CanvasHandle>(null);
  const rightCanvas = useRef<CanvasHandle>(null);
  const selected = useSelection((s) => s.selectedOp);
  const diffs = useMemo(() => new Map(diff ? [[variant.key, diff]] : []), [diff, variant.key]);

  const paint = useMemo(() => {
    const lf = new Map<string, string>(), lm = new Map<string, string>(), lt = new Map<string, string>();
    const rf = new Map<string, string>(), rm = new Map<string, string>(), rt = new Map<string, string>();
    for (const m of diff?.float ?? []) {
      const id = `op:${m.opIndex}`;
      lf.set(id, DIFF_COLORS[m.fate]);
      if (m.fate !== 'kept') {
        lm.set(id, m.fate);
        lt.set(id, m.fate === 'folded' ? 'folded: this DEQUANTIZE of constant weights is gone, the consumer reads the weights in the variant’s own type' : 'removed: no op of the variant matches it');
      }
    }
    for (const m of diff?.variant ?? []) {
      const id = `op:${m.opIndex}`;
      rf.set(id, DIFF_COLORS[m.change]);
      if (m.change === 'inserted') {
        rm.set(id, 'inserted');
        rt.set(id, `inserted by the optimizer (${m.op})`);
      } else if (m.change === 'dtype') {
        rm.set(id, 'dtype');
        rt.set(id, `${m.dtypeChange} (float op #${m.floatOp})`);
      }
    }
    return { lf, lm, lt, rf, rm, rt };
  }, [diff]);

  const leftOp = selected && selected.subgraph === subgraph ? mapOp(selected.opIndex, selected.model, 'float', diffs) : null;
  const rightOp = selected && selected.subgraph === subgraph ? mapOp(selected.opIndex, selected.model, variant.key, diffs) : null;
  const leftNode = left.value && leftOp !== null ? nodeOfOp(left.value.view, leftOp)?.id ?? null : null;
  const rightNode = right.value && rightOp !== null ? nodeOfOp(right.value.view, rightOp)?.id ?? null : null;
  useEffect(() => {
    if (leftNode) leftCanvas.current?.reveal(leftNode);
    if (rightNode) rightCanvas.current?.reveal(rightNode);
  }, [leftNode, rightNode]);

  // Published in the variant's op numbers when the op has a match (the per-layer chart speaks those).
  const pick = (model: string) => (node: ViewNode) => {
    if (node.kind !== 'op') return;
    const inVariant = mapOp(node.opIndex!, model, variant.key, diffs);
    selectOp(inVariant !== null ? { model: variant.key, subgraph, opIndex: inVariant } : { model, subgraph, opIndex: node.opIndex! });
  };
  const c = diff?.counts;
  return (
    <div className="g-diff" data-testid="graph-diff" data-subgraph={subgraph} data-inserted={c?.inserted ?? ''} data-dtype={c?.dtype ?? ''} data-removed={c?.removed ?? ''} data-folded={c?.folded ?? ''} data-same={c?.same ?? ''}>
      <p className="small" data-testid="diff-summary">
        {c ? <>Subgraph {subgraph} of {variantLabel} against the float model: <strong>{c.inserted}</strong> op(s) inserted, <strong>{c.dtype}</strong> with dtype changes, <strong>{c.same}</strong> unchanged; <strong>{c.folded}</strong> float op(s) folded, <strong>{c.removed}</strong> removed. Click an op to select its match on the other side.</> : 'Matching ops…'}
      </p>
      <div className="g-legend small">
        {(['same', 'dtype', 'inserted', 'folded', 'removed'] as const).map((k) => <span key={k} className="g-legend-item"><span className="g-swatch" style={{ background: DIFF_COLORS[k] }} />{k === 'same' ? 'unchanged / kept' : k === 'dtype' ? 'dtype changed' : k}</span>)}
      </div>
      <div className="g-diff-sides">
        <div>
          <h3 className="small">Float model</h3>
          {left.value && <GraphCanvas ref={leftCanvas} view={left.value.view} layout={left.value.layout} label="Float model graph" testId="diff-float" fill={paint.lf} mark={paint.lm} title={paint.lt} selected={leftNode} hits={NONE} hotTensors={NONE} onOpen={pick('float')} height={600} />}
        </div>
        <div>
          <h3 className="small">{variantLabel}</h3>
          {right.value && <GraphCanvas ref={rightCanvas} view={right.value.view} layout={right.value.layout} label={`${variantLabel} graph`} testId="diff-variant" fill={paint.rf} mark={paint.rm} title={paint.rt} selected={rightNode} hits={NONE} hotTensors={NONE} onOpen={pick(variant.key)} height={600} />}
        </div>
      </div>
    </div>
  );
}
