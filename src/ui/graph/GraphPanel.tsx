/**
 * "Model graph": the float model or a variant as a layered graph (every subgraph; layout in the graph
 * worker), with overlays, search, chain collapsing, op details and actions, and a diff of the float
 * model against a variant side by side. The selected op is shared with the per-layer chart.
 */
import { startTransition, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ViewNode } from '../../app/graph/graph-view';
import { mapOp, nodeOfOp } from '../../app/graph/op-map';
import type { LayerComparison } from '../../evaluate/compare';
import type { FloatOp } from '../../optimize/quantize/plan-types';
import { useSession, type Variant } from '../session';
import { GraphCanvas, type CanvasHandle } from './GraphCanvas';
import { DiffView } from './DiffView';
import { OpDetails } from './OpDetails';
import { overlayFor, OVERLAYS, type OverlayKind } from './overlays';
import { selectOp, useSelection } from './selection';
import { useDetails, useDiff, useFacts, useLayout, useOutline, type ModelSource } from './use-graph';
import './graph.css';

const NONE: ReadonlySet<never> = new Set();

function Legend({ items, note }: { items: { color: string; label: string }[]; note?: string }) {
  if (!items.length && !note) return null;
  return (
    <div className="g-legend small" data-testid="graph-legend">
      {items.map((i, k) => <span key={k} className="g-legend-item"><span className="g-swatch" style={{ background: i.color }} />{i.label}</span>)}
      {note && <span className="muted g-legend-note">{note}</span>}
    </div>
  );
}

export function GraphPanel() {
  const modelBytes = useSession((s) => s.modelBytes);
  const modelName = useSession((s) => s.modelName);
  const done = useDeferredValue(useSession(useShallow((s) => s.variants.filter((v) => v.status === 'done' && v.result))));
  const selectedVariantId = useSession((s) => s.selected);
  const [shown, setShown] = useState<string>('float');
  const [subgraph, setSubgraph] = useState(0);
  const [collapse, setCollapse] = useState(false);
  const [expanded, setExpanded] = useState<string[]>([]);
  const [overlay, setOverlay] = useState<OverlayKind>('none');
  const [query, setQuery] = useState('');
  const [hitAt, setHitAt] = useState(0);
  const [diffMode, setDiffMode] = useState(false);
  const canvas = useRef<CanvasHandle>(null);
  const selectedOp = useSelection((s) => s.selectedOp);

  useEffect(() => {
    setShown('float');
    setSubgraph(0);
    setExpanded([]);
  }, [modelBytes]);
  const shownVariant = done.find((v) => v.id === shown) ?? null;
  useEffect(() => {
    if (shown !== 'float' && !shownVariant) setShown('float');
  }, [shown, shownVariant]);

  const floatSource: ModelSource = useMemo(() => (modelBytes ? { key: 'float', bytes: modelBytes } : null), [modelBytes]);
  const variantSource = useCallback((v: Variant | null): ModelSource => (v?.result ? { key: v.id, bytes: v.result.bytes } : null), []);
  const source = shownVariant ? variantSource(shownVariant) : floatSource;
  // The variant overlays and actions speak of: the one shown, else the one selected in the results.
  const activeVariant = shownVariant ?? done.find((v) => v.id === selectedVariantId) ?? done[done.length - 1] ?? null;

  const outline = useOutline(source);
  const laid = useLayout(source, subgraph, collapse, expanded);
  const spec = OVERLAYS.find((o) => o.kind === overlay)!;
  const facts = useFacts(source, subgraph, !!spec.needsWeights, overlay !== 'none' && overlay !== 'sqnr' && overlay !== 'float-ops');
  const diffFloatSource = activeVariant ? floatSource : null;
  // The match of the shown subgraph (an answer for another one, still on its way out, is not used).
  const diffRaw = useDiff(diffFloatSource, variantSource(activeVariant), subgraph);
  const activeDiff = diffRaw.value?.subgraph === subgraph ? diffRaw.value : null;
  const diffs = useMemo(() => new Map(activeVariant && activeDiff ? [[activeVariant.id, activeDiff]] : []), [activeVariant, activeDiff]);

  const view = laid.value?.view ?? null;
  const layout = laid.value?.layout ?? null;
  const [drawnMs, setDrawnMs] = useState<number | null>(null);
  const requestedAt = laid.value?.requestedAt;
  const onDrawn = useCallback(() => {
    performance.mark('graph:drawn'); // e2e/graph.test.mjs times the drawing up to here
    if (requestedAt !== undefined) setDrawnMs(performance.now() - requestedAt);
  }, [requestedAt]);

  // Per-layer error and float ops of the active variant, in the shown model's op indices (subgraph 0).
  const mapped = useMemo(() => {
    if (!activeVariant?.result || subgraph !== 0) return { sqnr: null, floatOps: null };
    const to = shownVariant ? shownVariant.id : 'float';
    const sqnr = new Map<number, LayerComparison>();
    for (const l of activeVariant.result.comparison.perLayer ?? []) {
      const o = mapOp(l.opIndex, activeVariant.id, to, diffs);
      if (o !== null && (!sqnr.has(o) || l.sqnrDb < sqnr.get(o)!.sqnrDb)) sqnr.set(o, l);
    }
    const floatOps = new Map<number, FloatOp>();
    for (const f of activeVariant.result.floatOps) {
      if (f.subgraph !== 0) continue;
      const o = mapOp(f.opIndex, activeVariant.id, to, diffs);
      if (o !== null) floatOps.set(o, f);
    }
    return { sqnr, floatOps };
  }, [activeVariant, shownVariant, diffs, subgraph]);

  const painted = useMemo(
    () => overlayFor(overlay, { nodes: view?.nodes ?? [], facts: facts.value, sqnr: mapped.sqnr, floatOps: mapped.floatOps }),
    [overlay, view, facts.value, mapped],
  );

  // Search by op name, "#index" or tensor name.
  const deferredQuery = useDeferredValue(query);
  const search = useMemo(() => {
    const q = deferredQuery.trim().toLowerCase();
    if (!view || !q) return { hits: [] as string[], tensors: new Set<number>() };
    const tensors = new Set<number>();
    view.tensorNames.forEach((name, t) => name.toLowerCase().includes(q) && tensors.add(t));
    const index = /^#(\d+)$/.exec(q);
    const hits = view.nodes
      .filter((n) => (index ? n.kind === 'op' ? n.opIndex === Number(index[1]) : !!n.ops?.includes(Number(index[1])) : n.label.toLowerCase().includes(q) || n.detail.toLowerCase().includes(q) || (n.tensor !== undefined && tensors.has(n.tensor)) || !!n.tensors?.some((t) => tensors.has(t))))
      .map((n) => n.id);
    return { hits, tensors: tensors.size > 200 ? new Set<number>() : tensors };
  }, [view, deferredQuery]);
  const hitSet = useMemo(() => new Set(search.hits), [search.hits]);
  useEffect(() => setHitAt(0), [query]);
  useEffect(() => {
    if (search.hits.length) canvas.current?.reveal(search.hits[hitAt % search.hits.length]);
  }, [search.hits, hitAt]);

  // The shared selection, as a node of the shown model.
  const shownKey = shownVariant ? shownVariant.id : 'float';
  const selectedHere = selectedOp && selectedOp.subgraph === subgraph ? mapOp(selectedOp.opIndex, selectedOp.model, shownKey, diffs) : null;
  const selectedNode = view && selectedHere !== null ? nodeOfOp(view, selectedHere) : undefined;
  useEffect(() => {
    if (selectedNode && !diffMode) canvas.current?.reveal(selectedNode.id);
  }, [selectedNode, diffMode]);
  const details = useDetails(selectedNode ? source : null, subgraph, selectedHere);

  const open = useCallback((node: ViewNode) => {
    if (node.kind === 'chain') {
      setExpanded((e) => [...e, node.id]);
      return;
    }
    if (node.kind !== 'op') return;
    // Published in the active variant's op numbers when it has a match, so the per-layer chart picks it too.
    const inVariant = activeVariant ? mapOp(node.opIndex!, shownKey, activeVariant.id, diffs) : null;
    selectOp(inVariant !== null ? { model: activeVariant!.id, subgraph, opIndex: inVariant } : { model: shownKey, subgraph, opIndex: node.opIndex! });
  }, [shownKey, subgraph, activeVariant, diffs]);

  if (!modelBytes) return null;
  const floatOfSelected = selectedHere !== null ? mapOp(selectedHere, shownKey, 'float', diffs) : null;
  const variantOfSelected = selectedHere !== null && activeVariant ? mapOp(selectedHere, shownKey, activeVariant.id, diffs) : null;
  const detailsContext = {
    variant: activeVariant,
    floatOutput: floatOfSelected === null ? null : shownKey === 'float' ? (details.value?.outputs[0]?.name ?? null) : (diffs.get(activeVariant!.id)?.float[floatOfSelected]?.output || null),
    // The per-layer comparison covers subgraph 0 (the one LiteRT runs).
    layer: variantOfSelected !== null && subgraph === 0 ? (activeVariant?.result?.comparison.perLayer ?? []).filter((l) => l.opIndex === variantOfSelected).sort((a, b) => a.sqnrDb - b.sqnrDb)[0] ?? null : null,
    floatReason: variantOfSelected !== null ? activeVariant?.result?.floatOps.find((f) => f.subgraph === subgraph && f.opIndex === variantOfSelected)?.reason ?? null : null,
    shownIsFloat: shownKey === 'float',
  };
  const subgraphs = outline.value?.subgraphs ?? [];
  const opCount = subgraphs[subgraph]?.ops ?? 0;

  return (
    <section className="card panel graph-panel" aria-labelledby="graph-heading" data-testid="graph-panel">
      <h2 id="graph-heading">Model graph</h2>
      <div className="g-toolbar" role="toolbar" aria-label="Graph controls">
        <label className="small">Model{' '}
          <select value={shown} onChange={(e) => setShown(e.target.value)} data-testid="graph-model" disabled={diffMode}>
            <option value="float">{modelName ?? 'float model'} (float)</option>
            {done.map((v) => <option key={v.id} value={v.id}>{v.result!.label}</option>)}
          </select>
        </label>
        {subgraphs.length > 1 && (
          <label className="small">Subgraph{' '}
            <select value={subgraph} onChange={(e) => setSubgraph(Number(e.target.value))} data-testid="graph-subgraph">
              {subgraphs.map((s) => <option key={s.index} value={s.index}>{s.index}: {s.name} ({s.ops} ops)</option>)}
            </select>
          </label>
        )}
        <label className="small">Overlay{' '}
          <select value={overlay} onChange={(e) => { const v = e.target.value as OverlayKind; startTransition(() => setOverlay(v)); }} data-testid="graph-overlay" disabled={diffMode}>
            {OVERLAYS.map((o) => <option key={o.kind} value={o.kind}>{o.label}{o.needsVariant ? (activeVariant ? ` (${activeVariant.result!.label})` : ' (run a variant)') : ''}</option>)}
          </select>
        </label>
        <label className="small">Search{' '}
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="op, #index or tensor name" data-testid="graph-search"
            onKeyDown={(e) => e.key === 'Enter' && setHitAt((h) => h + 1)} aria-describedby="graph-search-count" />
        </label>
        <span id="graph-search-count" className="small muted" data-testid="graph-search-count" aria-live="polite">{!query.trim() ? '' : deferredQuery !== query ? 'searching…' : `${search.hits.length} match${search.hits.length === 1 ? '' : 'es'}${search.hits.length > 1 ? ' (Enter: next)' : ''}`}</span>
        <label className="small"><input type="checkbox" checked={collapse} onChange={(e) => { setCollapse(e.target.checked); setExpanded([]); }} data-testid="graph-collapse" /> Collapse chains</label>
        <span className="g-zoom">
          <button type="button" className="button small-button" onClick={() => canvas.current?.zoomBy(1.25)} aria-label="Zoom in">+</button>
          <button type="button" className="button small-button" onClick={() => canvas.current?.zoomBy(0.8)} aria-label="Zoom out">−</button>
          <button type="button" className="button small-button" onClick={() => canvas.current?.fit()} data-testid="graph-fit">Fit</button>
        </span>
        <label className="small"><input type="checkbox" checked={diffMode} disabled={!activeVariant} onChange={(e) => setDiffMode(e.target.checked)} data-testid="graph-diff-toggle" /> Diff float vs {activeVariant ? activeVariant.result!.label : 'a variant (run one)'}</label>
      </div>
      {(laid.error || outline.error) && <p className="error-inline" role="alert">{laid.error ?? outline.error}</p>}
      {diffMode && activeVariant && floatSource ? (
        <DiffView float={floatSource} variant={variantSource(activeVariant)!} variantLabel={activeVariant.result!.label} diff={activeDiff} subgraph={subgraph} />
      ) : (
        <>
          <p className="small muted g-status" data-testid="graph-status" data-op-count={opCount} data-drawn-ms={drawnMs?.toFixed(0) ?? ''}>
            {laid.loading && !view ? 'Laying out the graph in a worker…' : view ? `${opCount} ops${collapse ? `, ${view.nodes.length} nodes with chains collapsed (click a chain to open it)` : ''} · laid out in ${layout!.elapsedMs.toFixed(0)} ms${drawnMs !== null ? `, on screen ${drawnMs.toFixed(0)} ms after the summary` : ''}. Drag or wheel to pan, Ctrl + wheel to zoom; Tab to a node, Enter for details.` : ''}
          </p>
          <Legend items={painted.legend} note={painted.note} />
          <div className="g-body">
            {view && layout && (
              <GraphCanvas ref={canvas} view={view} layout={layout} label="Model graph" testId="model-graph" fill={painted.fill} mark={painted.mark} title={painted.title}
                selected={selectedNode?.id ?? null} hits={deferredQuery.trim() ? hitSet : NONE} hotTensors={search.tensors} onOpen={open} onDrawn={onDrawn} />
            )}
            {details.value && selectedNode && <OpDetails details={details.value} context={detailsContext} onClose={() => selectOp(null)} />}
            {details.error && <p className="error-inline" role="alert">{details.error}</p>}
          </div>
        </>
      )}
    </section>
  );
}
