/**
 * A variant's precision options: weight bits (int8 / int4, W4A8 / W4A16), int4 blocks, whether the
 * smallest layers stay int8, per-op bits,
 * rounding, activation ranges, equalization and bias absorption. Each control is labelled, says why its current
 * choice (or the default) is what it is, and where it does not apply is disabled with the reason.
 */
import { useState } from 'react';
import type { AbsorbMode, Recipe, RoundingMethod, CalibrationAlgorithm, EqualizeMode, SmallInt4Layers } from '../../optimize/recipe';
import { ABSORB_MODES, EQUALIZE_MODES, SMALL_INT4_LAYERS } from '../../optimize/recipe';
import type { VariantSteps } from '../../app/variant-chain';
import {
  ABSORB_REASONS,
  absorptionProblem,
  ALGORITHM_REASONS,
  BLOCK_SIZES,
  blockSizeProblem,
  blockSizeReason,
  CALIBRATION_ALGORITHMS,
  EQUALIZE_REASONS,
  equalizeProblem,
  precisionText,
  ROUNDING_METHODS,
  ROUNDING_REASONS,
  roundingProblem,
  scopedBitsFromText,
  SMALL_INT4_REASONS,
  weightBitsProblem,
  weightBitsReason,
  withBlockSize,
  withWeightBits,
} from './recipe-options';

/** A labelled select with its reason (or why it is disabled) beside it, tied by aria-describedby. */
function Option(props: { id: string; label: string; testId: string; value: string; options: [string, string][]; disabled: boolean; problem: string | null; reason: string; onChange: (value: string) => void }) {
  const { id, problem } = props;
  return (
    <div className="precision-option">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} disabled={props.disabled || !!problem} data-testid={props.testId} aria-describedby={`${id}-why`} onChange={(e) => props.onChange(e.target.value)}>
        {props.options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
      </select>
      <span id={`${id}-why`} className="muted small option-reason" data-testid={`${props.testId}-reason`} data-disabled={problem ? 'true' : undefined}>
        {problem ?? props.reason}
      </span>
    </div>
  );
}

function scopeText(s: Recipe['weightBitsByScope'][number]): string {
  return [...(s.opTypes ?? []), ...(s.tensorNamePattern !== undefined ? [`/${s.tensorNamePattern}/`] : [])].join(', ');
}

/** Bits for some ops (op type or /tensor regex/), over the weights choice; as the CLI's --op-weights. */
function OpBitsEditor({ recipe, disabled, onChange, id }: { recipe: Recipe; disabled: boolean; onChange: (r: Recipe) => void; id: string }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const add = () => {
    try {
      onChange({ ...recipe, weightBitsByScope: [...recipe.weightBitsByScope, scopedBitsFromText(text.trim())] });
      setText('');
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="keep-float" data-testid="variant-op-bits">
      <span>Bits by op: {recipe.weightBitsByScope.length === 0 ? <em>as above</em> : recipe.weightBitsByScope.map((s, i) => (
        <button key={i} type="button" className="chip" disabled={disabled} title="Remove" aria-label={`Remove ${scopeText(s)} = int${s.bits}`}
          onClick={() => onChange({ ...recipe, weightBitsByScope: recipe.weightBitsByScope.filter((_, j) => j !== i) })}>
          {scopeText(s)} = int{s.bits} ✕
        </button>
      ))}</span>
      <label htmlFor={id} className="visually-hidden">Op type or /tensor regex/ = int4 or int8 (the last match wins)</label>
      <input id={id} placeholder="CONV_2D=int4 or /logits/=int8" value={text} disabled={disabled} data-testid="variant-op-bits-input"
        onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && add()} />
      <button type="button" className="button small-button" disabled={disabled || !text.trim()} onClick={add}>Set bits</button>
      {error && <span className="error-inline small" role="alert">{error}</span>}
    </div>
  );
}

export function PrecisionOptions({ recipe, steps, disabled, idPrefix, onChange }: { recipe: Recipe; steps: VariantSteps | undefined; disabled: boolean; idPrefix: string; onChange: (r: Recipe) => void }) {
  const id = (what: string) => `${idPrefix}-${what}`;
  const full = recipe.technique === 'int8' || recipe.technique === 'int16x8';
  const int4Name = recipe.technique === 'int8' ? 'int4 (W4A8)' : recipe.technique === 'int16x8' ? 'int4 (W4A16)' : 'int4';
  const int8Name = recipe.technique === 'int8' ? 'int8 (W8A8)' : recipe.technique === 'int16x8' ? 'int8 (W8A16)' : 'int8';
  const weightsProblem = weightBitsProblem(recipe);
  return (
    <div className="variant-options variant-precision" data-testid="variant-precision" data-precision={precisionText(recipe)}>
      <Option id={id('weights')} label="Weights" testId="variant-weights" value={String(recipe.weightBits)} disabled={disabled} problem={weightsProblem}
        reason={weightBitsReason(recipe)} options={[['8', int8Name], ['4', int4Name]]} onChange={(v) => onChange(withWeightBits(recipe, Number(v) as 4 | 8))} />
      {recipe.weightBits === 4 && (
        <Option id={id('block')} label="int4 scales" testId="variant-block-size" value={String(recipe.blockSize)} disabled={disabled} problem={blockSizeProblem(recipe)}
          reason={blockSizeReason(recipe)} options={[['0', 'per channel'], ...BLOCK_SIZES.map((b): [string, string] => [String(b), `blocks of ${b}`])]} onChange={(v) => onChange(withBlockSize(recipe, Number(v)))} />
      )}
      {full && recipe.weightBits === 4 && (
        <Option id={id('small-int4')} label="Smallest layers" testId="variant-small-int4" value={recipe.smallInt4Layers ?? 'int8'} disabled={disabled} problem={null}
          reason={SMALL_INT4_REASONS[recipe.smallInt4Layers ?? 'int8']} options={SMALL_INT4_LAYERS.map((m) => [m, m === 'int8' ? 'stay int8' : 'int4 too'])} onChange={(v) => onChange({ ...recipe, smallInt4Layers: v as SmallInt4Layers })} />
      )}
      {full && (
        <>
          <Option id={id('rounding')} label="Rounding" testId="variant-rounding" value={roundingProblem(recipe, steps) ? 'nearest' : recipe.rounding} disabled={disabled} problem={roundingProblem(recipe, steps)}
            reason={ROUNDING_REASONS[recipe.rounding]} options={ROUNDING_METHODS.map((m) => [m, m === 'gptq' ? 'GPTQ' : m === 'adaround' ? 'AdaRound' : 'nearest'])} onChange={(v) => onChange({ ...recipe, rounding: v as RoundingMethod })} />
          <Option id={id('algo')} label="Activation ranges" testId="variant-algo" value={recipe.calibration.algorithm} disabled={disabled} problem={null}
            reason={ALGORITHM_REASONS[recipe.calibration.algorithm]} options={CALIBRATION_ALGORITHMS.map((a) => [a, a])} onChange={(v) => onChange({ ...recipe, calibration: { ...recipe.calibration, algorithm: v as CalibrationAlgorithm } })} />
          <Option id={id('equalize')} label="Equalization" testId="variant-equalize" value={equalizeProblem(recipe, steps) ? 'off' : recipe.equalize} disabled={disabled} problem={equalizeProblem(recipe, steps)}
            reason={EQUALIZE_REASONS[recipe.equalize]} options={EQUALIZE_MODES.map((m) => [m, m])} onChange={(v) => onChange({ ...recipe, equalize: v as EqualizeMode })} />
          <Option id={id('absorb')} label="Bias absorption" testId="variant-absorb" value={absorptionProblem(recipe, steps) ? 'off' : (recipe.biasAbsorption ?? 'auto')} disabled={disabled} problem={absorptionProblem(recipe, steps)}
            reason={ABSORB_REASONS[recipe.biasAbsorption ?? 'auto']} options={ABSORB_MODES.map((m) => [m, m])} onChange={(v) => onChange({ ...recipe, biasAbsorption: v as AbsorbMode })} />
          <OpBitsEditor recipe={recipe} disabled={disabled} onChange={onChange} id={id('op-bits')} />
        </>
      )}
    </div>
  );
}
