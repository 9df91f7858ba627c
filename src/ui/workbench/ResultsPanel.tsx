/**
 * Results: Pareto charts (accuracy or agreement vs size and vs latency, float model as reference,
 * frontier highlighted), the side-by-side table with downloads, and the per-layer error chart of the
 * selected variant, where a layer can be kept in float and the variant re-run.
 */
import { memo, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { LayerComparison } from '../../evaluate/compare';
import { formatBytes } from '../format';
import { answerVerdict, VERDICT_CLASS } from './answer-verdict';
import { reevaluateAll, reevaluateVariant, rerunWithTweak, selectVariant, type Variant, useSession } from '../session';
import type { RunResult } from '../../app/worker-protocol';
import { downloadPng, downloadSvg } from './chart-export';
import { dbText, layerBars, layerCaption, layerName, layerOpIndex } from './layer-bars';
import { accuracyOf, agreementOf, allLabeled, currentKey, evaluatedOnText, intervalText, isStale, qualityOf, referenceAccuracyOf, resultsCsv, taskQualityName, taskQualityOf, taskReferenceOf, type ResultEntry } from './results-model';
import { isBlocking, TARGET_LABELS, type McuEstimate, type TargetIssue } from '../target-check';
import { LayerErrorChart } from './charts/LayerErrorChart';
import { selectOp, useSelection } from '../graph/selection';
import { ParetoChart, type ParetoAxis, type ParetoPoint } from './charts/ParetoChart';
import { PixelCanvas } from './DataPanel';
import { download, modelBaseName } from './download';
import { trainingBadge } from '../../app/training-progress';
import { untrainedLabel } from '../../app/variant-chain';
import { recipeSummary } from './recipe-options';
import { PerClassView } from './PerClassView';

/**
 * Rows in run order, except that a trained variant (QAT, fine-tuned) sits right after the
 * post-training variant it improves on (qat-int8 after int8, prune0.9-finetune-int8 after
 * prune0.9-int8), so PTQ and QAT read side by side.
 */
function sideBySide(done: ResultEntry[]): { variant: ResultEntry; counterpart: ResultEntry | null }[] {
  const byLabel = new Map(done.map((v) => [v.result!.label, v]));
  const counterpartOf = (v: ResultEntry) => {
    const base = untrainedLabel(v.result!.label);
    return base ? (byLabel.get(base) ?? null) : null;
  };
  const placed = new Set<string>();
  const out: { variant: ResultEntry; counterpart: ResultEntry | null }[] = [];
  const place = (v: ResultEntry) => {
    if (placed.has(v.id)) return;
    placed.add(v.id);
    out.push({ variant: v, counterpart: counterpartOf(v) });
    for (const t of done) if (counterpartOf(t)?.id === v.id) place(t);
  };
  for (const v of done) if (!counterpartOf(v)) place(v);
  for (const v of done) place(v);
  return out;
}

function Disagreements({ variant }: { variant: ResultEntry }) {
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
const formatMs = (v: number) => `${v.toFixed(2)} ms`;

/** A chart with its caption and "download as SVG / PNG" buttons. */
function ChartFigure({ testId, caption, fileName, children, legend }: { testId: string; caption: string; fileName: string; children: ReactNode; legend?: ReactNode }) {
  const ref = useRef<HTMLElement>(null);
  const svg = () => ref.current?.querySelector('svg') ?? null;
  return (
    <figure className="chart" data-testid={testId} ref={ref}>
      <figcaption>{caption}</figcaption>
      {children}
      {legend}
      <div className="chart-actions small">
        <button type="button" className="link-button" data-testid="download-svg" onClick={() => { const el = svg(); if (el) downloadSvg(`${fileName}.svg`, el); }}>Download SVG</button>
        <button type="button" className="link-button" data-testid="download-png" onClick={() => { const el = svg(); if (el) void downloadPng(`${fileName}.png`, el); }}>PNG</button>
      </div>
    </figure>
  );
}

const AXIS_FILE: Record<ParetoAxis, string> = { size: 'size', gzip: 'gzip-size', latency: 'latency' };

function Pareto({ points, x, label, quality, base, onSelect }: { points: ParetoPoint[]; x: ParetoAxis; label: string; quality: string; base: string; onSelect: (id: string) => void }) {
  const n = points.find((p) => p.id !== 'float')?.n ?? points[0]?.n;
  return (
    <ChartFigure testId={`pareto-${x}`} caption={`${quality} vs ${label}`} fileName={`${base}-${quality.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-vs-${AXIS_FILE[x]}`}
      legend={<p className="legend-line small"><span className="key key-front" /> Pareto frontier <span className="key key-float" /> float model (hollow diamond) <span className="key key-dom" /> other variants · bars: 95% interval (Wilson), n = {n} samples</p>}>
      <ParetoChart points={points} x={x} label={label} quality={quality} formatX={x === 'latency' ? formatMs : formatBytes} formatQuality={pct} onSelect={onSelect} />
    </ChartFigure>
  );
}

function LayerChart({ variant, base }: { variant: ResultEntry; base: string }) {
  const [picked, setPicked] = useState<LayerComparison | null>(null);
  const layers = variant.result.comparison.perLayer ?? [];
  const bars = useMemo(() => layerBars(layers), [layers]);
  // Bars and the select are keyed by the float model's op numbers; the selection shared with the
  // graph view (src/ui/graph) by the variant's own.
  const pick = useCallback(
    (floatOpIndex: number) => {
      const layer = layers.find((l) => layerOpIndex(l) === floatOpIndex) ?? null;
      setPicked(layer);
      if (layer) selectOp({ model: variant.id, subgraph: 0, opIndex: layer.opIndex });
    },
    [layers, variant.id],
  );
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
      <p className="small muted" data-testid="layer-caption">{layerCaption(variant.result)} Op numbers are the float model's. Click a bar, then keep that op in float and re-run.</p>
      <ChartFigure testId="layer-figure" caption={`SQNR per layer: ${variant.result.label}`} fileName={`${base}-${variant.result.label}-sqnr-per-layer`}>
        <LayerErrorChart bars={bars} picked={picked ? layerOpIndex(picked) : null} lowBelow={20} onPick={pick} />
      </ChartFigure>
      <label className="small">
        Or pick a layer:{' '}
        <select value={picked ? String(layerOpIndex(picked)) : ''} onChange={(e) => (e.target.value === '' ? setPicked(null) : pick(Number(e.target.value)))} data-testid="layer-select">
          <option value="">—</option>
          {layers.map((l) => <option key={`${l.opIndex}-${l.tensorIndex}`} value={layerOpIndex(l)} data-variant-op={l.opIndex}>{layerName(l)} ({dbText(l.sqnrDb)})</option>)}
        </select>
      </label>
      {picked && (
        <p className="layer-action" role="status">
          {layerName(picked)} → <code>{picked.referenceTensor}</code>: SQNR {dbText(picked.sqnrDb)}.{' '}
          <button type="button" className="button button-primary small-button" data-testid="keep-layer-float" onClick={() => keepFloat(picked)}>Keep this op in float and re-run</button>
        </p>
      )}
    </div>
  );
}

/**
 * One entry per variant with a result, the same object while neither the result nor whether it is
 * being re-run changes: progress updates of a running variant do not re-render the charts.
 */
const entries = new WeakMap<RunResult, Map<string, ResultEntry>>();
function entryOf(v: Variant): ResultEntry {
  const rerunning = v.status === 'queued' || v.status === 'running';
  let byKey = entries.get(v.result!);
  if (!byKey) entries.set(v.result!, (byKey = new Map()));
  const k = `${v.id}/${rerunning}`;
  let e = byKey.get(k);
  if (!e) byKey.set(k, (e = { id: v.id, result: v.result!, rerunning }));
  return e;
}

export function ResultsPanel() {
  // Only variants with a result: progress of running ones does not re-render the charts. Deferred, so
  // React renders the charts in interruptible slices instead of one long main-thread task.
  const live = useSession(useShallow((s) => s.variants.filter((v) => v.result).map(entryOf)));
  const done = useDeferredValue(live);
  const selected = useDeferredValue(useSession((s) => s.selected));
  const modelName = useSession((s) => s.modelName) ?? 'model.tflite';
  const modelBytes = useSession((s) => s.modelBytes);
  const target = useSession((s) => s.answers.target);
  const dataStatus = useSession((s) => s.data.status);
  const fingerprint = useSession((s) => s.data.info?.fingerprint ?? null);
  const split = useSession((s) => s.split);
  const highlighted = useSession((s) => s.highlighted);
  const key = useMemo(() => currentKey({ status: dataStatus, info: { fingerprint } }, split, done), [dataStatus, fingerprint, split, done]);
  return <ResultsBody done={done} selected={selected} modelName={modelName} modelBytes={modelBytes} target={target} evaluationKey={key} highlighted={highlighted} />;
}

interface BodyProps {
  done: ResultEntry[];
  selected: string | null;
  modelName: string;
  modelBytes: Uint8Array | null;
  target: keyof typeof TARGET_LABELS;
  evaluationKey: string | null;
  highlighted: string | null;
}

/** A rate with its interval under it (n and 95% CI in the cell's title too). */
function RateCell({ ci, testId }: { ci: ReturnType<typeof qualityOf> | null; testId?: string }) {
  if (!ci || Number.isNaN(ci.rate)) return <td><span data-testid={testId}>—</span></td>;
  return (
    <td title={intervalText(ci)} data-ci-low={ci.low} data-ci-high={ci.high} data-n={ci.n}>
      <span data-testid={testId}>{pct(ci.rate)}</span>
      <div className="ci">{(ci.low * 100).toFixed(1)}–{(ci.high * 100).toFixed(1)}% · n={ci.n}</div>
    </td>
  );
}

const ResultsBody = memo(function ResultsBody({ done, selected, modelName, modelBytes, target, evaluationKey, highlighted }: BodyProps) {
  if (!done.length) {
    return (
      <section className="card panel" aria-labelledby="results-heading" data-testid="results">
        <h2 id="results-heading">4 · Results</h2>
        <p className="empty-inline" data-testid="results-empty">Run a variant to see its accuracy, size and latency next to the float model.</p>
      </section>
    );
  }
  const fresh = done.filter((e) => !isStale(e.result, evaluationKey));
  const stale = done.filter((e) => isStale(e.result, evaluationKey));
  // The float model's figures come from a result measured on the current samples (each result
  // measured the float model on its own samples); only with none does a stale one stand in, marked.
  const first = (fresh[0] ?? done[0]).result;
  const labeled = allLabeled((fresh.length ? fresh : done).map((e) => e.result));
  // Detectors and segmenters: their own measure instead of top-1 agreement, against the data's box
  // labels when it has them (the float model then scores below 100% too), else the float model.
  const task = labeled ? null : taskQualityOf(first);
  const taskName = task ? taskQualityName(task) : null;
  const quality = labeled ? 'Accuracy (top-1)' : (taskName ?? 'Agreement with float');
  const taskRef = task ? taskReferenceOf(first) : null;
  const refCi = labeled ? referenceAccuracyOf(first) : taskRef;
  const floatSize = first.sizes.reference.rawBytes;
  const points: ParetoPoint[] = [
    { id: 'float', name: 'float model', size: floatSize, gzip: first.sizes.reference.gzipBytes, latency: first.referenceLatency.medianMs, quality: refCi?.rate ?? 1, low: refCi?.low ?? 1, high: refCi?.high ?? 1, n: refCi?.n ?? first.comparison.samples },
    ...fresh.map((e) => {
      const q = qualityOf(e.result, labeled);
      return { id: e.id, name: e.result.label, size: e.result.sizes.candidate.rawBytes, gzip: e.result.sizes.candidate.gzipBytes, latency: e.result.latency.medianMs, quality: q.rate, low: q.low, high: q.high, n: q.n };
    }),
  ];
  const sel = done.find((v) => v.id === selected) ?? done[0];
  const select = (id: string) => id !== 'float' && selectVariant(id);
  const base = modelBaseName(modelName);
  const ordered = sideBySide(done);
  const staleNames = stale.map((e) => `${e.result.label} (${evaluatedOnText(e.result)})`).join(', ');
  return (
    <section className="card panel" aria-labelledby="results-heading" data-testid="results">
      <h2 id="results-heading">4 · Results</h2>
      {stale.length > 0 && (
        <p className="small stale-note" role="status" data-testid="stale-note" data-count={stale.length}>
          <strong>{stale.length} result{stale.length === 1 ? ' was' : 's were'} measured on other samples</strong> than {fresh.length ? evaluatedOnText(fresh[0].result) : 'the data loaded now'}: {staleNames}.
          {' '}{stale.length === 1 ? 'It is' : 'They are'} greyed in the table and left out of the charts, not compared as if measured alike. Re-evaluating measures the same models again on the current data (no new optimization).{' '}
          <button type="button" className="button small-button" data-testid="reevaluate-stale" disabled={stale.every((e) => e.rerunning)}
            onClick={() => reevaluateAll(stale.filter((e) => !e.rerunning).map((e) => e.id))}>Re-evaluate {stale.length === 1 ? 'it' : `all ${stale.length}`} on the current data</button>
        </p>
      )}
      {fresh.length > 0 ? (
        <div className="charts">
          <Pareto points={points} x="size" label="Model size" quality={quality} base={base} onSelect={select} />
          <Pareto points={points} x="gzip" label="gzip size (what pruning and clustering save)" quality={quality} base={base} onSelect={select} />
          <Pareto points={points} x="latency" label="Latency (median, LiteRT wasm)" quality={quality} base={base} onSelect={select} />
        </div>
      ) : (
        <p className="empty-inline" data-testid="charts-empty">No result was measured on the current data yet: re-run the variants to chart them.</p>
      )}
      <p className="small how-to" data-testid="how-to-read">
        <strong>How to read this:</strong> each dot is a model; up is better ({labeled ? 'task accuracy on the evaluation split' : taskName ? `${taskName}, on the evaluation data` : 'how often its top-1 matches the float model, on the evaluation data'}), left is smaller / faster. The vertical bars are 95% intervals (Wilson) over {points[0].n} samples: where bars overlap widely, these samples do not tell the models apart; load more data to decide. The orange line joins the models no other model beats on both axes (the Pareto frontier); the hollow diamond is the float model you started from. Ship a point on the frontier whose loss you can accept.
        {first.randomInputs && ' No dataset: compared on random inputs, so agreement says little about real accuracy.'}
      </p>
      <div className="chart-actions small">
        <button type="button" className="button small-button" data-testid="download-csv" onClick={() => download(`${base}-results.csv`, resultsCsv(ordered.map((o) => o.variant), evaluationKey), 'text/csv')}>Download table (CSV)</button>
      </div>
      <div className="table-wrap">
        <table className="results-table" data-testid="results-table">
          <caption className="visually-hidden">Variants side by side</caption>
          <thead>
            <tr>
              <th scope="col">Variant</th><th scope="col">Measured on</th><th scope="col">Accuracy</th><th scope="col">{taskName ?? 'Agreement'}</th><th scope="col">SQNR</th><th scope="col">Size</th><th scope="col">gzip</th>
              <th scope="col">Latency</th><th scope="col">Training</th><th scope="col">Ops in float</th><th scope="col">{TARGET_LABELS[target].split(' (')[0]}</th><th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="result-row-float" className={fresh.length ? '' : 'stale'}>
              <th scope="row">float model</th>
              <td className="small">{evaluatedOnText(first)}</td>
              <RateCell ci={labeled ? refCi : null} testId="cell-accuracy" />{taskRef ? <RateCell ci={taskRef} testId="cell-agreement" /> : <td>100%</td>}<td>∞</td><td>{formatBytes(floatSize)}</td><td>{formatBytes(first.sizes.reference.gzipBytes)}</td>
              <td>{first.referenceLatency.medianMs.toFixed(3)} ms</td><td></td><td>all</td><td></td>
              <td>{modelBytes && <button type="button" className="link-button" onClick={() => download(modelName, modelBytes)}>.tflite</button>}</td>
            </tr>
            {ordered.map(({ variant: v, counterpart }) => {
              const r = v.result!;
              const t = r.training;
              const before = counterpart?.result!.comparison.classification;
              const gain = t && before ? (labeled ? (r.comparison.classification.accuracy?.candidate.top1 ?? NaN) - (before.accuracy?.candidate.top1 ?? NaN) : r.comparison.classification.agreement - before.agreement) : null;
              const acc = r.comparison.classification.accuracy?.candidate.top1;
              const staleRow = isStale(r, evaluationKey);
              const issues = r.targetIssues.filter(isBlocking);
              const warnings = r.targetIssues.filter((i) => i.kind === 'warning').length;
              const name = `${base}-${r.label}.tflite`;
              return (
                <tr key={v.id} data-testid="result-row" data-id={v.id} data-label={r.label} data-accuracy={acc ?? ''} data-agreement={r.comparison.classification.agreement} data-bytes={r.sizes.candidate.rawBytes} data-gzip-bytes={r.sizes.candidate.gzipBytes}
                  data-stale={String(staleRow)} data-samples={r.comparison.samples} className={[v.id === sel.id ? 'selected' : '', staleRow ? 'stale' : '', v.id === highlighted ? 'highlighted' : ''].join(' ').trim()}>
                  <th scope="row">
                    <button type="button" className="link-button" aria-pressed={v.id === sel.id} onClick={() => selectVariant(v.id)}>{r.label}</button>
                    <div className="small muted recipe-summary" data-testid="recipe-summary">{recipeSummary(r.recipe, r.chain?.text)}</div>
                    {staleRow && <span className="stale-badge" data-testid="stale-badge" title={`Measured on ${evaluatedOnText(r)}: not comparable with the current data`}>stale</span>}
                    {v.rerunning && <span className="badge" data-testid="rerunning-badge">running again…</span>}
                    {r.chain && (
                      <div className="small muted" style={{ fontWeight: "normal" }} data-testid="chain-note" data-sparsity={r.chain.sparsity} data-distinct={r.chain.maxDistinct ?? ''} title={r.chain.text}>
                        <code>{r.chain.text}</code>
                        {r.chain.text.includes('prune') && <> · sparsity {pct(r.chain.sparsity)}</>}
                        {r.chain.maxDistinct !== undefined && <> · ≤{r.chain.maxDistinct} values{r.chain.perChannel ? '/channel' : '/tensor'}</>}
                      </div>
                    )}
                  </th>
                  <td className="small" data-testid="cell-evaluated-on">
                    {evaluatedOnText(r)}
                    {staleRow && (
                      <div>
                        <button type="button" className="link-button" data-testid="reevaluate" disabled={v.rerunning} title="Measure this variant's model again on the current data (it is not optimized again)" onClick={() => reevaluateVariant(v.id)}>
                          {v.rerunning ? 're-evaluating…' : 'Re-evaluate on current data'}
                        </button>
                      </div>
                    )}
                  </td>
                  <RateCell ci={accuracyOf(r)} testId="cell-accuracy" />
                  <RateCell ci={taskQualityOf(r) ?? agreementOf(r)} testId="cell-agreement" />
                  <td>{dbText(r.comparison.outputs[0]?.sqnrDb)}</td>
                  <td>{formatBytes(r.sizes.candidate.rawBytes)} <span className="muted">({(r.sizes.candidate.rawBytes / floatSize).toFixed(2)}x)</span></td>
                  <td>{formatBytes(r.sizes.candidate.gzipBytes)}</td>
                  <td>{r.latency.medianMs.toFixed(3)} ms</td>
                  <td>
                    {t && (
                      <div className="small" data-testid="training-badge" data-mode={t.mode} data-lsq={t.lsq?.kept ?? ''} data-epochs={t.epochsDone} data-best-epoch={t.bestEpoch} data-loss={t.loss} data-stopped={t.stopped?.reason ?? ''}
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
      <h3>Per-layer error: {sel.result.label}</h3>
      <LayerChart key={sel.id} variant={sel} base={base} />
      {sel.result.comparison.perClass && <PerClassView key={`${sel.id}:per-class`} label={sel.result.label} summary={sel.result.comparison.perClass} />}
      <Disagreements variant={sel} />
    </section>
  );
});
