/** A flag that takes one of a few words: undefined when absent, a usage error naming the choices otherwise. */
import { UsageError } from './usage-error';

export function choiceOption<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}".`, false);
  return value as T;
}
