/**
 * Results: Pareto charts (accuracy or agreement vs size and vs latency, float model as reference,
 * frontier highlighted), the side-by-side table with downloads, and the per-layer error chart of the
 * selected variant, where a layer can be kept in float and the variant re-run.
 */
import { memo, useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { LayerComparison } from '../../evaluate/compare';
import { formatBytes } from '../format';
import { answerVerdict, VERDICT_CLASS } from './answer-verdict';
import { rerunWithTweak, selectVariant, useSession, type Variant } from '../session';
import { isBlocking, TARGET_LABELS, type McuEstimate, type TargetIssue } from '../target-check';
import { LayerErrorChart } from './charts/LayerErrorChart';
import { selectOp, useSelection } from '../graph/selection';
import { ParetoChart, type ParetoPoint } from './charts/ParetoChart';
import { PixelCanvas } from './DataPanel';
import { download, modelBaseName } from './download';
import { trainingBadge } from '../../app/training-progress';
import { untrainedLabel } from '../../app/variant-chain';

/**
 * Rows in run order, except that a trained variant (QAT, fine-tuned) sits right after the
 * post-training variant it improves on (qat-int8 after int8, prune0.9-finetune-int8 after
 * prune0.9-int8), so PTQ and QAT read side by side.
 */
function sideBySide(done: Variant[]): { variant: Variant; counterpart: Variant | null }[] {
  const byLabel = new Map(done.map((v) => [v.result!.label, v]));
  const counterpartOf = (v: Variant) => {
    const base = untrainedLabel(v.result!.label);
    return base ? (byLabel.get(base) ?? null) : null;
  };
  const placed = new Set<string>();
  const out: { variant: Variant; counterpart: Variant | null }[] = [];
  const place = (v: Variant) => {
    if (placed.has(v.id)) return;
    placed.add(v.id);
    out.push({ variant: v, counterpart: counterpartOf(v) });
    for (const t of done) if (counterpartOf(t)?.id === v.id) place(t);
  };
  for (const v of done) if (!counterpartOf(v)) place(v);
  for (const v of done) place(v);
  return out;
}

function Disagreements({ variant }: { variant: Variant }) {
  const items = variant.result?.disagreements ?? [];
  if (!items.length) return null;
  return (
    <div data-testid="disagreements">
      <h3>Where {variant.result!.label} and the float model disagree</h3>
      <div className="preview">
        {items.map((d) => (
          <figure className="thumb" key={d.name}>
            {d.rgba ? <PixelCanvas rgba={d.rgba} width={d.width} height={d.height} label={`input ${d.name}`} /> : <div className="thumb-none">not an image</div>}
            <figcaption>
              <span className="thumb-name" title={d.name}>{d.name.split('/').pop()}</span>
              {d.label !== null && <span>label <strong>{d.label}</strong></span>}
              <span className={VERDICT_CLASS[answerVerdict(d.reference, d.label)]}>float: {d.reference}</span>
              <span className={VERDICT_CLASS[answerVerdict(d.candidate, d.label)]}>{variant.result!.label}: {d.candidate}</span>
            </figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}

/**
 * Microcontroller target: flash and tensor arena estimate, and whether TFLite Micro has a kernel for
 * every op (the op list decides whether the model can run at all, so it is shown, not only counted).
 */
function McuSummary({ mcu, issues }: { mcu: McuEstimate; issues: TargetIssue[] }) {
  const missing = issues.filter((i) => i.kind === 'unsupported-op');
  return (
    <div className="small" data-testid="mcu-estimate" data-arena={mcu.arenaBytes} data-flash={mcu.flashBytes} data-missing-ops={missing.length} title={mcu.notes.join('\n')}>
      flash {formatBytes(mcu.flashBytes)} · arena ~{formatBytes(mcu.arenaBytes)} <span className="muted">(+ a few KB)</span>
      <div data-testid="mcu-ops" className={missing.length ? 'bad' : 'ok'}>
        {missing.length ? `${missing.length} op type(s) without a TFLM kernel` : 'every op has a TFLM kernel'}
      </div>
    </div>
  );
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${(v * 100).toFixed(1)}%`);
const db = (v: number | undefined) => (v === undefined ? '—' : v === Infinity ? '∞' : `${v.toFixed(1)} dB`);
const formatMs = (v: number) => `${v.toFixed(2)} ms`;

function Pareto({ points, x, label, quality, onSelect }: { points: ParetoPoint[]; x: 'size' | 'latency'; label: string; quality: string; onSelect: (id: string) => void }) {
  return (
    <figure className="chart" data-testid={`pareto-${x}`}>
      <figcaption>{quality} vs {label}</figcaption>
      <ParetoChart points={points} x={x} label={label} quality={quality} formatX={x === 'size' ? formatBytes : formatMs} formatQuality={pct} onSelect={onSelect} />
      <p className="legend-line small"><span className="key key-front" /> Pareto frontier <span className="key key-float" /> float model <span className="key key-dom" /> other variants</p>
    </figure>
  );
}

/** Where the chart draws an infinite SQNR (identical tensors), and the floor for very bad layers. */
const SQNR_TOP = 80;
const SQNR_FLOOR = -10;

function LayerChart({ variant }: { variant: Variant }) {
  const [picked, setPicked] = useState<LayerComparison | null>(null);
  const layers = variant.result?.comparison.perLayer ?? [];
  const bars = useMemo(
    () => layers.map((l) => ({ key: `${l.op} #${l.opIndex}`, opIndex: l.opIndex, value: Number.isFinite(l.sqnrDb) ? Math.max(SQNR_FLOOR, l.sqnrDb) : SQNR_TOP, title: `${l.op} #${l.opIndex}: SQNR ${db(l.sqnrDb)}` })),
    [layers],
  );
  const pick = useCallback((opIndex: number) => {
    setPicked(layers.find((l) => l.opIndex === opIndex) ?? null);
    selectOp({ model: variant.id, subgraph: 0, opIndex });
  }, [layers, variant.id]);
  // The op selected in the graph (src/ui/graph) is picked here too.
  const shared = useSelection((s) => s.selectedOp);
  useEffect(() => {
    if (shared?.model === variant.id && shared.subgraph === 0) setPicked(layers.find((l) => l.opIndex === shared.opIndex) ?? null);
  }, [shared, variant.id, layers]);
  if (!layers.length) return <p className="muted">No per-layer comparison for this variant.</p>;
  const keepFloat = (layer: LayerComparison) => {
    const name = layer.referenceTensor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rerunWithTweak(variant.id, (r) => ({ ...r, keepFloat: [...r.keepFloat, { tensorNamePattern: `^${name}$` }] }));
    setPicked(null);
  };
  return (
    <div data-testid="layer-chart">
      <p className="small muted">SQNR of every intermediate tensor vs the float model (higher is better; ∞ drawn as {SQNR_TOP} dB). Click a bar, then keep that op in float and re-run. The lowest bars are the layers quantization hurts most.</p>
      <LayerErrorChart bars={bars} picked={picked?.opIndex ?? null} lowBelow={20} onPick={pick} />
      <label className="small">
        Or pick a layer:{' '}
        <select value={picked ? String(picked.opIndex) : ''} onChange={(e) => (e.target.value === '' ? setPicked(null) : pick(Number(e.target.value)))} data-testid="layer-select">
          <option value="">—</option>
          {layers.map((l) => <option key={`${l.opIndex}-${l.tensorIndex}`} value={l.opIndex}>{l.op} #{l.opIndex} ({db(l.sqnrDb)})</option>)}
        </select>
      </label>
      {picked && (
        <p className="layer-action" role="status">
          {picked.op} #{picked.opIndex} → <code>{picked.referenceTensor}</code>: SQNR {db(picked.sqnrDb)}.{' '}
          <button type="button" className="button button-primary small-button" data-testid="keep-layer-float" onClick={() => keepFloat(picked)}>Keep this op in float and re-run</button>
        </p>
      )}
    </div>
  );
}

export function ResultsPanel() {
  // Only finished variants: progress of running ones does not re-render the charts. Deferred, so
  // React renders the charts in interruptible slices instead of one long main-thread task.
  const doneLive = useSession(useShallow((s) => s.variants.filter((v) => v.status === 'done' && v.result)));
  const done = useDeferredValue(doneLive);
  const selected = useDeferredValue(useSession((s) => s.selected));
  const modelName = useSession((s) => s.modelName) ?? 'model.tflite';
  const modelBytes = useSession((s) => s.modelBytes);
  const target = useSession((s) => s.answers.target);
  return <ResultsBody done={done} selected={selected} modelName={modelName} modelBytes={modelBytes} target={target} />;
}

interface BodyProps {
  done: Variant[];
  selected: string | null;
  modelName: string;
  modelBytes: Uint8Array | null;
  target: keyof typeof TARGET_LABELS;
}

const ResultsBody = memo(function ResultsBody({ done, selected, modelName, modelBytes, target }: BodyProps) {
  if (!done.length) {
    return (
      <section className="card panel" aria-labelledby="results-heading" data-testid="results">
        <h2 id="results-heading">4 · Results</h2>
        <p className="empty-inline" data-testid="results-empty">Run a variant to see its accuracy, size and latency next to the float model.</p>
      </section>
    );
  }
  const first = done[0].result!;
  const labeled = done.every((v) => v.result!.comparison.classification.accuracy);
  const quality = labeled ? 'Accuracy (top-1)' : 'Agreement with float';
  const refQuality = labeled ? first.comparison.classification.accuracy!.reference.top1 : 1;
  const floatSize = first.sizes.reference.rawBytes;
  const points: ParetoPoint[] = [
    { id: 'float', name: 'float model', size: floatSize, latency: first.referenceLatency.medianMs, quality: refQuality },
    ...done.map((v) => ({
      id: v.id,
      name: v.result!.label,
      size: v.result!.sizes.candidate.rawBytes,
      latency: v.result!.latency.medianMs,
      quality: labeled ? v.result!.comparison.classification.accuracy!.candidate.top1 : v.result!.comparison.classification.agreement,
    })),
  ];
  const sel = done.find((v) => v.id === selected) ?? done[0];
  const select = (id: string) => id !== 'float' && selectVariant(id);
  const base = modelBaseName(modelName);
  return (
    <section className="card panel" aria-labelledby="results-heading" data-testid="results">
      <h2 id="results-heading">4 · Results</h2>
      <div className="charts">
        <Pareto points={points} x="size" label="Model size" quality={quality} onSelect={select} />
        <Pareto points={points} x="latency" label="Latency (median, LiteRT wasm)" quality={quality} onSelect={select} />
      </div>
      <p className="small how-to" data-testid="how-to-read">
        <strong>How to read this:</strong> each dot is a model; up is better ({labeled ? 'task accuracy on the evaluation split' : 'how often its top-1 matches the float model, on the evaluation data'}), left is smaller / faster. The orange line joins the models no other model beats on both axes (the Pareto frontier); the grey diamond is the float model you started from. Ship a point on the frontier whose loss you can accept.
        {first.randomInputs && ' No dataset: compared on random inputs, so agreement says little about real accuracy.'}
      </p>
      <div className="table-wrap">
        <table className="results-table" data-testid="results-table">
          <caption className="visually-hidden">Variants side by side</caption>
          <thead>
            <tr>
              <th scope="col">Variant</th><th scope="col">Accuracy</th><th scope="col">Agreement</th><th scope="col">SQNR</th><th scope="col">Size</th><th scope="col">gzip</th>
              <th scope="col">Latency</th><th scope="col">Training</th><th scope="col">Ops in float</th><th scope="col">{TARGET_LABELS[target].split(' (')[0]}</th><th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="result-row-float">
              <th scope="row">float model</th>
              <td>{labeled ? pct(refQuality) : '—'}</td><td>100%</td><td>∞</td><td>{formatBytes(floatSize)}</td><td>{formatBytes(first.sizes.reference.gzipBytes)}</td>
              <td>{first.referenceLatency.medianMs.toFixed(3)} ms</td><td></td><td>all</td><td></td>
              <td>{modelBytes && <button type="button" className="link-button" onClick={() => download(modelName, modelBytes)}>.tflite</button>}</td>
            </tr>
            {sideBySide(done).map(({ variant: v, counterpart }) => {
              const r = v.result!;
              const t = r.training;
              const before = counterpart?.result!.comparison.classification;
              const gain = t && before ? (labeled ? (r.comparison.classification.accuracy?.candidate.top1 ?? NaN) - (before.accuracy?.candidate.top1 ?? NaN) : r.comparison.classification.agreement - before.agreement) : null;
              const acc = r.comparison.classification.accuracy?.candidate.top1;
              const issues = r.targetIssues.filter(isBlocking);
              const warnings = r.targetIssues.filter((i) => i.kind === 'warning').length;
              const name = `${base}-${r.label}.tflite`;
              return (
                <tr key={v.id} data-testid="result-row" data-label={r.label} data-accuracy={acc ?? ''} data-agreement={r.comparison.classification.agreement} data-bytes={r.sizes.candidate.rawBytes} className={v.id === sel.id ? 'selected' : ''}>
                  <th scope="row">
                    <button type="button" className="link-button" aria-pressed={v.id === sel.id} onClick={() => selectVariant(v.id)}>{r.label}</button>
                    {r.chain && (
                      <div className="small muted" style={{ fontWeight: "normal" }} data-testid="chain-note" data-sparsity={r.chain.sparsity} data-distinct={r.chain.maxDistinct ?? ''} title={r.chain.text}>
                        <code>{r.chain.text}</code>
                        {r.chain.text.includes('prune') && <> · sparsity {pct(r.chain.sparsity)}</>}
                        {r.chain.maxDistinct !== undefined && <> · ≤{r.chain.maxDistinct} values{r.chain.perChannel ? '/channel' : '/tensor'}</>}
                      </div>
                    )}
                  </th>
                  <td data-testid="cell-accuracy">{pct(acc)}</td>
                  <td>{pct(r.comparison.classification.agreement)}</td>
                  <td>{db(r.comparison.outputs[0]?.sqnrDb)}</td>
                  <td>{formatBytes(r.sizes.candidate.rawBytes)} <span className="muted">({(r.sizes.candidate.rawBytes / floatSize).toFixed(2)}x)</span></td>
                  <td>{formatBytes(r.sizes.candidate.gzipBytes)}</td>
                  <td>{r.latency.medianMs.toFixed(3)} ms</td>
                  <td>
                    {t && (
                      <div className="small" data-testid="training-badge" data-mode={t.mode} data-epochs={t.epochsDone} data-best-epoch={t.bestEpoch} data-loss={t.loss} data-stopped={t.stopped?.reason ?? ''}
                        title={`batch ${t.batchSize}, learning rate ${t.learningRate}, ${t.trainSamples} training samples (calibration${t.trainSamples ? ' + training split' : ''}; evaluation samples never trained on), ${(t.elapsedMs / 1000).toFixed(1)} s on ${t.backend}`}>
                        <span className="badge">{trainingBadge(t)}</span>
                        {gain !== null && Number.isFinite(gain) && (
                          <div data-testid="training-gain" data-gain={gain} className={gain >= 0 ? 'ok' : 'bad'}>
                            {gain >= 0 ? '+' : ''}{(gain * 100).toFixed(1)} pt vs {counterpart!.result!.label}
                          </div>
                        )}
                      </div>
                    )}
                  </td>
                  <td title={r.floatOps.map((f) => `${f.op} #${f.opIndex}: ${f.reason}`).join('\n')}>{r.floatOps.length}</td>
                  <td data-testid="target-check">
                    {r.mcu && <McuSummary mcu={r.mcu} issues={r.targetIssues} />}
                    {r.webgpu && (
                      <div className="small" data-testid="webgpu-check" data-status={r.webgpu.status} title={r.webgpu.details.join('\n')}>
                        {r.webgpu.message}
                      </div>
                    )}
                    {r.targetIssues.length === 0 ? <span className="ok">ok</span> : (
                      <details><summary>{issues.length ? `${issues.length} issue(s)` : warnings ? `${warnings} warning(s)` : 'note'}</summary><ul className="small">{r.targetIssues.map((i, k) => <li key={k} data-testid="target-issue" data-kind={i.kind}>{i.message}</li>)}</ul></details>
                    )}
                  </td>
                  <td className="downloads">
                    <button type="button" className="link-button" data-testid="download-tflite" onClick={() => download(name, r.bytes)}>.tflite</button>
                    <button type="button" className="link-button" onClick={() => download(`${base}-${r.label}.report.json`, r.reportJson, 'application/json')}>report.json</button>
                    <button type="button" className="link-button" onClick={() => download(`${base}-${r.label}.report.md`, r.reportMarkdown, 'text/markdown')}>report.md</button>
                    <button type="button" className="link-button" onClick={() => download(`${base}-${r.label}.recipe.json`, `${JSON.stringify(r.chain ? { chain: r.chain.text, recipe: r.recipe } : r.recipe, null, 2)}\n`, 'application/json')}>recipe</button>
                    {!r.chain && <button type="button" className="link-button" onClick={() => download(`${base}-${r.label}.aeq-recipe.json`, r.aeqRecipeJson, 'application/json')}>AEQ recipe</button>}
                    {r.overlayJson && <button type="button" className="link-button" onClick={() => download(`${base}-${r.label}.model-explorer.json`, r.overlayJson!, 'application/json')}>Model Explorer overlay</button>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h3>Per-layer error: {sel.result!.label}</h3>
      <LayerChart key={sel.id} variant={sel} />
      <Disagreements variant={sel} />
    </section>
  );
});
