/** The value of a count option (--calib-count, --epochs ...), or undefined when it was not given. */
import { UsageError } from './usage-error';

export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive integer, got "${value}"`);
  return n;
}
