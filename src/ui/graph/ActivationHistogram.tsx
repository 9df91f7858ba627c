/**
 * One calibrated activation of the selected op: its histogram over the values calibration saw
 * (64 bins over [min, max], square-root heights like the weight histogram), the range the variant
 * quantizes it to marked (lines at its ends, what lies outside shaded), and the share of calibration
 * values outside that range, computed from the full-resolution histogram (activation-summary.ts).
 */
import { memo } from 'react';
import type { OpActivation } from '../../app/graph/op-activations';

const num = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4));

/** "x.xx% clipped", the share as the details show it. */
export function clippedText(share: number): string {
  return `${(share * 100).toFixed(2)}% clipped`;
}

export const ActivationHistogram = memo(function ActivationHistogram({ activation, variantLabel }: { activation: OpActivation; variantLabel: string }) {
  const { summary: s, role, position, tensor } = activation;
  const W = 360;
  const H = 90;
  const max = Math.max(1, ...s.counts);
  const bw = W / s.counts.length;
  const span = s.max - s.min;
  // Where a value lies on the drawing; the range may reach beyond what calibration saw.
  const x = (v: number) => (span > 0 ? Math.min(W, Math.max(0, ((v - s.min) / span) * W)) : W / 2);
  const [lo, hi] = s.range;
  const clipped = s.clippedBelow + s.clippedAbove;
  const kept = s.rangeSource === 'quantized';
  return (
    <figure className="gd-hist" data-testid="activation-histogram" data-role={role} data-tensor={tensor} data-clipped={clipped} data-clipped-below={s.clippedBelow} data-clipped-above={s.clippedAbove}
      data-range-min={lo} data-range-max={hi} data-min={s.min} data-max={s.max} data-total={s.total} data-counts={s.counts.join(',')} data-range-source={s.rangeSource} data-samples={s.samples} data-samples-calibrated={s.samplesCalibrated}>
      <svg viewBox={`0 0 ${W} ${H + 16}`} width={W} height={H + 16} role="img"
        aria-label={`Calibrated values of ${tensor}: ${s.total} values from ${num(s.min)} to ${num(s.max)}, range [${num(lo)}, ${num(hi)}], ${clippedText(clipped)}`}>
        {lo > s.min && <rect x={0} y={0} width={x(lo)} height={H} className="gd-clip" />}
        {hi < s.max && <rect x={x(hi)} y={0} width={W - x(hi)} height={H} className="gd-clip" />}
        {s.counts.map((c, i) => {
          const h = c ? Math.max(1, Math.sqrt(c / max) * H) : 0;
          return <rect key={i} x={i * bw + 0.5} y={H - h} width={Math.max(1, bw - 1)} height={h} className="gd-bar gd-act-bar"><title>{c} values</title></rect>;
        })}
        <line x1={x(lo)} x2={x(lo)} y1={0} y2={H} className="gd-range" data-testid="range-min" />
        <line x1={x(hi)} x2={x(hi)} y1={0} y2={H} className="gd-range" data-testid="range-max" />
        <text x={0} y={H + 13} className="gd-axis">{num(s.min)}</text>
        <text x={W} y={H + 13} className="gd-axis" textAnchor="end">{num(s.max)}</text>
      </svg>
      <figcaption className="small">
        <strong>{role === 'in' ? `input ${position}` : `output ${position}`}</strong> <span className="muted" title={tensor}>{tensor.length > 40 ? `…${tensor.slice(-40)}` : tensor}</span>:{' '}
        {kept ? 'quantized to' : 'calibrated range'} [{num(lo)}, {num(hi)}]{kept ? ` in ${variantLabel}` : ` (stays float in ${variantLabel}: not clipped at run time)`};{' '}
        <strong data-testid="clipped-text">{clippedText(clipped)}</strong>
        {clipped > 0 && <span className="muted"> ({(s.clippedBelow * 100).toFixed(2)}% below, {(s.clippedAbove * 100).toFixed(2)}% above)</span>}
        <span className="muted"> · {s.total.toLocaleString('en-US')} calibration values from {num(s.min)} to {num(s.max)}{s.samples < s.samplesCalibrated ? `, from the first ${s.samples} of ${s.samplesCalibrated} calibration samples (min/max ranges need no histogram: only these are binned)` : ''} (√ count scale)</span>
      </figcaption>
    </figure>
  );
});
