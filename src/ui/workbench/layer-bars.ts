/**
 * The per-layer chart's bars from a result's per-layer comparison: named by the float model's op
 * (its index in the model the user opened, not in the variant, whose indices shift with every
 * QUANTIZE / DEQUANTIZE inserted), drawn up to a cap so one near-exact layer (the input QUANTIZE at
 * ~145 dB) does not flatten the rest, the real value still written on the capped bar; and a caption
 * that says what the variant did rather than blaming quantization for a pruned model.
 */
import type { RunResult } from '../../app/worker-protocol';
import type { LayerComparison } from '../../evaluate/compare';

/** Above this SQNR a tensor is as good as exact for any task: bars stop here (and infinite ones too). */
export const SQNR_CAP = 60;
/** Very bad layers are drawn down to here. */
export const SQNR_FLOOR = -10;

export interface LayerBarData {
  key: string;
  /** The float model's op index (-1: the model input, e.g. the variant's input QUANTIZE). */
  opIndex: number;
  value: number;
  /** Drawn at the cap: the label above the bar carries the real value. */
  capped: boolean;
  valueText: string;
  title: string;
}

export const dbText = (v: number | undefined) => (v === undefined ? '—' : v === Infinity ? '∞' : `${v.toFixed(1)} dB`);

/** "SOFTMAX #5" (the float model's op), "input (QUANTIZE)" for the variant's input quantize. */
export function layerName(l: LayerComparison): string {
  if (l.referenceOpIndex === undefined) return `${l.op} #${l.opIndex}`; // results saved before the float op was recorded
  return l.referenceOpIndex < 0 ? `input (${l.op || 'as is'})` : `${l.referenceOp} #${l.referenceOpIndex}`;
}

/** The float model's op index of a layer (the variant's when the result predates it). */
export function layerOpIndex(l: LayerComparison): number {
  return l.referenceOpIndex ?? l.opIndex;
}

export function layerBars(layers: LayerComparison[]): LayerBarData[] {
  return layers.map((l) => {
    const capped = !(l.sqnrDb < SQNR_CAP);
    const value = capped ? SQNR_CAP : Math.max(SQNR_FLOOR, l.sqnrDb);
    const variantOp = l.referenceOpIndex !== undefined ? ` (variant's op ${l.op} #${l.opIndex})` : '';
    return { key: layerName(l), opIndex: layerOpIndex(l), value, capped, valueText: dbText(l.sqnrDb), title: `${layerName(l)}${variantOp}: SQNR ${dbText(l.sqnrDb)}` };
  });
}

const TECHNIQUE_WORDS: Record<string, string> = {
  int8: 'int8 quantization',
  int16x8: '16x8 quantization',
  dynamic: 'dynamic-range int8 weights',
  float16: 'float16 weights',
  'weight-only': 'int8 weight-only storage',
};

/** What the variant did to the model, in words: "pruning 50% of the weights, then int8 quantization". */
export function variantActions(result: Pick<RunResult, 'recipe' | 'chain'>): string {
  const parts = result.chain ? result.chain.text.split('+') : [result.recipe.technique];
  const words = parts.map((part) => {
    const [step, a, b] = part.split(':');
    if (step === 'prune') return b === '2of4' ? 'pruning 2 of every 4 weights' : `pruning ${Math.round(Number(a) * 100)}% of the weights`;
    if (step === 'cluster') return `clustering the weights to ${a} values${b === 'per-channel' ? ' per channel' : ''}`;
    if (step === 'finetune') return 'fine-tuning';
    if (step === 'qat') return 'quantization-aware training';
    return TECHNIQUE_WORDS[step] ?? step;
  });
  return words.length > 1 ? `${words.slice(0, -1).join(', ')}, then ${words[words.length - 1]}` : words[0];
}

export function layerCaption(result: Pick<RunResult, 'recipe' | 'chain'>): string {
  return `SQNR of every intermediate tensor vs the float model (higher is better; bars stop at ${SQNR_CAP} dB, the value written above). The lowest bars are the layers where ${variantActions(result)} changed the values most.`;
}
