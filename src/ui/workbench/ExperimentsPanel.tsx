/** The variants: each recipe with its options, run / cancel, per-stage progress. */
import { memo, useEffect, useRef, useState } from 'react';
import { asksInt4, needsCalibration, parseScope, TECHNIQUES, type Recipe, type Scope, type Technique } from '../../optimize/recipe';
import { formatBytes } from '../format';
import { addQatVariant, addTechnique, cancelVariant, cannotRun, clearHighlight, removeVariant, runAll, runVariant, RUN_STAGES, setAllowFloatFallback, updateRecipe, updateSteps, useSession, type LiveTraining, type Variant } from '../session';
import { chainText, defaultTraining, hasSteps, MAX_CLUSTERS, MAX_EPOCHS, MAX_SPARSITY, stepsProblem, variantLabel, type TrainSettings, type VariantSteps } from '../../app/variant-chain';
import { TrainingChart } from './charts/TrainingChart';
import { PrecisionOptions } from './PrecisionOptions';
import { recipeSummary, withTechnique } from './recipe-options';

function scopeText(scope: Scope): string {
  return [...(scope.opTypes ?? []), ...(scope.tensorNamePattern !== undefined ? [`/${scope.tensorNamePattern}/`] : [])].join(', ');
}

function KeepFloatEditor({ recipe, onChange, disabled }: { recipe: Recipe; onChange: (r: Recipe) => void; disabled: boolean }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const add = () => {
    try {
      const value = text.trim();
      const scope = /^[A-Z0-9_]+$/.test(value) ? { opTypes: [value] } : parseScope(value.startsWith('/') && value.endsWith('/') ? { tensorNamePattern: value.slice(1, -1) } : value);
      onChange({ ...recipe, keepFloat: [...recipe.keepFloat, scope] });
      setText('');
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="keep-float">
      <span>Kept in float: {recipe.keepFloat.length === 0 ? <em>none</em> : recipe.keepFloat.map((s, i) => (
        <button key={i} type="button" className="chip" disabled={disabled} title="Remove" onClick={() => onChange({ ...recipe, keepFloat: recipe.keepFloat.filter((_, j) => j !== i) })}>
          {scopeText(s)} ✕
        </button>
      ))}</span>
      <input aria-label="Op type (e.g. SOFTMAX) or /tensor regex/ to keep in float" placeholder="SOFTMAX or /regex/" value={text} disabled={disabled} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && add()} />
      <button type="button" className="button small-button" disabled={disabled || !text.trim()} onClick={add}>Keep float</button>
      {error && <span className="error-inline small" role="alert">{error}</span>}
    </div>
  );
}

/** Optional prune / cluster steps before the technique (the variant then runs as a chain). */
function StepsEditor({ variant, disabled }: { variant: Variant; disabled: boolean }) {
  const steps: VariantSteps = variant.steps ?? {};
  const set = (patch: Partial<VariantSteps>) => updateSteps(variant.id, { ...steps, ...patch });
  const id = (what: string) => `${variant.id}-${what}`;
  const problem = stepsProblem(steps, variant.recipe);
  const text = chainText(variant.recipe, steps);
  const canFinetune = !!(steps.prune || steps.cluster);
  const canQat = variant.recipe.technique === 'int8' && !steps.float;
  return (
    <div className="variant-options variant-steps">
      <label className="inline-check">
        <input type="checkbox" checked={!!steps.prune} disabled={disabled} data-testid="variant-prune" onChange={(e) => set({ prune: e.target.checked ? { sparsity: 0.5, structure: 'unstructured' } : undefined })} /> Prune
      </label>
      {steps.prune && (
        <>
          <label htmlFor={id('sparsity')}>Sparsity</label>
          <input id={id('sparsity')} type="number" min={0} max={MAX_SPARSITY} step={0.05} value={Number.isFinite(steps.prune.sparsity) ? steps.prune.sparsity : ''} disabled={disabled || steps.prune.structure === '2of4'} data-testid="variant-prune-sparsity"
            onChange={(e) => set({ prune: { ...steps.prune!, sparsity: e.target.valueAsNumber } })} />
          <select aria-label="Pruning structure" value={steps.prune.structure} disabled={disabled} data-testid="variant-prune-structure"
            onChange={(e) => set({ prune: e.target.value === '2of4' ? { sparsity: 0.5, structure: '2of4' } : { ...steps.prune!, structure: 'unstructured' } })}>
            <option value="unstructured">unstructured</option>
            <option value="2of4">2:4 structured</option>
          </select>
        </>
      )}
      <label className="inline-check">
        <input type="checkbox" checked={!!steps.cluster} disabled={disabled} data-testid="variant-cluster" onChange={(e) => set({ cluster: e.target.checked ? { clusters: 32, perChannel: true } : undefined })} /> Cluster
      </label>
      {steps.cluster && (
        <>
          <label htmlFor={id('clusters')}>Clusters (k)</label>
          <input id={id('clusters')} type="number" min={2} max={MAX_CLUSTERS} step={1} value={Number.isFinite(steps.cluster.clusters) ? steps.cluster.clusters : ''} disabled={disabled} data-testid="variant-cluster-k"
            onChange={(e) => set({ cluster: { ...steps.cluster!, clusters: e.target.valueAsNumber } })} />
          <select aria-label="Clusters per tensor or per channel" value={steps.cluster.perChannel ? 'per-channel' : 'per-tensor'} disabled={disabled} data-testid="variant-cluster-granularity"
            onChange={(e) => set({ cluster: { ...steps.cluster!, perChannel: e.target.value === 'per-channel' } })}>
            <option value="per-channel">per channel</option>
            <option value="per-tensor">per tensor</option>
          </select>
        </>
      )}
      {canFinetune && (
        <label className="inline-check" title="Train the pruned / clustered weights on your data (pruned zeros stay zero, clusters stay tied)">
          <input type="checkbox" checked={steps.train?.mode === 'finetune'} disabled={disabled} data-testid="variant-finetune" onChange={(e) => set({ train: e.target.checked ? defaultTraining('finetune') : undefined })} /> Fine-tune
        </label>
      )}
      {(canQat || steps.train?.mode === 'qat') && (
        <label className="inline-check" title={asksInt4(variant.recipe)
          ? 'Quantization-aware training of int4 weights: start from the W4A8 post-training model and learn its int4 steps with the weights (LSQ); the PTQ model is kept if training does not beat it on the held-out split'
          : 'Quantization-aware training: train with int8 simulated in the forward pass, then quantize'}>
          <input type="checkbox" checked={steps.train?.mode === 'qat'} disabled={disabled} data-testid="variant-qat" onChange={(e) => set({ train: e.target.checked ? defaultTraining('qat') : undefined })} /> QAT
        </label>
      )}
      {steps.train && <TrainSettingsEditor train={steps.train} disabled={disabled} idOf={id} onChange={(train) => set({ train })} />}
      {text && !problem && <code className="small" data-testid="variant-chain">{text}</code>}
      {problem && <span className="error-inline small" role="alert">{problem}</span>}
      {(steps.prune || steps.cluster) && !steps.train && <span className="muted small">One-shot (no fine-tuning): pruning especially can lose much accuracy; tick Fine-tune to train it back on your data.</span>}
    </div>
  );
}

/** Epochs / batch / learning rate of a finetune or qat step. */
function TrainSettingsEditor({ train, disabled, idOf, onChange }: { train: TrainSettings; disabled: boolean; idOf: (what: string) => string; onChange: (t: TrainSettings) => void }) {
  return (
    <>
      <label htmlFor={idOf('epochs')}>Epochs</label>
      <input id={idOf('epochs')} type="number" min={1} max={MAX_EPOCHS} step={1} value={Number.isFinite(train.epochs) ? train.epochs : ''} disabled={disabled} data-testid="variant-epochs" onChange={(e) => onChange({ ...train, epochs: e.target.valueAsNumber })} />
      <label htmlFor={idOf('batch')}>Batch</label>
      <input id={idOf('batch')} type="number" min={1} max={1024} step={1} value={Number.isFinite(train.batchSize) ? train.batchSize : ''} disabled={disabled} data-testid="variant-batch" onChange={(e) => onChange({ ...train, batchSize: e.target.valueAsNumber })} />
      <label htmlFor={idOf('lr')}>Learning rate</label>
      <input id={idOf('lr')} type="number" min={0} step="any" value={Number.isFinite(train.learningRate) ? train.learningRate : ''} disabled={disabled} data-testid="variant-lr" onChange={(e) => onChange({ ...train, learningRate: e.target.valueAsNumber })} />
      <label className="inline-check" title="Without labels the float model teaches: each training image is mirrored left-right at random and the teacher scores the mirror, so a few hundred images go further (MobileNetV1 W4A8 QAT, 100 images, from a 52.5% PTQ start: 57.5% with it, 57.0% without; from today's 56.25% start neither gains at learning rate 1e-4; bench:qat-int4). Off by default: it assumes a mirrored image is as valid an input as the original (not so for text, digits or one-sided scenes). Ignored when the data has labels.">
        <input type="checkbox" checked={train.augment === 'flip'} disabled={disabled} data-testid="variant-augment-flip" onChange={(e) => onChange(e.target.checked ? { ...train, augment: 'flip' } : { mode: train.mode, epochs: train.epochs, batchSize: train.batchSize, learningRate: train.learningRate })} /> Mirror images
      </label>
    </>
  );
}

/** The live training chart, the last step's figures and the worker's memory. */
function TrainingView({ training, variant }: { training: LiveTraining; variant: Variant }) {
  const last = [...training.points].reverse().find((p) => p.phase === 'train');
  const steps = training.points.filter((p) => p.phase === 'train').length;
  const lastValidation = [...training.points].reverse().find((p) => p.validationLoss !== undefined);
  const summary = variant.result?.training;
  const mem = training.memory;
  return (
    <div className="training" data-testid="training" data-steps={steps} data-heap={mem.tfjsHeapBytes ?? ''} data-peak-heap={training.peakHeapBytes ?? ''} data-tensor-bytes={mem.tfjsTensorBytes} data-js-heap={mem.jsHeapBytes ?? ''}>
      <TrainingChart points={training.points} epochs={training.epochs} stepsPerEpoch={training.stepsPerEpoch} />
      <p className="small" data-testid="training-status">
        {last ? `epoch ${last.epoch}/${training.epochs}, step ${steps}/${training.epochs * training.stepsPerEpoch}: loss ${last.loss.toFixed(4)}${last.accuracy !== null ? `, batch accuracy ${(last.accuracy * 100).toFixed(0)}%` : ''}` : 'measuring the starting point…'}
        {lastValidation && ` · validation (epoch ${lastValidation.epoch}): loss ${lastValidation.validationLoss!.toFixed(4)}${lastValidation.validationAccuracy != null ? `, accuracy ${(lastValidation.validationAccuracy * 100).toFixed(1)}%` : ''}`}
        <span className="muted">
          {' '}· {training.backend} · worker memory: tensors {formatBytes(mem.tfjsTensorBytes)}
          {mem.tfjsHeapBytes !== null && `, tfjs heap ${formatBytes(mem.tfjsHeapBytes)} (peak ${formatBytes(training.peakHeapBytes ?? mem.tfjsHeapBytes)})`}
          {mem.jsHeapBytes !== null && `, JS heap ${formatBytes(mem.jsHeapBytes)}`}
        </span>
      </p>
      {training.stopping && variant.status === 'running' && <p className="small" role="status">Stopping training after this step; the best weights so far go on to quantization and evaluation.</p>}
      {summary?.stopped && <p className="small" data-testid="training-stopped">{summary.stopped.message}</p>}
    </div>
  );
}

function Progress({ variant }: { variant: Variant }) {
  const float = hasSteps(variant.steps) && variant.steps.float;
  const stages = RUN_STAGES.filter((s) => {
    if (variant.job === 'reevaluate') return s === 'evaluate'; // a re-evaluation measures only
    if (s === 'prune' || s === 'cluster' || s === 'train') return !!variant.steps?.[s];
    if (s === 'calibrate') return !float && needsCalibration(variant.recipe);
    // Rounding optimization (recipe.rounding); chains with prune / cluster / qat round to nearest.
    if (s === 'round') return !float && needsCalibration(variant.recipe) && variant.recipe.rounding !== 'nearest' && !variant.steps?.prune && !variant.steps?.cluster && !variant.steps?.train;
    if (s === 'quantize' || s === 'write' || s === 'check') return !float;
    return true;
  });
  return (
    <ol className="stages" aria-label="Progress per stage">
      {stages.map((stage) => {
        const p = variant.progress[stage];
        const fraction = p ? (p.total ? Math.min(1, p.done / p.total) : p.done > 0 ? 1 : 0.3) : 0;
        const current = variant.stage === stage && variant.status === 'running';
        return (
          <li key={stage} className={current ? 'current' : ''} data-stage={stage}>
            <span>{stage}</span>
            <progress max={1} value={fraction} aria-label={`${stage}${p?.total ? ` ${p.done}/${p.total}` : ''}`} data-testid={`progress-${stage}`} />
          </li>
        );
      })}
    </ol>
  );
}

/** The Run button: what it does, or what it needs first (a variant that calibrates or trains needs data). */
function runButtonText(variant: Variant, blocked: string | null): string {
  const again = variant.status !== 'idle';
  if (blocked) return again ? 'Load data to run again' : 'Load data to run';
  return again ? 'Run again' : 'Run';
}

const VariantRow = memo(function VariantRow({ variant, index, highlighted, dataReady }: { variant: Variant; index: number; highlighted: boolean; dataReady: boolean }) {
  const { recipe } = variant;
  const blocked = cannotRun(variant, { status: dataReady ? 'ready' : 'none' });
  const ref = useRef<HTMLLIElement>(null);
  // "Keep in float and re-run" adds a variant at the bottom of the list: bring it into view and mark it.
  useEffect(() => {
    if (!highlighted || !ref.current) return;
    ref.current.scrollIntoView({ block: 'center', behavior: 'smooth' });
    ref.current.focus({ preventScroll: true });
  }, [highlighted]);
  const busy = variant.status === 'running' || variant.status === 'queued';
  const locked = busy || variant.status === 'done';
  const set = (patch: Partial<Recipe>) => updateRecipe(variant.id, { ...recipe, ...patch });
  const steps = variant.steps;
  const float = hasSteps(steps) && !!steps.float;
  const calibrated = !float && needsCalibration(recipe);
  const id = (what: string) => `${variant.id}-${what}`;
  const label = variantLabel(recipe, steps);
  return (
    <li ref={ref} tabIndex={highlighted ? -1 : undefined} className={`variant variant-${variant.status}${highlighted ? ' highlighted' : ''}`} data-testid="variant" data-id={variant.id} data-label={label} data-status={variant.status} data-highlighted={highlighted ? 'true' : undefined} data-technique={float ? 'none' : recipe.technique}
      aria-label={highlighted ? `New variant ${label}, added by keeping a layer in float` : undefined} onBlur={highlighted ? () => setTimeout(clearHighlight, 4000) : undefined}>
      <div className="variant-head">
        <strong>#{index + 1} {label}</strong>
        {!float && <span className="muted small" data-testid="variant-summary">{recipeSummary(recipe, chainText(recipe, steps))}</span>}
        <span className={`badge badge-${variant.status}`} data-testid="variant-status">{variant.status}</span>
        <span className="spacer" />
        {!busy && (
          <button type="button" className="button button-primary small-button" data-testid="run-variant" disabled={!!stepsProblem(steps, recipe) || !!blocked}
            title={blocked ? 'This variant calibrates or trains on samples: load the data in step 2 first. Its result stays.' : undefined} onClick={() => runVariant(variant.id)}>
            {runButtonText(variant, blocked)}
          </button>
        )}
        {busy && (
          <button type="button" className="button small-button" data-testid="cancel-variant" disabled={!!variant.training?.stopping && variant.stage === 'train'} onClick={() => cancelVariant(variant.id)}>
            {variant.stage === 'train' ? 'Stop training (keep best)' : 'Cancel'}
          </button>
        )}
        <button type="button" className="button small-button" aria-label={`Remove variant ${index + 1}`} onClick={() => removeVariant(variant.id)}>Remove</button>
      </div>
      <div className="variant-options">
        <label htmlFor={id('tech')}>Technique</label>
        <select id={id('tech')} value={float ? 'none' : recipe.technique} disabled={locked} data-testid="variant-technique" onChange={(e) => {
          if (e.target.value === 'none') return updateSteps(variant.id, { ...steps, float: true });
          if (float) updateSteps(variant.id, { ...steps, float: false });
          set(withTechnique(recipe, e.target.value as Technique));
        }}>
          {TECHNIQUES.map((t) => <option key={t}>{t}</option>)}
          {hasSteps(steps) && <option value="none">none (float)</option>}
        </select>
        {recipe.technique !== 'float16' && !float && (
          <>
            <label htmlFor={id('gran')}>Granularity</label>
            <select id={id('gran')} value={recipe.granularity} disabled={locked} onChange={(e) => set({ granularity: e.target.value as Recipe['granularity'] })}>
              <option>per-channel</option>
              <option>per-tensor</option>
            </select>
          </>
        )}
        {calibrated && (
          <>
            <label htmlFor={id('io')}>I/O type</label>
            <select id={id('io')} value={recipe.io} disabled={locked} onChange={(e) => set({ io: e.target.value as Recipe['io'] })}>
              <option>float</option>
              <option>int8</option>
              {recipe.technique === 'int8' && <option>uint8</option>}
            </select>
            <label className="inline-check">
              <input type="checkbox" checked={recipe.integerOnly} disabled={locked} onChange={(e) => set({ integerOnly: e.target.checked })} /> integer only
            </label>
          </>
        )}
        {!float && (
          <span className="inline-check">
            <input id={id('fallback')} type="checkbox" checked={!!variant.allowFloatFallback} disabled={locked} data-testid="variant-allow-fallback" aria-describedby={id('fallback-why')}
              onChange={(e) => setAllowFloatFallback(variant.id, e.target.checked)} />
            <label htmlFor={id('fallback')}>keep if ops fall back to float</label>
            <span id={id('fallback-why')} className="muted small">{variant.allowFloatFallback ? '(a result that leaves unasked ops float, changes nothing or grows is kept, its notes say why)' : '(off by default: such a result is a failure, with the reason)'}</span>
          </span>
        )}
      </div>
      {!float && <PrecisionOptions recipe={recipe} steps={steps} disabled={locked} idPrefix={variant.id} onChange={(r) => updateRecipe(variant.id, r)} />}
      <StepsEditor variant={variant} disabled={locked} />
      {recipe.technique !== 'float16' && <KeepFloatEditor recipe={recipe} disabled={locked} onChange={(r) => updateRecipe(variant.id, r)} />}
      {(busy || variant.status === 'done' || Object.keys(variant.progress).length > 0) && <Progress variant={variant} />}
      {variant.training && <TrainingView training={variant.training} variant={variant} />}
      {variant.error && <p className={variant.status === 'cancelled' ? 'muted small' : 'error-inline'} role={variant.status === 'error' ? 'alert' : undefined} data-testid="variant-error">{variant.error}</p>}
      {variant.result && variant.result.notes.length > 0 && (
        <details className="small"><summary>Notes ({variant.result.notes.length})</summary><ul>{variant.result.notes.map((n, i) => <li key={i}>{n}</li>)}</ul></details>
      )}
    </li>
  );
});

export function ExperimentsPanel() {
  const variants = useSession((s) => s.variants);
  const highlighted = useSession((s) => s.highlighted);
  const dataReady = useSession((s) => s.data.status === 'ready');
  const [technique, setTechnique] = useState<Technique | 'qat-int8'>('float16');
  return (
    <section className="card panel" aria-labelledby="experiments-heading" data-testid="experiments">
      <h2 id="experiments-heading">3 · Experiments</h2>
      <div className="experiments-bar">
        <label htmlFor="add-technique">Add a variant by hand</label>
        <select id="add-technique" value={technique} onChange={(e) => setTechnique(e.target.value as Technique | 'qat-int8')} data-testid="add-technique">
          {TECHNIQUES.map((t) => <option key={t}>{t}</option>)}
          <option value="qat-int8">QAT + int8</option>
        </select>
        <button type="button" className="button" data-testid="add-variant" onClick={() => (technique === 'qat-int8' ? addQatVariant() : addTechnique(technique))}>Add</button>
        <span className="spacer" />
        <button type="button" className="button button-primary" data-testid="run-all" disabled={!variants.some((v) => ['idle', 'error', 'cancelled'].includes(v.status) && !cannotRun(v, { status: dataReady ? 'ready' : 'none' }))} onClick={runAll}>Run all</button>
      </div>
      <p className="muted small">Runs go to one background worker, one at a time (this machine has few cores); the page stays responsive.</p>
      {variants.length === 0 ? (
        <p className="empty-inline" data-testid="experiments-empty">No variants yet: add the recommended ones above, or add a technique by hand.</p>
      ) : (
        <ol className="variants">{variants.map((v, i) => <VariantRow key={v.id} variant={v} index={i} highlighted={v.id === highlighted} dataReady={dataReady} />)}</ol>
      )}
    </section>
  );
}
