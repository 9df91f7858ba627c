/**
 * Results: Pareto charts (accuracy or agreement vs size and vs latency, float model as reference,
 * frontier highlighted), the side-by-side table with downloads, and the per-layer error chart of the
 * selected variant, where a layer can be kept in float and the variant re-run.
 */
import { memo, useDeferredValue, useEffect, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { Bar, BarChart, CartesianGrid, Cell, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { LayerComparison } from '../../evaluate/compare';
import { formatBytes } from '../format';
import { rerunWithTweak, selectVariant, useSession, type Variant } from '../session';
import { isBlocking, TARGET_LABELS } from '../target-check';
import { PixelCanvas } from './DataPanel';
import { download, modelBaseName } from './download';

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
              <span>float: {d.reference}</span>
              <span className="bad">{variant.result!.label}: {d.candidate}</span>
            </figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}

/**
 * Mounts its children in a task of their own, `order` tasks after the rest of the panel: a chart's
 * first render is the most expensive thing on the page, so charts are not all mounted in one task.
 */
function Later({ order, height, children }: { order: number; height: number; children: ReactNode }) {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setReady(true), 150 * order);
    return () => clearTimeout(timer);
  }, [order]);
  return ready ? <>{children}</> : <div style={{ height }} aria-busy="true" />;
}

interface Point {
  id: string;
  name: string;
  size: number;
  latency: number;
  quality: number;
}

function frontier(points: Point[], x: 'size' | 'latency'): Point[] {
  const sorted = [...points].sort((a, b) => a[x] - b[x] || b.quality - a.quality);
  const out: Point[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.quality > best) {
      out.push(p);
      best = p.quality;
    }
  }
  return out;
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${(v * 100).toFixed(1)}%`);
const db = (v: number | undefined) => (v === undefined ? '—' : v === Infinity ? '∞' : `${v.toFixed(1)} dB`);

const Pareto = memo(function Pareto({ points, x, label, quality, onSelect }: { points: Point[]; x: 'size' | 'latency'; label: string; quality: string; onSelect: (id: string) => void }) {
  const front = frontier(points, x);
  const frontIds = new Set(front.map((p) => p.id));
  const reference = points.filter((p) => p.id === 'float');
  const others = points.filter((p) => p.id !== 'float' && !frontIds.has(p.id));
  const onFront = front.filter((p) => p.id !== 'float');
  const qs = points.map((p) => p.quality);
  const span = 1 - Math.min(...qs);
  const step = span > 0.3 ? 0.1 : span > 0.12 ? 0.05 : span > 0.04 ? 0.02 : 0.01;
  const lo = Math.max(0, Math.floor((Math.min(...qs) - step / 2) / step) * step);
  const ticks = Array.from({ length: Math.round((1 - lo) / step) + 1 }, (_, i) => Math.min(1, lo + i * step));
  return (
    <figure className="chart" data-testid={`pareto-${x}`}>
      <figcaption>{quality} vs {label}</figcaption>
        <ScatterChart width={560} height={230} margin={{ top: 10, right: 20, bottom: 24, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" dataKey={x} name={label} domain={[0, 'auto']} tickFormatter={(v: number) => (x === 'size' ? formatBytes(v) : `${v.toFixed(2)} ms`)} label={{ value: label, position: 'insideBottom', offset: -12 }} />
          <YAxis type="number" dataKey="quality" name={quality} domain={[lo, 1]} ticks={ticks} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
          <Tooltip formatter={(value, name) => (name === quality ? pct(Number(value)) : x === 'size' ? formatBytes(Number(value)) : `${Number(value).toFixed(3)} ms`)} labelFormatter={() => ''} />
          <Scatter name="Pareto frontier" data={front} fill="none" line={{ stroke: '#e07b00', strokeWidth: 2 }} shape={() => <g />} legendType="line" isAnimationActive={false} />
          <Scatter name="float model" data={reference} fill="#555" shape="diamond" isAnimationActive={false} />
          <Scatter name="dominated" data={others} fill="#0b5cad" isAnimationActive={false} onClick={(p: unknown) => onSelect((p as { payload?: Point }).payload?.id ?? '')} />
          <Scatter name="on the frontier" data={onFront} fill="#e07b00" isAnimationActive={false} onClick={(p: unknown) => onSelect((p as { payload?: Point }).payload?.id ?? '')} />
        </ScatterChart>
      <p className="legend-line small"><span className="key key-front" /> Pareto frontier <span className="key key-float" /> float model <span className="key key-dom" /> other variants</p>
    </figure>
  );
});

function LayerChart({ variant }: { variant: Variant }) {
  const [picked, setPicked] = useState<LayerComparison | null>(null);
  const layers = variant.result?.comparison.perLayer ?? [];
  if (!layers.length) return <p className="muted">No per-layer comparison for this variant.</p>;
  const data = layers.map((l) => ({ ...l, key: `${l.op} #${l.opIndex}`, sqnr: Number.isFinite(l.sqnrDb) ? Math.max(-10, l.sqnrDb) : 80 }));
  const keepFloat = (layer: LayerComparison) => {
    const name = layer.referenceTensor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rerunWithTweak(variant.id, (r) => ({ ...r, keepFloat: [...r.keepFloat, { tensorNamePattern: `^${name}$` }] }));
    setPicked(null);
  };
  return (
    <div data-testid="layer-chart">
      <p className="small muted">SQNR of every intermediate tensor vs the float model (higher is better; ∞ drawn as 80 dB). Click a bar, then keep that op in float and re-run. The lowest bars are the layers quantization hurts most.</p>
        <BarChart width={1140} height={250} data={data} margin={{ top: 10, right: 20, bottom: 80, left: 40 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="key" angle={-35} textAnchor="end" interval={0} fontSize={11} />
          <YAxis unit=" dB" />
          <Tooltip formatter={(v) => `${Number(v).toFixed(1)} dB`} />
          <Bar dataKey="sqnr" name="SQNR" isAnimationActive={false} onClick={(d: unknown) => setPicked(d as LayerComparison)} cursor="pointer">
            {data.map((d) => <Cell key={d.key} fill={picked?.opIndex === d.opIndex ? '#e07b00' : d.sqnr < 20 ? '#c62828' : '#0b5cad'} />)}
          </Bar>
        </BarChart>
      <label className="small">
        Or pick a layer:{' '}
        <select value={picked ? String(picked.opIndex) : ''} onChange={(e) => setPicked(layers.find((l) => String(l.opIndex) === e.target.value) ?? null)} data-testid="layer-select">
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
  // Charts are redrawn when the queue is idle: a recharts chart costs 100-250 ms of main thread to
  // draw here, which would make the page stutter while runs report progress.
  const busy = useSession((s) => s.variants.some((v) => v.status === 'running' || v.status === 'queued'));
  const [chartDone, setChartDone] = useState(done);
  useEffect(() => {
    if (!busy) setChartDone(done);
  }, [busy, done]);
  return <ResultsBody done={done} chartDone={chartDone} busy={busy} selected={selected} modelName={modelName} modelBytes={modelBytes} target={target} />;
}

interface BodyProps {
  done: Variant[];
  chartDone: Variant[];
  busy: boolean;
  selected: string | null;
  modelName: string;
  modelBytes: Uint8Array | null;
  target: keyof typeof TARGET_LABELS;
}

const ResultsBody = memo(function ResultsBody({ done, chartDone, busy, selected, modelName, modelBytes, target }: BodyProps) {
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
  const points: Point[] = [
    { id: 'float', name: 'float model', size: floatSize, latency: first.referenceLatency.medianMs, quality: refQuality },
    ...chartDone.filter((v) => v.result).map((v) => ({
      id: v.id,
      name: v.result!.label,
      size: v.result!.sizes.candidate.rawBytes,
      latency: v.result!.latency.medianMs,
      quality: labeled ? v.result!.comparison.classification.accuracy!.candidate.top1 : v.result!.comparison.classification.agreement,
    })),
  ];
  const sel = chartDone.find((v) => v.id === selected) ?? chartDone[0] ?? done[0];
  const chartsStale = busy && done.some((v) => !chartDone.includes(v));
  const base = modelBaseName(modelName);
  return (
    <section className="card panel" aria-labelledby="results-heading" data-testid="results">
      <h2 id="results-heading">4 · Results</h2>
      {chartsStale && <p className="small muted" role="status">Charts are redrawn when the running variants finish; the table below is live.</p>}
      {chartDone.length > 0 && <div className="charts">
        <Later order={1} height={260}><Pareto points={points} x="size" label="Model size" quality={quality} onSelect={(id) => id !== 'float' && selectVariant(id)} /></Later>
        <Later order={2} height={260}><Pareto points={points} x="latency" label="Latency (median, LiteRT wasm)" quality={quality} onSelect={(id) => id !== 'float' && selectVariant(id)} /></Later>
      </div>}
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
              <th scope="col">Latency</th><th scope="col">Ops in float</th><th scope="col">{TARGET_LABELS[target].split(' (')[0]}</th><th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="result-row-float">
              <th scope="row">float model</th>
              <td>{labeled ? pct(refQuality) : '—'}</td><td>100%</td><td>∞</td><td>{formatBytes(floatSize)}</td><td>{formatBytes(first.sizes.reference.gzipBytes)}</td>
              <td>{first.referenceLatency.medianMs.toFixed(3)} ms</td><td>all</td><td></td>
              <td>{modelBytes && <button type="button" className="link-button" onClick={() => download(modelName, modelBytes)}>.tflite</button>}</td>
            </tr>
            {done.map((v) => {
              const r = v.result!;
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
                  <td title={r.floatOps.map((f) => `${f.op} #${f.opIndex}: ${f.reason}`).join('\n')}>{r.floatOps.length}</td>
                  <td data-testid="target-check">
                    {r.mcu && (
                      <div className="small" data-testid="mcu-estimate" data-arena={r.mcu.arenaBytes} data-flash={r.mcu.flashBytes} title={r.mcu.notes.join('\n')}>
                        flash {formatBytes(r.mcu.flashBytes)} · arena ~{formatBytes(r.mcu.arenaBytes)} <span className="muted">(+ a few KB)</span>
                      </div>
                    )}
                    {r.webgpu && (
                      <div className="small" data-testid="webgpu-check" data-status={r.webgpu.status} title={r.webgpu.details.join('\n')}>
                        {r.webgpu.message}
                      </div>
                    )}
                    {r.targetIssues.length === 0 ? <span className="ok">ok</span> : (
                      <details><summary>{issues.length ? `${issues.length} issue(s)` : warnings ? `${warnings} warning(s)` : 'note'}</summary><ul className="small">{r.targetIssues.map((i, k) => <li key={k}>{i.message}</li>)}</ul></details>
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
      {chartDone.includes(sel) ? <Later order={3} height={300}><LayerChart key={sel.id} variant={sel} /></Later> : <p className="muted small">Drawn when the running variants finish.</p>}
      <Disagreements variant={sel} />
    </section>
  );
});
