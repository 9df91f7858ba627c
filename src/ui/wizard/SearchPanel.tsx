/**
 * "Find it for me": the precision search in the optimizer worker, with live candidates, cancel, the
 * pick confirmed on samples the search never saw, and one click to add the pick as a variant.
 */
import { useRef, useState } from 'react';
import * as Comlink from 'comlink';
import type { SearchOutcome } from '../../app/run-search';
import type { Candidate, SearchEvent, SearchObjective } from '../../app/search/precision-search';
import { formatQuality, QUALITY_METRICS, RATE_METRICS, type QualityMetric } from '../../evaluate/quality';
import { ParetoChart } from '../workbench/charts/ParetoChart';
import { frontPoints, sizeLatencyPoints } from './search-front';
import { SizeLatencyPlot } from './SizeLatencyPlot';
import { SENSITIVITY_COLUMNS } from '../../app/search/sensitivity';
import { TARGET_LABELS } from '../../evaluate/target-check';
import { defaultRecipe, type Granularity, type Recipe } from '../../optimize/recipe';
import { formatBytes } from '../../format-bytes';
import { callWorker, optimizerWorker } from '../optimizer-client';
import { useShallow } from 'zustand/react/shallow';
import { addVariants, runVariant, useSession } from '../session';
import { recipeSummary } from '../workbench/recipe-options';
import type { SparsityAsk } from '../../app/search/sparse-forms';

/** The pruned / clustered columns the page asks for: the pruning and clustering defaults people start from. */
const SPARSITY_ASK: SparsityAsk = { prune: 0.5, clusters: 16 };

const show = (metric: QualityMetric, value: number) => formatQuality(metric, value);

type Running = { runId: string; candidates: Candidate[]; evaluations: number; maxEvaluations: number; stage: string };

export function SearchPanel() {
  const dataReady = useSession((s) => s.data.status === 'ready');
  const floatBytes = useSession((s) => s.modelBytes?.length ?? 0);
  const split = useSession((s) => s.split);
  const target = useSession((s) => s.answers.target);
  const [budget, setBudget] = useState('1');
  const [metric, setMetric] = useState<QualityMetric | 'auto'>('auto');
  const [objective, setObjective] = useState<SearchObjective>('size');
  const [granularity, setGranularity] = useState<Granularity>('per-channel');
  // The search may start from a variant's recipe: what the graph's "keep in float" / "more bits" /
  // "fewer bits" actions (or the experiments panel) set there stays as the search varies the rest.
  const [from, setFrom] = useState<string>('default');
  const [sparsity, setSparsity] = useState(false);
  const startingPoints = useSession(useShallow((s) => s.variants.filter((v) => (v.recipe.technique === 'int8' || v.recipe.technique === 'int16x8') && !v.steps)));
  const fromVariant = startingPoints.find((v) => v.id === from);
  const [running, setRunning] = useState<Running | null>(null);
  const [outcome, setOutcome] = useState<SearchOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const runIdRef = useRef(0);
  const budgetValue = Number(budget);
  const invalid = !Number.isFinite(budgetValue) ? 'The budget must be a number.' : null;

  const start = async () => {
    const runId = `search-${++runIdRef.current}`;
    setOutcome(null);
    setError(null);
    setRunning({ runId, candidates: [], evaluations: 0, maxEvaluations: 30, stage: 'starting' });
    const onEvent = (event: SearchEvent) =>
      setRunning((r) =>
        r && r.runId === runId
          ? event.kind === 'stage'
            ? { ...r, stage: event.stage, maxEvaluations: event.maxEvaluations }
            : { ...r, candidates: [...r.candidates, event.candidate], evaluations: event.evaluations, maxEvaluations: event.maxEvaluations }
          : r,
      );
    try {
      const recipe = fromVariant ? fromVariant.recipe : { ...defaultRecipe('int8'), granularity };
      const settings = { recipe, budget: budgetValue, metric: metric === 'auto' ? null : metric, objective, target, ...(sparsity ? { sparsity: SPARSITY_ASK } : {}) };
      const result = await callWorker((api) => api.search(runId, split, settings, Comlink.proxy(onEvent)));
      setOutcome(result);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning((r) => (r?.runId === runId ? null : r));
    }
  };
  const cancel = () => running && void optimizerWorker().api.cancel(running.runId);
  // The pick, or any measured candidate, becomes a variant (run, compared and downloadable like the others).
  const addAndRun = (recipe: Recipe) => {
    const [id] = addVariants([{ recipe }]);
    runVariant(id);
  };
  const candidates = running?.candidates ?? outcome?.candidates ?? [];
  const timed = candidates.some((c) => c.latency);
  const precisions = SENSITIVITY_COLUMNS.filter((p) => outcome?.sensitivity.some((r) => r.lossDb[p] !== undefined));
  // "16x8, 4 (float16 weights), 1 per-tensor, 2 int4": the whole-model width (or "1 16x8": ops at 16x8 inside int8), the float ops and how they store weights, ops with one weight scale, the int4 ops.
  const int4Count = (c: Candidate) => (c.int4Ops[0] === '*' ? 'all' : c.int4Ops.length);
  const kind = (c: Candidate) =>
    `${c.activationBits === 16 ? '16x8, ' : ''}${c.int16Ops?.length ? `${c.int16Ops.length} 16x8, ` : ''}${c.floatOps.length}${c.floatOps.length && c.floatWeights === 'float16' ? ' (float16 weights)' : ''}${c.perTensorOps?.length ? `, ${c.perTensorOps.length} per-tensor` : ''}${c.int4Ops.length ? `, ${int4Count(c)} int4` : ''}`;
  const shownMetric = outcome?.metric ?? (metric === 'auto' ? null : metric);

  return (
    <section className="search-panel" aria-labelledby="search-heading" data-testid="search-panel">
      <h3 id="search-heading">Find it for me</h3>
      <p className="muted small">
        The smallest (or fastest, or a size / latency compromise) int8 model that loses at most the budget: every op is quantized; when that misses, the whole model is tried in 16x8 and the ops that lose most are kept in float (with float16 weights when that measures no worse) until the budget holds; the pick is confirmed on the last quarter of the evaluation samples, which the search never sees.
      </p>
      <p className="muted small" data-testid="search-target">
        Target: {TARGET_LABELS[target]} (the wizard's answer).{' '}
        {target === 'integer' || target === 'mcu' ? 'It runs integer ops only, so the search keeps no op in float and only lowers bits; candidates it cannot run never count as meeting the budget.' : 'Any op may stay in float.'}
      </p>
      <div className="search-settings">
        <label>
          Budget (points) <input type="number" step="0.1" value={budget} onChange={(e) => setBudget(e.target.value)} data-testid="search-budget" aria-describedby="search-budget-help" />
        </label>
        <span id="search-budget-help" className="muted small">percentage points of the metric; for SQNR, the lowest dB allowed</span>
        <label>
          Metric{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value as QualityMetric | 'auto')} data-testid="search-metric">
            <option value="auto">from the model (top-1 with labels, else agreement)</option>
            {QUALITY_METRICS.map((m) => (
              <option key={m} value={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Minimize{' '}
          <select value={objective} onChange={(e) => setObjective(e.target.value as SearchObjective)} data-testid="search-objective">
            <option value="size">size</option>
            <option value="latency">latency (measured in LiteRT)</option>
            <option value="both">both: size and latency (the smallest within 10% of the fastest)</option>
          </select>
        </label>
        <label>
          Start from{' '}
          <select value={fromVariant ? from : 'default'} onChange={(e) => setFrom(e.target.value)} data-testid="search-from" aria-describedby="search-from-help">
            <option value="default">int8 (default recipe)</option>
            {startingPoints.map((v) => (
              <option key={v.id} value={v.id}>variant {v.result?.label ?? v.recipe.technique}: {recipeSummary(v.recipe)}</option>
            ))}
          </select>
        </label>
        {!fromVariant && (
          <label>
            Weights{' '}
            <select value={granularity} onChange={(e) => setGranularity(e.target.value as Granularity)} data-testid="search-granularity">
              <option value="per-channel">per-channel int8</option>
              <option value="per-tensor">per-tensor int8</option>
            </select>
          </label>
        )}
        <span id="search-from-help" className="muted small">a variant's recipe keeps what you set there (ops kept in float, bits by op) and the search varies the rest</span>
        <label>
          <input type="checkbox" checked={sparsity} onChange={(e) => setSparsity(e.target.checked)} data-testid="search-sparsity" />{' '}
          Also rank each op pruned to {100 * SPARSITY_ASK.prune!}% and clustered to {SPARSITY_ASK.clusters} values
        </label>
        <span className="muted small">two more per-layer comparisons of the float model, for the per-op table (not candidates)</span>
      </div>
      {running ? (
        <div className="search-progress" role="status" aria-live="polite">
          <progress max={running.maxEvaluations} value={running.evaluations} aria-label="Candidates evaluated" /> {running.stage}: {running.evaluations} of at most {running.maxEvaluations} candidates
          <button type="button" className="button" onClick={cancel} data-testid="search-cancel">Cancel</button>
        </div>
      ) : (
        <button
          type="button"
          className="button button-primary"
          disabled={!dataReady || invalid !== null}
          title={!dataReady ? 'Load data first: the search calibrates and measures candidates on it' : (invalid ?? undefined)}
          onClick={() => void start()}
          data-testid="search-start"
        >
          {dataReady ? 'Find it for me' : 'Load data to search'}
        </button>
      )}
      {error && <p className="error-text" role="alert">{error}</p>}
      {candidates.length > 0 && shownMetric && RATE_METRICS.has(shownMetric) && floatBytes > 0 && (
        <figure className="search-front" data-testid="search-front">
          <ParetoChart points={frontPoints(candidates, floatBytes)} x="size" label="file size" quality={shownMetric} formatX={formatBytes} formatQuality={(v) => show(shownMetric, v)} onSelect={() => {}} />
          <figcaption className="muted small">Every candidate measured on the search split (bars: 95% intervals), the float model as a diamond; the line joins the candidates nothing beats on both size and {shownMetric}.</figcaption>
        </figure>
      )}
      {timed && floatBytes > 0 && (
        <figure className="search-front" data-testid="search-latency-front">
          <SizeLatencyPlot points={sizeLatencyPoints(candidates, outcome?.front)} formatBytes={formatBytes} />
          <figcaption className="muted small">Latency in LiteRT (10th percentile of 100 timed runs each: other work on the machine only adds time) against file size; filled: meets the budget; the line joins the meeting candidates nothing beats on both.</figcaption>
        </figure>
      )}
      {candidates.length > 0 && shownMetric && (
        <table className="search-candidates" data-testid="search-candidates">
          <caption>Candidates on the search split</caption>
          <thead>
            <tr><th scope="col">#</th><th scope="col">Float ops</th><th scope="col">Size</th>{timed && <th scope="col">Latency</th>}<th scope="col">{shownMetric}</th><th scope="col">Loss</th><th scope="col">Meets</th>{outcome && <th scope="col"><span className="visually-hidden">Add</span></th>}</tr>
          </thead>
          <tbody>
            {candidates.map((c, i) => (
              <tr key={i} data-bytes={c.bytes} className={outcome && c === outcome.candidates.find((x) => x.floatOps.length === outcome.pick.floatOps.length && x.bytes === outcome.pick.bytes) ? 'search-pick' : undefined}>
                <td>{i + 1}{c.reused && <span className="muted small" title="Measured by an earlier search on the same data and settings: not run again"> (reused)</span>}</td><td>{kind(c)}</td><td>{formatBytes(c.bytes)}</td>
                {timed && <td>{c.latency ? <>{c.latency.p10Ms.toFixed(2)} ms <span className="muted small">(median {c.latency.medianMs.toFixed(2)}, {c.latency.minMs.toFixed(2)}–{c.latency.p90Ms.toFixed(2)})</span></> : ''}</td>}
                <td>{show(shownMetric, c.quality.value)} <span className="muted small">[{show(shownMetric, c.quality.interval[0])}, {show(shownMetric, c.quality.interval[1])}] n={c.quality.samples}</span></td>
                <td title={c.noiseMargin ? 'int4 / per-tensor step: one standard error of the predictions it moved is added to the loss before the budget is applied' : undefined}>{c.loss.toFixed(2)}{c.noiseMargin ? ` (+${c.noiseMargin.toFixed(2)})` : ''}</td><td>{c.meets ? 'yes' : c.fits === false ? `no: ${c.misfit}` : 'no'}</td>
                {outcome && (
                  <td>
                    <button type="button" className="link-button" onClick={() => outcome && addAndRun(outcome.candidates[i].recipe)} data-testid="search-add-candidate" aria-label={`Add candidate ${i + 1} to the experiments and run it`}>
                      Add
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {outcome && (
        <div className="search-outcome" data-testid="search-outcome">
          <p>
            <strong>Pick:</strong> {outcome.pick.floatOps.length} op(s) kept in float{outcome.pick.floatWeights === 'float16' ? ' with float16 weights' : ''}{outcome.pick.activationBits === 16 ? ', 16x8 (int16 activations)' : ''}{outcome.pick.int16Ops?.length ? `, ${outcome.pick.int16Ops.length} op(s) at 16x8 inside int8` : ''}, {formatBytes(outcome.pick.bytes)}{outcome.pick.latency ? `, ${outcome.pick.latency.p10Ms.toFixed(2)} ms` : ''}. On {outcome.check.quality.samples} samples the search never saw:{' '}
            <span data-testid="search-check">
              {show(outcome.metric, outcome.check.quality.value)} (95% interval {show(outcome.metric, outcome.check.quality.interval[0])} to {show(outcome.metric, outcome.check.quality.interval[1])}), float {show(outcome.metric, outcome.check.floatQuality.value)}: {outcome.check.meets ? 'meets' : 'misses'} the budget
            </span>
            . {outcome.evaluations} candidates evaluated.
          </p>
          {outcome.choice && <p className="small" data-testid="search-choice">Chosen by {outcome.choice}.</p>}
          {precisions.length > 0 && (
            <details data-testid="search-sensitivity">
              <summary>SQNR each op loses at each precision tried (dB)</summary>
              <table className="search-sensitivity">
                <thead>
                  <tr><th scope="col">Op</th>{precisions.map((p) => <th key={p} scope="col">{p}</th>)}</tr>
                </thead>
                <tbody>
                  {outcome.sensitivity.map((r) => (
                    <tr key={r.opIndex} title={r.output}>
                      <td>#{r.opIndex} {r.op}</td>
                      {precisions.map((p) => <td key={p}>{r.lossDb[p]?.toFixed(1) ?? ''}</td>)}
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
          {outcome.notes.map((n, i) => (
            <p key={i} className="muted small">{n}</p>
          ))}
          <button type="button" className="button" onClick={() => addAndRun(outcome.pick.recipe)} data-testid="search-add-pick">Add the pick to the experiments and run it</button>
        </div>
      )}
    </section>
  );
}
