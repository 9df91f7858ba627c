/**
 * What an option is, as the command table declares it. The key is the option's name in camelCase
 * (`calibCount`); its flag is the same words in kebab case (`--calib-count`), so handlers read
 * `options.calibCount` and nothing spells the flag a second time.
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One letter, e.g. `o` for `-o`. */
  short?: string;
  /** May be given more than once; the handler gets every value, in order. */
  multiple?: boolean;
  /** The value's placeholder in usage text, e.g. `N` or `DIR|FILE.npy` (string options only). */
  value?: string;
  help: string;
}

/** Options that belong together and are offered as one block by every command that takes them. */
export interface OptionGroup {
  title: string;
  options: Readonly<Record<string, OptionSpec>>;
}

export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** How usage text shows an option: `-o OUT`, `--calib DIR|FILE.npy`, `--json`. */
export function optionSynopsis(key: string, spec: OptionSpec): string {
  const flag = spec.short ? `-${spec.short}` : flagOf(key);
  return spec.value ? `${flag} ${spec.value}` : flag;
}

/** Booleans are always there (false when absent) and repeatable options always a list. */
type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S extends { multiple: true } ? string[] : string | undefined;

export type OptionValues<O extends OptionGroup['options']> = { -readonly [K in keyof O]: ValueOf<O[K]> };

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** The parsed options of a command that takes these groups. */
export type GroupValues<G extends readonly OptionGroup[]> = UnionToIntersection<{ [I in keyof G]: OptionValues<G[I]['options']> }[number]>;

export type OptionName<G extends readonly OptionGroup[]> = Extract<keyof GroupValues<G>, string>;
