/**
 * One laid-out subgraph as SVG: a focusable element per node (op nodes carry data-op-index), every
 * edge in one <path> (one DOM node for hundreds of edges), arrowheads in another. The drawing is a
 * plane of the layout's full size on its own compositing layer (will-change: transform); pan and zoom
 * set its CSS transform in an animation frame, never through React, so the compositor moves the tiles
 * already rastered and the main thread repaints nothing (hiding text when zoomed out was tried:
 * restyling every node cost a 400 ms task on pose_landmark_heavy). The nodes sit in slices of 40, each
 * its own <svg> root on the plane, mounted one slice per frame, top of the graph first: Chromium lays
 * out and paints an SVG root as a whole, so in one root each new slice re-did every node before it.
 * A new overlay or search result likewise reaches one slice per frame.
 *
 * Mouse: drag to pan, wheel to pan, Ctrl/⌘ + wheel (or pinch) to zoom. Keyboard: Tab through the
 * nodes (a focused node is brought into view), Enter or Space opens its details, arrow keys pan and
 * +/- zoom when the canvas itself has focus.
 */
import { forwardRef, memo, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import type { SubgraphView, ViewNode } from '../../app/graph/graph-view';
import type { GraphLayout } from '../../app/graph/layout';

export interface CanvasHandle {
  fit(): void;
  zoomBy(factor: number): void;
  /** Centers the node (keeps the scale, at least 0.7). */
  reveal(nodeId: string): void;
}

interface Props {
  view: SubgraphView;
  layout: GraphLayout;
  label: string;
  fill: Map<string, string>;
  mark: Map<string, string>;
  title: Map<string, string>;
  selected: string | null;
  hits: ReadonlySet<string>;
  /** Edges of these tensors are drawn highlighted (search by tensor name, the selected op's). */
  hotTensors: ReadonlySet<number>;
  onOpen: (node: ViewNode) => void;
  /** Called once every node of a new layout is on screen (painted). */
  onDrawn?: () => void;
  testId?: string;
  height?: number;
}

/** Nodes mounted per frame (measured: e2e/graph.test.mjs logs the long frames). */
const SLICE = 40;

const clampScale = (k: number) => Math.min(2.5, Math.max(0.03, k));

function edgePath(points: number[]): string {
  let d = `M${points[0].toFixed(1)} ${points[1].toFixed(1)}`;
  for (let i = 2; i < points.length; i += 2) d += `L${points[i].toFixed(1)} ${points[i + 1].toFixed(1)}`;
  return d;
}

function arrowHead(points: number[]): string {
  const n = points.length;
  const [x1, y1, x2, y2] = [points[n - 4], points[n - 3], points[n - 2], points[n - 1]];
  const len = Math.hypot(x2 - x1, y2 - y1) || 1;
  const [ux, uy] = [(x2 - x1) / len, (y2 - y1) / len];
  const [bx, by] = [x2 - ux * 7, y2 - uy * 7];
  return `M${x2.toFixed(1)} ${y2.toFixed(1)}L${(bx - uy * 3.5).toFixed(1)} ${(by + ux * 3.5).toFixed(1)}L${(bx + uy * 3.5).toFixed(1)} ${(by - ux * 3.5).toFixed(1)}Z`;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const Node = memo(function Node({ node, x, y, fill, mark, title, selected, hit }: { node: ViewNode; x: number; y: number; fill?: string; mark?: string; title?: string; selected: boolean; hit: boolean }) {
  const isOp = node.kind === 'op' || node.kind === 'chain';
  const name = node.kind === 'op' ? `${node.label} #${node.opIndex}` : node.kind === 'chain' ? node.label : `${node.kind} ${node.label}`;
  return (
    <g
      className={`gnode gnode-${node.kind}${selected ? ' gnode-selected' : ''}${hit ? ' gnode-hit' : ''}`}
      transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}
      tabIndex={0}
      role="button"
      aria-label={`${name}${mark ? `, ${mark}` : ''}${title ? `, ${title}` : ''}`}
      aria-pressed={selected}
      data-node-id={node.id}
      data-op-index={node.kind === 'op' ? node.opIndex : undefined}
      data-chain-ops={node.kind === 'chain' ? node.ops!.join(',') : undefined}
    >
      {title && <title>{title}</title>}
      <rect width={node.width} height={node.height} rx={isOp ? 6 : 14} style={fill ? { fill } : undefined} />
      <text x={8} y={isOp ? 17 : 13} className="glabel">
        {clip(node.label, 24)}
        {node.kind === 'op' && <tspan className="gidx"> #{node.opIndex}</tspan>}
      </text>
      <text x={8} y={isOp ? 33 : 25} className="gdetail">{clip(node.detail, mark ? 14 : 30)}</text>
      {mark && <text x={node.width - 6} y={isOp ? 33 : 25} className="gmark" textAnchor="end">{clip(mark, 15)}</text>}
    </g>
  );
});

function slicesOf(nodes: ViewNode[], mounted: number): ViewNode[][] {
  const out: ViewNode[][] = [];
  for (let i = 0; i < Math.min(mounted, nodes.length); i += SLICE) out.push(nodes.slice(i, Math.min(i + SLICE, mounted, nodes.length)));
  return out;
}

interface SliceProps {
  nodes: ViewNode[];
  placed: Map<string, { x: number; y: number }>;
  width: number;
  height: number;
  fill: Map<string, string>;
  mark: Map<string, string>;
  title: Map<string, string>;
  selected: string | null;
  hits: ReadonlySet<string>;
}

/** One slice of nodes in an <svg> root of its own. */
const NodeSlice = memo(function NodeSlice({ nodes, placed, width, height, fill, mark, title, selected, hits }: SliceProps) {
  return (
    <svg className="graph-layer" width={width} height={height}>
      {nodes.map((n) => {
        const p = placed.get(n.id)!;
        return <Node key={n.id} node={n} x={p.x} y={p.y} fill={fill.get(n.id)} mark={mark.get(n.id)} title={title.get(n.id)} selected={n.id === selected} hit={hits.has(n.id)} />;
      })}
    </svg>
  );
}, (a, b) => a.placed === b.placed && a.width === b.width && a.height === b.height && a.fill === b.fill && a.mark === b.mark && a.title === b.title && a.hits === b.hits
  && a.nodes.length === b.nodes.length && a.nodes.every((n, i) => n === b.nodes[i])
  && (a.selected === b.selected || !a.nodes.some((n) => n.id === a.selected || n.id === b.selected)));

export const GraphCanvas = memo(
  forwardRef<CanvasHandle, Props>(function GraphCanvas({ view, layout, label, fill, mark, title, selected, hits, hotTensors, onOpen, onDrawn, testId, height = 560 }, ref) {
    const boxRef = useRef<HTMLDivElement>(null);
    const svgRef = useRef<HTMLDivElement>(null);
    const transform = useRef({ x: 20, y: 20, k: 1 });
    const frame = useRef(0);
    const nodesById = useMemo(() => new Map(view.nodes.map((n) => [n.id, n])), [view]);
    const placed = useMemo(() => new Map(layout.nodes.map((n) => [n.id, n])), [layout]);

    const apply = useCallback(() => {
      if (frame.current) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        const { x, y, k } = transform.current;
        const svg = svgRef.current;
        if (!svg) return;
        svg.style.transform = `translate(${x.toFixed(1)}px,${y.toFixed(1)}px) scale(${k.toFixed(4)})`;
      });
    }, []);

    const size = () => {
      const r = boxRef.current?.getBoundingClientRect();
      return { w: r?.width || 800, h: r?.height || height };
    };

    const zoomAt = useCallback((factor: number, cx: number, cy: number) => {
      const t = transform.current;
      const k = clampScale(t.k * factor);
      transform.current = { k, x: cx - ((cx - t.x) * k) / t.k, y: cy - ((cy - t.y) * k) / t.k };
      apply();
    }, [apply]);

    const api = useMemo<CanvasHandle>(() => ({
      fit() {
        const { w, h } = size();
        const k = clampScale(Math.min(w / (layout.width + 20), h / (layout.height + 20)));
        transform.current = { k, x: (w - layout.width * k) / 2, y: 10 };
        apply();
      },
      zoomBy(factor) {
        const { w, h } = size();
        zoomAt(factor, w / 2, h / 2);
      },
      reveal(nodeId) {
        const n = placed.get(nodeId);
        if (!n) return;
        const { w, h } = size();
        const k = Math.max(transform.current.k, 0.7);
        transform.current = { k, x: w / 2 - (n.x + n.width / 2) * k, y: h / 2 - (n.y + n.height / 2) * k };
        apply();
      },
      // eslint-disable-next-line react-hooks/exhaustive-deps
    }), [layout, placed, apply, zoomAt]);
    useImperativeHandle(ref, () => api, [api]);

    // First view of a new layout: readable scale at the top, centred on the inputs.
    useEffect(() => {
      const { w } = size();
      const k = clampScale(Math.min(1, Math.max(0.5, w / (layout.width + 40))));
      const first = layout.nodes.find((n) => n.id.startsWith('in:')) ?? layout.nodes[0];
      transform.current = { k, x: first ? w / 2 - (first.x + first.width / 2) * k : 20, y: 16 };
      apply();
      // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [layout]);

    // Mount the nodes a slice per frame; report when the last slice is painted.
    const [slices, setSlices] = useState<{ layout: GraphLayout | null; count: number }>({ layout: null, count: SLICE });
    const mounted = slices.layout === layout ? slices.count : SLICE;
    const drawnFor = useRef<GraphLayout | null>(null);
    useEffect(() => {
      let frameId = 0;
      let count = SLICE;
      const step = () => {
        count += SLICE;
        setSlices({ layout, count });
        if (count < view.nodes.length) frameId = requestAnimationFrame(step);
      };
      if (count < view.nodes.length) frameId = requestAnimationFrame(step);
      return () => cancelAnimationFrame(frameId);
    }, [view, layout]);
    const complete = mounted >= view.nodes.length;

    // A new overlay or search reaches the slices one per frame, so no frame restyles every node.
    const look0 = useMemo(() => ({ fill, mark, title, hits }), [fill, mark, title, hits]);
    const looks = useRef<(typeof look0)[]>([]);
    const [, setLookTick] = useState(0);
    useEffect(() => {
      const slices = Math.ceil(view.nodes.length / SLICE);
      let i = 0;
      let frameId = 0;
      const step = () => {
        looks.current[i++] = look0;
        setLookTick((t) => t + 1);
        if (i < slices) frameId = requestAnimationFrame(step);
      };
      step();
      return () => cancelAnimationFrame(frameId);
    }, [look0, view]);
    useEffect(() => {
      if (!complete || drawnFor.current === layout) return;
      drawnFor.current = layout;
      requestAnimationFrame(() => requestAnimationFrame(() => onDrawn?.()));
    }, [complete, layout, onDrawn]);

    useEffect(() => {
      const svg = boxRef.current!;
      const onWheel = (e: WheelEvent) => {
        e.preventDefault();
        const r = svg.getBoundingClientRect();
        if (e.ctrlKey || e.metaKey) zoomAt(Math.exp(-e.deltaY * 0.0025), e.clientX - r.left, e.clientY - r.top);
        else {
          transform.current = { ...transform.current, x: transform.current.x - e.deltaX, y: transform.current.y - e.deltaY };
          apply();
        }
      };
      svg.addEventListener('wheel', onWheel, { passive: false });
      return () => svg.removeEventListener('wheel', onWheel);
    }, [apply, zoomAt]);

    const drag = useRef<{ id: number; x: number; y: number; moved: boolean } | null>(null);
    const onPointerDown = (e: React.PointerEvent) => {
      if (e.button !== 0) return;
      drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
    };
    const onPointerMove = (e: React.PointerEvent) => {
      const d = drag.current;
      if (!d || d.id !== e.pointerId) return;
      const [dx, dy] = [e.clientX - d.x, e.clientY - d.y];
      if (!d.moved && Math.hypot(dx, dy) < 4) return;
      if (!d.moved) boxRef.current?.setPointerCapture(e.pointerId);
      d.moved = true;
      d.x = e.clientX;
      d.y = e.clientY;
      transform.current = { ...transform.current, x: transform.current.x + dx, y: transform.current.y + dy };
      apply();
    };
    const onPointerUp = (e: React.PointerEvent) => {
      const d = drag.current;
      drag.current = null;
      if (d?.moved) return;
      const target = (e.target as Element).closest('[data-node-id]');
      const node = target && nodesById.get(target.getAttribute('data-node-id')!);
      if (node) onOpen(node);
    };
    const onKeyDown = (e: React.KeyboardEvent) => {
      const target = (e.target as Element).closest('[data-node-id]');
      if (target && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        const node = nodesById.get(target.getAttribute('data-node-id')!);
        if (node) onOpen(node);
        return;
      }
      const step = 60;
      const pan: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (pan[e.key]) {
        e.preventDefault();
        transform.current = { ...transform.current, x: transform.current.x + pan[e.key][0], y: transform.current.y + pan[e.key][1] };
        apply();
      } else if (e.key === '+' || e.key === '=') api.zoomBy(1.25);
      else if (e.key === '-') api.zoomBy(0.8);
    };
    const onFocus = (e: React.FocusEvent) => {
      const target = (e.target as Element).closest('[data-node-id]');
      if (!target) return;
      // Bring a node reached with Tab into view when it is outside.
      const r = target.getBoundingClientRect();
      const box = boxRef.current!.getBoundingClientRect();
      if (r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom) api.reveal(target.getAttribute('data-node-id')!);
    };

    const edges = useMemo(() => {
      let all = '';
      let heads = '';
      for (const e of layout.edges) {
        if (e.points.length < 4) continue;
        all += edgePath(e.points);
        heads += arrowHead(e.points);
      }
      return { all, heads };
    }, [layout]);
    const hot = useMemo(() => {
      if (!hotTensors.size && !selected) return '';
      let d = '';
      for (const e of layout.edges) if (e.points.length >= 4 && (hotTensors.has(e.tensor) || e.from === selected || e.to === selected)) d += edgePath(e.points);
      return d;
    }, [layout, hotTensors, selected]);

    return (
      <div
        ref={boxRef}
        className="graph-canvas"
        role="group"
        aria-label={label}
        data-testid={testId}
        data-node-count={view.nodes.length}
        data-layout-ms={layout.elapsedMs.toFixed(0)}
        style={{ height }}
        tabIndex={0}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
      >
        <div ref={svgRef} className="graph-plane" style={{ width: Math.ceil(layout.width), height: Math.ceil(layout.height) }}>
          <svg className="graph-layer" width={Math.ceil(layout.width)} height={Math.ceil(layout.height)} aria-hidden="true">
            <path className="gedges" d={edges.all} />
            <path className="gheads" d={edges.heads} />
            {hot && <path className="gedges-hot" d={hot} />}
          </svg>
          {slicesOf(view.nodes, mounted).map((nodes, i) => {
            const look = looks.current[i] ?? look0;
            return <NodeSlice key={i} nodes={nodes} placed={placed} width={Math.ceil(layout.width)} height={Math.ceil(layout.height)} fill={look.fill} mark={look.mark} title={look.title} selected={selected} hits={look.hits} />;
          })}
        </div>
      </div>
    );
  }),
);
