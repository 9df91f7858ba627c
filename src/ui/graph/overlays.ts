/**
 * Overlays on the graph: a fill colour (and a short mark) per node from one measure, with the legend
 * that reads it. Pure functions over plain data, so they are tested without a browser.
 */
import type { FloatOp } from '../../optimize/quantize/plan-types';
import type { LayerComparison } from '../../evaluate/compare';
import type { ViewNode } from '../../app/graph/graph-view';
import type { OpFacts } from '../../app/graph/op-facts';
import { formatBytes } from '../format';

export type OverlayKind = 'none' | 'dtype' | 'weight-bytes' | 'sqnr' | 'sparsity' | 'distinct' | 'float-ops';

export const OVERLAYS: { kind: OverlayKind; label: string; needsVariant?: boolean; needsWeights?: boolean }[] = [
  { kind: 'none', label: 'No overlay' },
  { kind: 'dtype', label: 'dtype' },
  { kind: 'weight-bytes', label: 'Weight bytes' },
  { kind: 'sqnr', label: 'Per-layer error (SQNR)', needsVariant: true },
  { kind: 'sparsity', label: 'Sparsity of weights', needsWeights: true },
  { kind: 'distinct', label: 'Distinct values per channel', needsWeights: true },
  { kind: 'float-ops', label: 'Ops kept in float (why)', needsVariant: true },
];

export interface LegendItem {
  color: string;
  label: string;
}

export interface Overlay {
  fill: Map<string, string>;
  mark: Map<string, string>;
  title: Map<string, string>;
  legend: LegendItem[];
  note?: string;
}

export const NO_DATA = '#f1f2f4';

const DTYPE_COLORS: Record<string, string> = {
  FLOAT32: '#cfe0f7',
  FLOAT16: '#d8d0f3',
  INT8: '#c9ecd2',
  UINT8: '#e3f1b8',
  INT16: '#fbe0b4',
  INT32: '#f6cfd0',
  INT64: '#f0c0e0',
  BOOL: '#e2e2e2',
};

export function dtypeColor(dtype: string): string {
  return DTYPE_COLORS[dtype] ?? '#e0e0e0';
}

/** SQNR bins (dB): red where quantization hurts, green where it does not; the legend names the same bins. */
export const SQNR_BINS: { below: number; color: string; label: string }[] = [
  { below: 10, color: '#e57373', label: '< 10 dB' },
  { below: 20, color: '#ffb74d', label: '10–20 dB' },
  { below: 30, color: '#fff176', label: '20–30 dB' },
  { below: 40, color: '#aed581', label: '30–40 dB' },
  { below: Infinity, color: '#66bb6a', label: '≥ 40 dB' },
];

export function sqnrColor(db: number): string {
  if (Number.isNaN(db)) return NO_DATA;
  // An infinite SQNR (the tensor is identical to the float one) is in the top bin.
  return (SQNR_BINS.find((b) => db < b.below) ?? SQNR_BINS[SQNR_BINS.length - 1]).color;
}

/** Five blues over log10(bytes): 0 .. the largest op. */
const BLUES = ['#eef4fb', '#c6dbef', '#9ecae1', '#4292c6', '#08519c'];

export function binOf(value: number, max: number, bins: number): number {
  if (!(max > 0) || !(value > 0)) return 0;
  return Math.min(bins - 1, Math.floor((value / max) * bins));
}

function opIndices(node: ViewNode): number[] {
  return node.kind === 'op' ? [node.opIndex!] : node.kind === 'chain' ? node.ops! : [];
}

export interface OverlayInputs {
  nodes: ViewNode[];
  /** Facts of the shown model's ops (by op index). */
  facts: OpFacts[] | null;
  /** Per-layer comparison of the selected variant, mapped to the shown model's op indices. */
  sqnr: Map<number, LayerComparison> | null;
  /** Ops the selected variant left in float, mapped to the shown model's op indices. */
  floatOps: Map<number, FloatOp> | null;
  /** Of the selected variant's ops, how many had no op to map to in the shown model. */
  unmapped?: number;
}

export function overlayFor(kind: OverlayKind, input: OverlayInputs): Overlay {
  const fill = new Map<string, string>();
  const mark = new Map<string, string>();
  const title = new Map<string, string>();
  const { nodes, facts } = input;
  const each = (f: (ops: number[], node: ViewNode) => void) => {
    for (const n of nodes) {
      const ops = opIndices(n);
      if (ops.length) f(ops, n);
    }
  };
  switch (kind) {
    case 'none':
      return { fill, mark, title, legend: [] };
    case 'dtype': {
      if (!facts) return { fill, mark, title, legend: [], note: 'Reading the model…' };
      const seen = new Set<string>();
      each((ops, n) => {
        const f = facts?.[ops[0]];
        if (!f) return;
        seen.add(f.dtype);
        fill.set(n.id, dtypeColor(f.dtype));
        mark.set(n.id, f.weightDtype && f.weightDtype !== f.dtype ? `${f.dtype}·w ${f.weightDtype}` : f.dtype);
      });
      return { fill, mark, title, legend: [...seen].sort().map((d) => ({ color: dtypeColor(d), label: `${d} output` })) };
    }
    case 'weight-bytes': {
      if (!facts) return { fill, mark, title, legend: [], note: 'Reading the model…' };
      const bytes = new Map<string, number>();
      each((ops, n) => bytes.set(n.id, ops.reduce((s, o) => s + (facts?.[o]?.weightBytes ?? 0), 0)));
      const max = Math.max(0, ...bytes.values());
      const logMax = Math.log10(max + 1);
      for (const [id, b] of bytes) {
        fill.set(id, b > 0 ? BLUES[binOf(Math.log10(b + 1), logMax, BLUES.length)] : NO_DATA);
        if (b > 0) mark.set(id, formatBytes(b));
      }
      const edge = (i: number) => formatBytes(Math.round(10 ** ((logMax * i) / BLUES.length) - 1));
      return { fill, mark, title, legend: [{ color: NO_DATA, label: 'no weights' }, ...BLUES.map((c, i) => ({ color: c, label: `${edge(i)}–${edge(i + 1)}` }))], note: 'log scale, bytes of constant inputs as stored' };
    }
    case 'sqnr': {
      if (!input.sqnr) return { fill, mark, title, legend: [], note: 'Run a variant: its per-layer error is drawn here.' };
      each((ops, n) => {
        const layers = ops.map((o) => input.sqnr!.get(o)).filter((l): l is LayerComparison => !!l);
        if (!layers.length) return;
        const worst = layers.reduce((a, b) => (b.sqnrDb < a.sqnrDb ? b : a));
        fill.set(n.id, sqnrColor(worst.sqnrDb));
        mark.set(n.id, Number.isFinite(worst.sqnrDb) ? `${worst.sqnrDb.toFixed(1)} dB` : '∞ dB');
        title.set(n.id, `${worst.tensor}: SQNR ${Number.isFinite(worst.sqnrDb) ? worst.sqnrDb.toFixed(1) : '∞'} dB vs the float model`);
      });
      return { fill, mark, title, legend: [{ color: NO_DATA, label: 'not compared' }, ...SQNR_BINS.map((b) => ({ color: b.color, label: b.label }))] };
    }
    case 'sparsity':
    case 'distinct': {
      if (!facts) return { fill, mark, title, legend: [], note: 'Reading the weights…' };
      const scale = kind === 'sparsity' ? ['#f3e5f5', '#e1bee7', '#ce93d8', '#ab47bc', '#7b1fa2'] : ['#7b1fa2', '#ab47bc', '#ce93d8', '#e1bee7', '#f3e5f5'];
      const edges = kind === 'sparsity' ? [0.1, 0.3, 0.5, 0.7, Infinity] : [16, 64, 256, 4096, Infinity];
      const labels = kind === 'sparsity' ? ['< 10% zeros', '10–30%', '30–50%', '50–70%', '≥ 70%'] : ['≤ 16 values', '17–64', '65–256', '257–4096', '> 4096'];
      each((ops, n) => {
        const f = ops.map((o) => facts[o]).find((x) => x && (kind === 'sparsity' ? x.sparsity !== null : x.distinctPerChannel !== null));
        if (!f) return;
        const v = kind === 'sparsity' ? f.sparsity! : f.distinctPerChannel!;
        const bin = kind === 'sparsity' ? edges.findIndex((e) => v < e) : edges.findIndex((e) => v <= e);
        fill.set(n.id, scale[bin]);
        mark.set(n.id, kind === 'sparsity' ? `${(v * 100).toFixed(0)}% 0s` : `${v}/ch`);
        title.set(n.id, kind === 'sparsity' ? `${(v * 100).toFixed(1)}% of the kernel is zero` : `at most ${v} distinct values in one of ${f.channels} output channels`);
      });
      return { fill, mark, title, legend: [{ color: NO_DATA, label: 'no kernel' }, ...scale.map((c, i) => ({ color: c, label: labels[i] }))] };
    }
    case 'float-ops': {
      if (!input.floatOps) return { fill, mark, title, legend: [], note: 'Run a quantizing variant: the ops it left in float are drawn here.' };
      const reasons = new Map<string, number>();
      each((ops, n) => {
        const kept = ops.map((o) => input.floatOps!.get(o)).find(Boolean);
        fill.set(n.id, kept ? '#ffab91' : '#d7ecd9');
        if (kept) {
          mark.set(n.id, 'float');
          title.set(n.id, `kept in float: ${kept.reason}`);
          reasons.set(kept.reason, (reasons.get(kept.reason) ?? 0) + 1);
        }
      });
      const why = [...reasons].map(([r, c]) => `${c}× ${r}`).join('; ');
      return { fill, mark, title, legend: [{ color: '#ffab91', label: 'kept in float' }, { color: '#d7ecd9', label: 'quantized / as planned' }], note: why ? `Why: ${why}` : 'No op left in float.' };
    }
  }
}
