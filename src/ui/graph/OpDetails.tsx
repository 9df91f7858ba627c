/**
 * Details of the selected op: inputs and outputs (shape, dtype, scales, zero points), a histogram of
 * its kernel in real units, the range its output is quantized to, its error in the selected variant,
 * the calibrated activations of its inputs and outputs in that variant (ActivationHistogram),
 * and the actions that re-run that variant with a tweak (keep in float, more bits, fewer bits).
 */
import { memo, useMemo, useState } from 'react';
import type { LayerComparison } from '../../evaluate/compare';
import type { Histogram as HistogramData, OpDetails as Details, TensorFacts } from '../../app/graph/op-facts';
import { bitsTweak, keepFloatTweak, type Tweak } from '../../app/graph/bits-tweak';
import { opActivations } from '../../app/graph/op-activations';
import { needsCalibration } from '../../optimize/recipe';
import { ActivationHistogram } from './ActivationHistogram';
import { formatBytes } from '../format';
import { rerunWithTweak, type Variant } from '../session';

export interface DetailsContext {
  /** The variant the actions re-run (the one shown, or the one selected in the results). */
  variant: Variant | null;
  /** The float model's output tensor of this op (keepFloat scopes name the float model's tensors). */
  floatOutput: string | null;
  layer: LayerComparison | null;
  floatReason: string | null;
  /** The shown model is the float model (so scales are those of the variant only if it is shown). */
  shownIsFloat: boolean;
}

const num = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4));

function params(t: TensorFacts): string {
  if (!t.paramCount) return '—';
  const more = t.paramCount > t.scales.length ? ` … (${t.paramCount} channels, axis ${t.quantizedDimension})` : t.quantizedDimension !== null ? ` (axis ${t.quantizedDimension})` : '';
  return `scale ${t.scales.map(num).join(', ')}; zp ${t.zeroPoints.join(', ')}${more}`;
}

function TensorRows({ role, tensors }: { role: string; tensors: (TensorFacts | null)[] }) {
  return (
    <>
      {tensors.map((t, i) => (
        <tr key={`${role}${i}`} data-testid={`detail-${role}`}>
          <th scope="row">{role} {i}</th>
          {t ? (
            <>
              <td className="gd-name" title={t.name}>{t.name}{t.constant && <span className="badge">const</span>}</td>
              <td>{t.shape.length ? t.shape.join('×') : 'scalar'}</td>
              <td>{t.dtype}</td>
              <td className="small">{params(t)}{t.range && <div className="muted">range [{num(t.range[0])}, {num(t.range[1])}]</div>}</td>
              <td>{formatBytes(t.bytes)}</td>
            </>
          ) : (
            <td colSpan={5} className="muted">omitted (optional input)</td>
          )}
        </tr>
      ))}
    </>
  );
}

export const HistogramChart = memo(function HistogramChart({ data, label, testId }: { data: HistogramData; label: string; testId: string }) {
  const W = 360;
  const H = 110;
  const max = Math.max(1, ...data.counts);
  const bw = W / data.counts.length;
  const zeroX = data.max > data.min && data.min <= 0 && data.max >= 0 ? ((0 - data.min) / (data.max - data.min)) * W : null;
  return (
    <figure className="gd-hist" data-testid={testId} data-total={data.total} data-bins={data.counts.length}>
      <svg viewBox={`0 0 ${W} ${H + 16}`} width={W} height={H + 16} role="img" aria-label={`${label}: ${data.total} values from ${num(data.min)} to ${num(data.max)}`}>
        {data.counts.map((c, i) => {
          // Square-root height so the tails stay visible next to a tall centre bin.
          const h = c ? Math.max(1, Math.sqrt(c / max) * H) : 0;
          return <rect key={i} x={i * bw + 0.5} y={H - h} width={Math.max(1, bw - 1)} height={h} className="gd-bar"><title>{c} values</title></rect>;
        })}
        {zeroX !== null && <line x1={zeroX} x2={zeroX} y1={0} y2={H} className="gd-zero" />}
        <text x={0} y={H + 13} className="gd-axis">{num(data.min)}</text>
        <text x={W} y={H + 13} className="gd-axis" textAnchor="end">{num(data.max)}</text>
      </svg>
      <figcaption className="small muted">{label}: {data.total.toLocaleString('en-US')} values, {((data.zeros / Math.max(1, data.total)) * 100).toFixed(1)}% zeros (√ count scale)</figcaption>
    </figure>
  );
});

/** The op's calibrated activations in the variant, or why there are none. */
function CalibratedActivations({ details, variant }: { details: Details; variant: Variant | null }) {
  const result = variant?.result;
  const label = result?.label ?? 'the variant';
  const found = useMemo(() => (result?.activations ? opActivations(details, result.activations) : []), [details, result?.activations]);
  let why: string | null = null;
  if (!result) why = 'Run an int8 or 16x8 variant to see the activations calibration measured here, the range chosen and the share clipped.';
  else if (!result.activations) {
    why = needsCalibration(result.recipe) && !result.chain
      ? `${label} was saved before calibration summaries were kept: run it again to see its activation histograms.`
      : `${label} was not calibrated (${result.recipe.technique === 'float16' ? 'float16' : result.recipe.technique === 'dynamic' ? 'dynamic range' : result.recipe.technique} keeps activations in float): no activation ranges, nothing clipped.`;
  } else if (!found.length) why = `No calibrated activation of this op in ${label} (only float activations of subgraph 0 are calibrated).`;
  return (
    <div className="gd-hists" data-testid="activation-histograms" data-count={found.length}>
      {why ? <p className="small muted" data-testid="activation-none">{why}</p> : found.map((a) => <ActivationHistogram key={`${a.role}${a.position}`} activation={a} variantLabel={label} />)}
    </div>
  );
}

export function OpDetails({ details, context, onClose }: { details: Details; context: DetailsContext; onClose: () => void }) {
  const [said, setSaid] = useState<string | null>(null);
  const { variant, floatOutput, layer, floatReason } = context;
  const recipe = variant?.result?.recipe ?? variant?.recipe ?? null;
  const tweaks: { key: string; label: string; tweak: Tweak | null }[] = [
    { key: 'keep-float', label: 'Keep in float', tweak: recipe && floatOutput ? keepFloatTweak(recipe, floatOutput) : null },
    { key: 'more-bits', label: 'More bits', tweak: recipe ? bitsTweak(recipe, details.op, 'more') : null },
    { key: 'fewer-bits', label: 'Fewer bits', tweak: recipe ? bitsTweak(recipe, details.op, 'fewer') : null },
  ];
  const run = (t: Tweak | null) => {
    if (!variant || !t?.ok) return;
    rerunWithTweak(variant.id, () => t.recipe);
    setSaid(`Re-running ${variant.result?.label ?? 'the variant'} as a new variant that ${t.says}; it appears under Experiments and in the results when done.`);
  };
  const output = details.outputs[0];
  return (
    <aside className="gd" aria-label={`Details of ${details.op} #${details.opIndex}`} data-testid="op-details" data-op-index={details.opIndex} data-op={details.op}>
      <div className="gd-head">
        <h3>{details.op} <span className="muted">#{details.opIndex}</span>{details.subgraph ? <span className="muted"> · subgraph {details.subgraph}</span> : null}</h3>
        <button type="button" className="link-button" onClick={onClose} aria-label="Close details">close</button>
      </div>
      {layer && <p className="small" data-testid="detail-sqnr">SQNR of <code>{layer.tensor}</code> in {variant?.result?.label}: <strong>{Number.isFinite(layer.sqnrDb) ? `${layer.sqnrDb.toFixed(1)} dB` : '∞'}</strong> (max abs error {num(layer.maxAbsError)})</p>}
      {floatReason && <p className="small" data-testid="detail-float-reason">Kept in float in {variant?.result?.label}: {floatReason}</p>}
      <div className="table-wrap">
        <table className="gd-table">
          <thead><tr><th scope="col"></th><th scope="col">tensor</th><th scope="col">shape</th><th scope="col">dtype</th><th scope="col">quantization</th><th scope="col">bytes</th></tr></thead>
          <tbody>
            <TensorRows role="in" tensors={details.inputs} />
            <TensorRows role="out" tensors={details.outputs} />
          </tbody>
        </table>
      </div>
      <div className="gd-hists">
        {details.weights ? <HistogramChart data={details.weights.histogram} label={`weights ${details.weights.name}`} testId="weight-histogram" /> : <p className="small muted">No kernel weights (not a conv, depthwise, fully connected or transpose conv).</p>}
        <div className="small gd-act" data-testid="activation-range">
          <strong>Output activation</strong>
          {output?.range ? <p>Quantized to [{num(output.range[0])}, {num(output.range[1])}] ({output.dtype}, scale {num(output.scales[0])}, zero point {output.zeroPoints[0]}): the range calibration chose.</p> : <p className="muted">{output ? `${output.dtype}: not quantized per tensor in the model shown.` : 'none'}</p>}
        </div>
      </div>
      <CalibratedActivations details={details} variant={variant} />
      {variant ? (
        <div className="gd-actions" role="group" aria-label="Re-run the variant">
          <span className="small">Re-run <strong>{variant.result?.label ?? 'variant'}</strong>:</span>
          {tweaks.map(({ key, label, tweak }) => (
            <button key={key} type="button" className="button small-button" data-testid={`action-${key}`} disabled={!tweak?.ok} title={tweak ? (tweak.ok ? `Re-run: ${tweak.says}` : tweak.why) : 'Needs the float model’s name of this op (shown float op has no match)'} onClick={() => run(tweak)}>
              {label}
            </button>
          ))}
          {said && <p className="small" role="status" data-testid="action-said">{said}</p>}
        </div>
      ) : (
        <p className="small muted">Run a variant to keep this op in float or change its bits from here.</p>
      )}
    </aside>
  );
}
