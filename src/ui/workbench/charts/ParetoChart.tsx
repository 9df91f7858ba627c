/**
 * Accuracy (or agreement) vs size or latency as a plain SVG scatter: the float model as a diamond,
 * the Pareto frontier as a line through its points, the other variants as dots. Hand-drawn rather
 * than recharts: a recharts chart took 80-175 ms of main thread to mount on a 2-core machine (its
 * store, selectors and text measuring run in one synchronous commit), this one is a few dozen SVG
 * nodes and renders in a couple of milliseconds, so it can update live while variants run.
 */
import { memo } from 'react';
import { XYAxes } from './XYAxes';
import { placeLabels } from './labels';
import { linearScale, niceTicks } from './scale';

export type ParetoAxis = 'size' | 'gzip' | 'latency';

export interface ParetoPoint {
  id: string;
  name: string;
  size: number;
  gzip: number;
  latency: number;
  quality: number;
  /** 95% interval of the quality and the samples it was measured on. */
  low: number;
  high: number;
  n: number;
}

/** The points no other point beats on both axes (lower x, higher quality), by increasing x. */
export function paretoFrontier(points: ParetoPoint[], x: ParetoAxis): ParetoPoint[] {
  const sorted = [...points].sort((a, b) => a[x] - b[x] || b.quality - a.quality);
  const out: ParetoPoint[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.quality > best) {
      out.push(p);
      best = p.quality;
    }
  }
  return out;
}

/** Quality axis: 1% to 10% steps depending on the spread, ending at 100%. */
function qualityTicks(points: ParetoPoint[]): number[] {
  const min = Math.min(...points.map((p) => Math.min(p.quality, p.low)));
  const span = 1 - min;
  const step = span > 0.3 ? 0.1 : span > 0.12 ? 0.05 : span > 0.04 ? 0.02 : 0.01;
  const lo = Math.max(0, Math.floor((min - step / 2) / step) * step);
  return Array.from({ length: Math.round((1 - lo) / step) + 1 }, (_, i) => Math.min(1, lo + i * step));
}

const WIDTH = 560;
const HEIGHT = 250;
/** Room for the axis labels, including a last x tick label centred on the right edge. */
const MARGIN = { top: 10, right: 30, bottom: 36, left: 48 };
const COLORS = { front: '#e07b00', float: '#555', dominated: '#0b5cad' };

interface Props {
  points: ParetoPoint[];
  x: ParetoAxis;
  label: string;
  quality: string;
  formatX: (value: number) => string;
  formatQuality: (value: number) => string;
  onSelect: (id: string) => void;
}

export const ParetoChart = memo(function ParetoChart({ points, x, label, quality, formatX, formatQuality, onSelect }: Props) {
  const front = paretoFrontier(points, x);
  const frontIds = new Set(front.map((p) => p.id));
  const xTicks = niceTicks(0, Math.max(...points.map((p) => p[x]), 1e-9), 4);
  const yTicks = qualityTicks(points);
  const sx = linearScale([0, xTicks[xTicks.length - 1]], [MARGIN.left, WIDTH - MARGIN.right]);
  const sy = linearScale([yTicks[0], 1], [HEIGHT - MARGIN.bottom, MARGIN.top]);
  const line = front.map((p) => `${sx(p[x]).toFixed(1)},${sy(p.quality).toFixed(1)}`).join(' ');
  // Labels: the float model first, then the frontier, then the rest (the ones that matter get the best spots).
  const ordered = [...points].sort((a, b) => Number(b.id === 'float') - Number(a.id === 'float') || Number(frontIds.has(b.id)) - Number(frontIds.has(a.id)));
  const labels = placeLabels(
    ordered.map((p) => ({ x: sx(p[x]), y: sy(p.quality), text: p.id === 'float' ? 'float' : p.name })),
    { charWidth: 5.6, lineHeight: 11, markerRadius: 7, bounds: { x: MARGIN.left + 1, y: 0, width: WIDTH - MARGIN.left - 1, height: HEIGHT - MARGIN.bottom } },
  );
  return (
    <svg className="chart-svg" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${quality} vs ${label}`}>
      <XYAxes width={WIDTH} height={HEIGHT} margin={MARGIN} xTicks={xTicks} yTicks={yTicks} sx={sx} sy={sy} formatX={formatX} formatY={(t) => `${Math.round(t * 100)}%`} label={label} />
      <polyline points={line} fill="none" stroke={COLORS.front} strokeWidth={2} data-testid="pareto-frontier" />
      <g className="error-bars" stroke="#777" strokeWidth={1}>
        {points.map((p) => {
          const cx = sx(p[x]);
          return (
            <g key={`e${p.id}`} data-testid="error-bar" data-id={p.id} data-low={p.low} data-high={p.high} data-n={p.n}>
              <line x1={cx} x2={cx} y1={sy(p.low)} y2={sy(p.high)} />
              <line x1={cx - 3} x2={cx + 3} y1={sy(p.low)} y2={sy(p.low)} />
              <line x1={cx - 3} x2={cx + 3} y1={sy(p.high)} y2={sy(p.high)} />
            </g>
          );
        })}
      </g>
      {/* Variants first, the float model last: drawn on top, never hidden behind a variant at the same spot. */}
      {[...points.filter((p) => p.id !== 'float'), ...points.filter((p) => p.id === 'float')].map((p) => {
        const cx = sx(p[x]);
        const cy = sy(p.quality);
        const title = `${p.name}: ${quality} ${formatQuality(p.quality)} (95% CI ${formatQuality(p.low)}–${formatQuality(p.high)}, n = ${p.n}), ${label} ${formatX(p[x])}`;
        if (p.id === 'float') {
          return (
            <path key={p.id} className="chart-point" data-kind="float" data-id="float" d={`M${cx},${cy - 7}L${cx + 7},${cy}L${cx},${cy + 7}L${cx - 7},${cy}Z`} fill="none" stroke={COLORS.float} strokeWidth={2.5}>
              <title>{title}</title>
            </path>
          );
        }
        const kind = frontIds.has(p.id) ? 'front' : 'dominated';
        return (
          <circle key={p.id} className="chart-point clickable" data-kind={kind} data-id={p.id} cx={cx} cy={cy} r={5} fill={COLORS[kind]} fillOpacity={0.85} tabIndex={0} role="button" aria-label={title}
            onClick={() => onSelect(p.id)} onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && onSelect(p.id)}>
            <title>{title}</title>
          </circle>
        );
      })}
      <g data-testid="point-labels">
        {labels.map((l, i) => (
          <text key={i} className="chart-label" x={l.textX.toFixed(1)} y={l.textY.toFixed(1)} data-box={`${l.x.toFixed(1)},${l.y.toFixed(1)},${l.width.toFixed(1)},${l.height.toFixed(1)}`}>{l.text}</text>
        ))}
      </g>
    </svg>
  );
});
