/**
 * A command's arguments read by its entry in the command table: its options by name (camelCase),
 * its one MODEL path, or a request for its help. An unknown option is named with its likely spelling.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestSpelling } from './closest-spelling';
import { commandOptions, type Command } from './commands';
import { flagOf, optionSynopsis } from './option-spec';
import { UsageError } from './usage-error';

export type ParsedCommandLine = { help: true } | { help: false; options: Record<string, unknown>; model: string };

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

const longName = (key: string) => flagOf(key).slice(2);

function parseArgsOptions(command: Command): ParseArgsOptions {
  const options: ParseArgsOptions = { help: { type: 'boolean', short: 'h' } };
  for (const [key, spec] of commandOptions(command)) {
    options[longName(key)] = {
      type: spec.type,
      ...(spec.short && { short: spec.short }),
      ...(spec.multiple && { multiple: true }),
      // Handlers get false for an absent boolean and [] for an absent list, never undefined.
      ...(spec.type === 'boolean' ? { default: false } : spec.multiple ? { default: [] } : {}),
    };
  }
  return options;
}

export function parseCommandLine(command: Command, args: string[]): ParsedCommandLine {
  const config = parseArgsOptions(command);
  // A lenient pass first: it finds --help anywhere, and every option the user wrote, so an unknown
  // one is named with its right spelling instead of node's generic message.
  const loose = parseArgs({ args, options: config, strict: false, allowPositionals: true, tokens: true });
  if (loose.values.help === true) return { help: true };
  for (const token of loose.tokens) {
    if (token.kind === 'option' && !Object.hasOwn(config, token.name)) throw unknownOption(command, token.rawName);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: config, allowPositionals: true });
  } catch (error) {
    // A value missing or given to a boolean: node's message names the option and says which.
    if (isParseArgsError(error)) throw new UsageError((error as Error).message);
    throw error;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one MODEL path, got ${parsed.positionals.length}`);
  const options: Record<string, unknown> = {};
  for (const [key, spec] of commandOptions(command)) {
    options[key] = parsed.values[longName(key)];
    if (options[key] === undefined && command.required.includes(key)) throw new UsageError(`missing ${optionSynopsis(key, spec)}`);
  }
  return { help: false, options, model: parsed.positionals[0] };
}

function unknownOption(command: Command, rawName: string): UsageError {
  const spellings = [...commandOptions(command).flatMap(([key, spec]) => (spec.short ? [flagOf(key), `-${spec.short}`] : [flagOf(key)])), '--help'];
  // One letter (-x) is too little to guess from.
  const guess = rawName.startsWith('--') ? closestSpelling(rawName, spellings) : undefined;
  const hint = guess ? `did you mean ${guess}?` : `tflite-opt ${command.name} --help lists the options`;
  return new UsageError(`unknown option ${rawName}; ${hint}`, false);
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS');
}
