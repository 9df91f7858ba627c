/**
 * When an optimization result is a failure rather than a result: it left ops in float that nobody
 * asked for, changed nothing, or came out larger than its input. Such a model must not be handed over
 * as if the technique had worked; the caller refuses it unless the user allows float fallback.
 */
import { WorkbenchError } from '../errors';
import type { FloatOp } from './quantize/integer';

/**
 * Reasons for staying float that are the user's choice or the runtime's limit, not a failure (ops
 * with no float tensors at all are not float ops; fallbackVerdict drops them first).
 */
const EXPECTED = [/^kept in float by the recipe$/, /^no int8 kernel$/, /^no int16x8 kernel$/];

export interface FloatOpCause {
  reason: string;
  count: number;
  /** The first few ops, as "OP #index". */
  examples: string[];
}

export interface FallbackVerdict {
  /** Ops left in float for a reason other than the recipe or a missing kernel. */
  unexpected: FloatOp[];
  /** Counts by cause over every op left in float. */
  causes: FloatOpCause[];
  /** The result is larger than the input model. */
  grew: boolean;
  /** Nothing was converted: every op with float tensors stayed float, or no weight was re-stored. */
  nothingDone: boolean;
  /** One line for the UI and the CLI; empty when the result is not a failure. */
  failure: string;
}

const EXAMPLES = 4;

export function floatOpCauses(floatOps: FloatOp[]): FloatOpCause[] {
  const byReason = new Map<string, FloatOpCause>();
  for (const f of floatOps) {
    // Per-tensor detail ("no calibration range for tensor "x"") would make every op its own cause.
    const reason = f.reason.replace(/ for tensor ".*"$/, '');
    const cause = byReason.get(reason) ?? { reason, count: 0, examples: [] };
    cause.count++;
    if (cause.examples.length < EXAMPLES) cause.examples.push(`${f.op} #${f.opIndex}`);
    byReason.set(reason, cause);
  }
  return [...byReason.values()].sort((a, b) => b.count - a.count);
}

/** "12 op(s) left in float: 11 no int16x8 kernel (HARD_SWISH #1, ...), 1 ..." in one short line. */
export function summarizeFloatOps(floatOps: FloatOp[]): string {
  const causes = floatOpCauses(floatOps)
    .map((c) => `${c.count} ${c.reason} (${c.examples.join(', ')}${c.count > c.examples.length ? ', ...' : ''})`)
    .join('; ');
  return `${floatOps.length} op(s) left in float with QUANTIZE/DEQUANTIZE around them: ${causes}`;
}

export function fallbackVerdict(input: { floatOps: FloatOp[]; nothingDone: boolean; inputBytes: number; outputBytes: number }): FallbackVerdict {
  const shown = input.floatOps.filter((f) => f.reason !== 'no float tensors');
  const unexpected = shown.filter((f) => !EXPECTED.some((re) => re.test(f.reason)));
  const grew = input.outputBytes > input.inputBytes;
  const problems: string[] = [];
  if (input.nothingDone) problems.push('the technique changed nothing in this model');
  if (unexpected.length) problems.push(summarizeFloatOps(unexpected).replace(' with QUANTIZE/DEQUANTIZE around them', ' that the recipe did not exclude'));
  if (grew) problems.push(`the result (${input.outputBytes} bytes) is larger than the input (${input.inputBytes} bytes)`);
  return { unexpected, causes: floatOpCauses(shown), grew, nothingDone: input.nothingDone, failure: problems.join('; ') };
}

/** Thrown when a result is a failure and the user did not allow float fallback; carries the verdict. */
export class FloatFallbackError extends WorkbenchError {
  readonly verdict: FallbackVerdict;
  readonly floatOps: FloatOp[];
  constructor(label: string, verdict: FallbackVerdict, floatOps: FloatOp[]) {
    super('float-fallback', `${label} failed: ${verdict.failure}. Allow float fallback (CLI: --allow-float-fallback) to keep such a result.`);
    this.name = 'FloatFallbackError';
    this.verdict = verdict;
    this.floatOps = floatOps;
  }
}
