/** The decision tree: five questions, a ranked recommendation with reasons, the guide's table beside it. */
import { addVariants, setAnswers, useSession } from '../session';
import { TARGET_LABELS, type Target } from '../target-check';
import { chainText, variantLabel } from '../../app/variant-chain';
import { useShallow } from 'zustand/react/shallow';
import { observedDrops, recommend, TECHNIQUE_TABLE, type DataAvailable, type LossTolerance, type Observed, type Priority, type WizardAnswers } from './recommend';
import type { Variant } from '../session';
import { SearchPanel } from './SearchPanel';
import { precisionText } from '../workbench/recipe-options';

/** Latency over the float model's, per technique, from finished plain variants (the fastest of each). */
function observedLatencyRatios(variants: Variant[]): NonNullable<Observed['latencyRatio']> {
  const ratios: NonNullable<Observed['latencyRatio']> = {};
  for (const v of variants) {
    if (v.status !== 'done' || !v.result || v.steps) continue;
    const ratio = v.result.latency.medianMs / v.result.referenceLatency.medianMs;
    const technique = v.recipe.technique;
    if (Number.isFinite(ratio)) ratios[technique] = Math.min(ratios[technique] ?? Infinity, ratio);
  }
  return ratios;
}

function Choice<T extends string>(props: { name: string; legend: string; value: T; options: [T, string][]; onChange: (v: T) => void }) {
  return (
    <fieldset className="choice" data-testid={`wizard-${props.name}`}>
      <legend>{props.legend}</legend>
      {props.options.map(([value, label]) => (
        <label key={value}>
          <input type="radio" name={props.name} value={value} checked={props.value === value} onChange={() => props.onChange(value)} /> {label}
        </label>
      ))}
    </fieldset>
  );
}

export function WizardPanel() {
  const answers = useSession((s) => s.answers);
  const update = (patch: Partial<WizardAnswers>) => setAnswers({ ...answers, ...patch });
  // Only the number is selected, so progress of running variants does not re-render the wizard.
  const { int8Drop, w4a8Drop } = useSession(useShallow((s) => observedDrops(s.variants)));
  const latencyRatio = useSession(useShallow((s) => observedLatencyRatios(s.variants)));
  const observed: Observed = { int8Drop, w4a8Drop, latencyRatio };
  const recommendations = recommend(answers, observed);
  return (
    <section className="card panel" aria-labelledby="wizard-heading" data-testid="wizard">
      <h2 id="wizard-heading">1 · What do you need?</h2>
      <div className="wizard-grid">
        <div className="wizard-questions">
          <Choice<Target> name="target" legend="Where will the model run?" value={answers.target} onChange={(target) => update({ target })}
            options={Object.entries(TARGET_LABELS) as [Target, string][]} />
          <Choice<DataAvailable> name="data" legend="What data do you have?" value={answers.data} onChange={(data) => update({ data })}
            options={[['none', 'None'], ['unlabeled', 'Unlabeled samples (~100)'], ['labeled', 'Labeled data']]} />
          <Choice<LossTolerance> name="loss" legend="Acceptable accuracy loss" value={answers.loss} onChange={(loss) => update({ loss })}
            options={[['tiny', 'Almost none (< 0.5 pt)'], ['small', 'Small (~1 pt)'], ['moderate', 'A few points']]} />
          <Choice<Priority> name="priority" legend="What matters more?" value={answers.priority} onChange={(priority) => update({ priority })}
            options={[['size', 'Size'], ['latency', 'Latency'], ['both', 'Both']]} />
          <fieldset className="choice">
            <legend>Sensitive activations?</legend>
            <label>
              <input type="checkbox" checked={answers.sensitive} onChange={(e) => update({ sensitive: e.target.checked })} data-testid="wizard-sensitive" /> Speech / NLP / regression outputs (try 16x8)
            </label>
          </fieldset>
        </div>
        <div className="wizard-advice">
          <h3>Recommended, in order</h3>
          <ol className="recommendations" data-testid="recommendations">
            {recommendations.map((r, i) => (
              <li key={i} data-technique={r.recipe.technique} data-weight-bits={r.recipe.weightBits} data-qat={r.steps?.train?.mode === 'qat' ? 'true' : undefined} data-chain={chainText(r.recipe, r.steps) ?? undefined}>
                <strong>{chainText(r.recipe, r.steps) ?? variantLabel(r.recipe, r.steps)}{r.recipe.weightBits === 4 && ` (${precisionText(r.recipe)})`}</strong> — {r.reason}
              </li>
            ))}
          </ol>
          <button type="button" className="button button-primary" data-testid="use-recommendations" onClick={() => addVariants(recommendations, true)}>
            Add these to the experiments
          </button>
          <SearchPanel />
          {answers.data === 'labeled' && (
            <p className="muted small">Labeled data also enables quantization-aware training (add "QAT + int8") and fine-tuning after pruning / clustering (tick Fine-tune on a Prune or Cluster step). Training runs in the background worker on the calibration (+ training) samples; the evaluation samples are never trained on. If int8 loses more than you accept, QAT is recommended here with the measured loss.</p>
          )}
          <table className="guide-table">
            <caption>The TFLite guide's techniques</caption>
            <thead>
              <tr><th scope="col">Technique</th><th scope="col">Data</th><th scope="col">Size</th><th scope="col">Accuracy</th><th scope="col">Hardware</th><th scope="col">Here</th></tr>
            </thead>
            <tbody>
              {TECHNIQUE_TABLE.map((row) => (
                <tr key={row.technique}>
                  <th scope="row">{row.technique}</th><td>{row.data}</td><td>{row.size}</td><td>{row.accuracy}</td><td>{row.hardware}</td>
                  <td>{row.here.startsWith('not') ? <em>{row.here}</em> : <code>{row.here}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
