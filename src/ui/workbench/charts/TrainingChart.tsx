/**
 * Live training curves as plain SVG (same reason as ParetoChart: recharts cost 80-175 ms of main
 * thread per mount): batch loss per step on the left axis, batch accuracy on the right (0-100%),
 * and the held-out validation loss / accuracy as markers at each epoch end. A few hundred points are
 * two polylines, so re-rendering on every progress batch costs a millisecond or two.
 */
import { memo } from 'react';
import type { TrainingPoint } from '../../../app/training-progress';
import { linearScale, niceTicks } from './scale';

const WIDTH = 520;
const HEIGHT = 232;
/** The bottom margin holds the step axis and, under it, the legend. */
const MARGIN = { top: 10, right: 44, bottom: 62, left: 48 };
const COLORS = { loss: '#0b5cad', accuracy: '#e07b00' };

interface Props {
  points: TrainingPoint[];
  epochs: number;
  stepsPerEpoch: number;
}

export const TrainingChart = memo(function TrainingChart({ points, epochs, stepsPerEpoch }: Props) {
  const steps = points.filter((p) => p.phase === 'train' && Number.isFinite(p.loss));
  const validation = points.filter((p) => p.phase === 'validate' && p.validationLoss !== undefined && Number.isFinite(p.validationLoss));
  const total = Math.max(1, epochs * stepsPerEpoch, ...points.map((p) => p.x));
  const losses = [...steps.map((p) => p.loss), ...validation.map((p) => p.validationLoss!)];
  const xTicks = niceTicks(0, total, 5);
  const yTicks = niceTicks(0, Math.max(1e-3, ...losses), 4);
  const sx = linearScale([0, xTicks[xTicks.length - 1]], [MARGIN.left, WIDTH - MARGIN.right]);
  const sy = linearScale([0, yTicks[yTicks.length - 1]], [HEIGHT - MARGIN.bottom, MARGIN.top]);
  const sa = linearScale([0, 1], [HEIGHT - MARGIN.bottom, MARGIN.top]);
  const bottom = HEIGHT - MARGIN.bottom;
  const line = (ps: TrainingPoint[], y: (p: TrainingPoint) => number) => ps.map((p) => `${sx(p.x).toFixed(1)},${y(p).toFixed(1)}`).join(' ');
  const withAccuracy = steps.filter((p) => p.accuracy !== null);
  const epochLines = Array.from({ length: Math.max(0, epochs - 1) }, (_, i) => (i + 1) * stepsPerEpoch).filter((x) => x > 0 && x < total);
  return (
    <svg className="chart-svg" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Training loss and accuracy per step" data-testid="training-chart" data-points={steps.length} data-validation-points={validation.length}>
      <g className="grid" stroke="#ddd" strokeDasharray="3 3">
        {yTicks.map((t) => <line key={`y${t}`} x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={sy(t)} y2={sy(t)} />)}
        {epochLines.map((x) => <line key={`e${x}`} x1={sx(x)} x2={sx(x)} y1={MARGIN.top} y2={bottom} stroke="#bbb" strokeDasharray="2 4" />)}
      </g>
      <g className="axis" fontSize={11} fill="#555">
        <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={bottom} y2={bottom} stroke="#888" />
        {xTicks.map((t) => <text key={`x${t}`} x={sx(t)} y={bottom + 14} textAnchor="middle">{t}</text>)}
        {yTicks.map((t) => <text key={`y${t}`} x={MARGIN.left - 6} y={sy(t) + 4} textAnchor="end" fill={COLORS.loss}>{t}</text>)}
        {[0, 0.5, 1].map((t) => <text key={`a${t}`} x={WIDTH - MARGIN.right + 6} y={sa(t) + 4} fill={COLORS.accuracy}>{Math.round(t * 100)}%</text>)}
        <text x={(MARGIN.left + WIDTH - MARGIN.right) / 2} y={bottom + 26} textAnchor="middle">step (dashed lines: epochs)</text>
      </g>
      <polyline points={line(steps, (p) => sy(p.loss))} fill="none" stroke={COLORS.loss} strokeWidth={1.5} data-testid="training-loss" />
      <polyline points={line(withAccuracy, (p) => sa(p.accuracy!))} fill="none" stroke={COLORS.accuracy} strokeWidth={1.5} strokeOpacity={0.8} data-testid="training-accuracy" />
      {validation.map((p) => (
        <g key={`v${p.epoch}`}>
          <rect x={sx(p.x) - 4} y={sy(p.validationLoss!) - 4} width={8} height={8} fill={COLORS.loss}>
            <title>{`epoch ${p.epoch}: validation loss ${p.validationLoss!.toFixed(4)}`}</title>
          </rect>
          {p.validationAccuracy != null && (
            <rect x={sx(p.x) - 4} y={sa(p.validationAccuracy) - 4} width={8} height={8} fill={COLORS.accuracy}>
              <title>{`epoch ${p.epoch}: validation accuracy ${(p.validationAccuracy * 100).toFixed(1)}%`}</title>
            </rect>
          )}
        </g>
      ))}
      {/* Legend under the axis, where no curve can run under it. */}
      <g className="legend" data-testid="training-legend" fontSize={10} fill="#333" transform={`translate(${MARGIN.left},${bottom + 32})`}>
        <line x1={0} x2={16} y1={7} y2={7} stroke={COLORS.loss} strokeWidth={1.5} /><text x={20} y={10}>batch loss (left axis)</text>
        <line x1={130} x2={146} y1={7} y2={7} stroke={COLORS.accuracy} strokeWidth={1.5} /><text x={150} y={10}>batch accuracy (right)</text>
        <rect x={4} y={16} width={8} height={8} fill={COLORS.loss} /><text x={20} y={24}>validation loss</text>
        <rect x={134} y={16} width={8} height={8} fill={COLORS.accuracy} /><text x={150} y={24}>validation accuracy</text>
      </g>
    </svg>
  );
});
