/**
 * The search's candidates on the size / latency plane (objective both): a plain SVG scatter like
 * ParetoChart, latency bars from min to p90 of the timed runs, the front joined by a line, the
 * candidates that miss the budget hollow.
 */
import { memo } from 'react';
import { XYAxes } from '../workbench/charts/XYAxes';
import { linearScale, niceTicks } from '../workbench/charts/scale';
import type { SizeLatencyPoint } from './search-front';

const WIDTH = 560;
const HEIGHT = 230;
const MARGIN = { top: 10, right: 30, bottom: 36, left: 56 };

interface Props {
  points: SizeLatencyPoint[];
  formatBytes: (bytes: number) => string;
}

export const SizeLatencyPlot = memo(function SizeLatencyPlot({ points, formatBytes }: Props) {
  const xTicks = niceTicks(0, Math.max(...points.map((p) => p.bytes), 1), 4);
  const yTicks = niceTicks(0, Math.max(...points.map((p) => p.p90Ms), 1e-3), 4);
  const sx = linearScale([0, xTicks[xTicks.length - 1]], [MARGIN.left, WIDTH - MARGIN.right]);
  const sy = linearScale([0, yTicks[yTicks.length - 1]], [HEIGHT - MARGIN.bottom, MARGIN.top]);
  const front = points.filter((p) => p.front).sort((a, b) => a.bytes - b.bytes);
  return (
    <svg className="chart-svg" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="latency vs file size" data-testid="search-latency-plot">
      <XYAxes width={WIDTH} height={HEIGHT} margin={MARGIN} xTicks={xTicks} yTicks={yTicks} sx={sx} sy={sy} formatX={formatBytes} formatY={(t) => `${t} ms`} label="file size (latency: 10th percentile of 100 runs, bar min to p90)" />
      <polyline points={front.map((p) => `${sx(p.bytes).toFixed(1)},${sy(p.latencyMs).toFixed(1)}`).join(' ')} fill="none" stroke="#e07b00" strokeWidth={2} data-testid="latency-front" />
      {points.map((p) => {
        const cx = sx(p.bytes);
        const title = `${p.name}: ${formatBytes(p.bytes)}, ${p.latencyMs.toFixed(2)} ms (10th percentile; median ${p.medianMs.toFixed(2)}, min ${p.minMs.toFixed(2)}, p90 ${p.p90Ms.toFixed(2)})${p.meets ? '' : ', misses the budget'}${p.front ? ', on the front' : ''}`;
        const color = p.front ? '#e07b00' : '#0b5cad';
        return (
          <g key={p.id} className="chart-point" data-id={p.id} data-kind={p.front ? 'front' : p.meets ? 'dominated' : 'misses'}>
            <line x1={cx} x2={cx} y1={sy(p.minMs)} y2={sy(p.p90Ms)} stroke="#777" />
            <circle cx={cx} cy={sy(p.latencyMs)} r={5} fill={p.meets ? color : 'white'} stroke={color} strokeWidth={1.5}>
              <title>{title}</title>
            </circle>
          </g>
        );
      })}
    </svg>
  );
});
