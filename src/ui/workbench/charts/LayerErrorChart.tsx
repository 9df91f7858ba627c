/**
 * Per-layer SQNR as plain SVG bars (one per compared intermediate tensor), clickable. Hand-drawn for
 * the same reason as ParetoChart: recharts cost 80-175 ms of main thread per mount here; N bars and
 * at most ~60 labels render in a few milliseconds even for models with hundreds of layers.
 */
import { memo } from 'react';
import { linearScale, niceTicks } from './scale';

export interface LayerBar {
  key: string;
  opIndex: number;
  /** SQNR in dB, clamped for drawing (capped by the caller: see layer-bars.ts). */
  value: number;
  /** Drawn at the cap: the real value (valueText) is written above the bar, with a break mark. */
  capped?: boolean;
  valueText?: string;
  title: string;
}

const WIDTH = 1140;
const HEIGHT = 270;
/**
 * The bottom margin holds labels like "FULLY_CONNECTED #12" rotated by 35 degrees; they run left of
 * their bar, so the left margin leaves room for the first one (~18 characters * 5.5 px * cos 35°).
 */
const MARGIN = { top: 22, right: 20, bottom: 100, left: 96 };
/** More labels than this would overlap: label every k-th bar. */
const MAX_LABELS = 60;

interface Props {
  bars: LayerBar[];
  picked: number | null;
  /** Bars under this value are drawn red (layers quantization hurts). */
  lowBelow: number;
  onPick: (opIndex: number) => void;
}

export const LayerErrorChart = memo(function LayerErrorChart({ bars, picked, lowBelow, onPick }: Props) {
  const values = bars.map((b) => b.value);
  const ticks = niceTicks(Math.min(0, ...values), Math.max(1, ...values), 5);
  const capped = bars.some((b) => b.capped);
  const bottom = HEIGHT - MARGIN.bottom;
  const sy = linearScale([ticks[0], ticks[ticks.length - 1]], [bottom, MARGIN.top]);
  const band = (WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, bars.length);
  const barWidth = Math.max(1, band * 0.8);
  const every = Math.ceil(bars.length / MAX_LABELS);
  const zero = sy(0);
  const x0 = (i: number) => MARGIN.left + band * i + (band - barWidth) / 2;
  return (
    <svg className="chart-svg" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="SQNR per layer">
      <g className="grid" stroke="#ddd" strokeDasharray="3 3">
        {ticks.map((t) => <line key={t} x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={sy(t)} y2={sy(t)} />)}
      </g>
      <g className="axis" fontSize={11} fill="#555">
        <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={zero} y2={zero} stroke="#888" />
        <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={bottom} stroke="#888" />
        {ticks.map((t, i) => <text key={t} x={MARGIN.left - 6} y={sy(t) + 4} textAnchor="end">{capped && i === ticks.length - 1 ? `≥${t}` : t} dB</text>)}
        {bars.map((b, i) => {
          if (i % every) return null;
          const x = MARGIN.left + band * (i + 0.5);
          return <text key={`${b.key}:${i}`} transform={`translate(${x.toFixed(1)},${bottom + 12}) rotate(-35)`} textAnchor="end">{b.key}</text>;
        })}
      </g>
      {bars.map((b, i) => {
        const y = sy(b.value);
        const fill = b.opIndex === picked ? '#e07b00' : b.value < lowBelow ? '#c62828' : '#0b5cad';
        return (
          <g key={`${b.key}:${i}`}>
            <rect className="chart-bar clickable" data-op-index={b.opIndex} data-key={b.key} data-value={b.value} data-capped={b.capped ? 'true' : undefined} x={MARGIN.left + band * i + (band - barWidth) / 2} y={Math.min(y, zero)} width={barWidth} height={Math.max(1, Math.abs(zero - y))} fill={fill} onClick={() => onPick(b.opIndex)}>
              <title>{b.title}</title>
            </rect>
            {b.capped && (
              <>
                {/* A white zig-zag across the top of the bar: it goes on beyond the axis. */}
                <path d={`M${x0(i)},${y + 6}l${barWidth / 3},-3l${barWidth / 3},3l${barWidth / 3},-3`} stroke="#fff" strokeWidth={2} fill="none" />
                <text className="bar-value" x={MARGIN.left + band * (i + 0.5)} y={y - 4} textAnchor="middle" fontSize={10} fill="#333" data-testid="capped-value">{b.valueText}</text>
              </>
            )}
          </g>
        );
      })}
    </svg>
  );
});
