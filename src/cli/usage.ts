/**
 * Usage text, generated from the command table so it is written once: the overview
 * (`tflite-opt --help`), one command's synopsis (shown with a usage error) and its help
 * (`tflite-opt COMMAND --help`), which explains each option.
 */
import { commandOptions, type Command } from './commands';
import { flagOf, optionSynopsis, type OptionSpec } from './option-spec';

const WIDTH = 100;
/** Where option descriptions start in a command's help, unless all its option names are shorter. */
const DESCRIPTION_COLUMN = 32;

/** Words in lines of at most WIDTH characters (a longer word gets a line of its own, unbroken). */
function wrap(words: string[], firstIndent: string, indent: string): string {
  const lines: string[] = [];
  let line = firstIndent;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent + word;
    } else line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

function requiredOptions(command: Command): string[] {
  return commandOptions(command)
    .filter(([key]) => command.required.includes(key))
    .map(([key, spec]) => optionSynopsis(key, spec));
}

/** `tflite-opt optimize MODEL -o OUT [--io float|int8|uint8] [--exclude REGEX|OP_TYPE]... ...` */
export function synopsis(command: Command, indent = ''): string {
  const optional = commandOptions(command)
    .filter(([key]) => !command.required.includes(key))
    .map(([key, spec]) => `[${optionSynopsis(key, spec)}]${spec.multiple ? '...' : ''}`);
  return wrap(['tflite-opt', command.name, 'MODEL', ...requiredOptions(command), ...optional], indent, `${indent}    `);
}

export function overviewUsage(commands: readonly Command[]): string {
  const nameWidth = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'usage:',
    ...commands.map((c) => synopsis(c, '  ')),
    '',
    'commands:',
    ...commands.map((c) => wrap(c.summary.split(' '), `  ${c.name.padEnd(nameWidth)}`, ' '.repeat(2 + nameWidth))),
    '',
    'tflite-opt COMMAND --help explains each option of COMMAND.',
    '',
  ].join('\n');
}

function optionLabel(key: string, spec: OptionSpec): string {
  const flags = spec.short ? `-${spec.short}, ${flagOf(key)}` : flagOf(key);
  return `  ${spec.value ? `${flags} ${spec.value}` : flags}`;
}

function optionLine(label: string, help: string, column: number): string {
  const pad = ' '.repeat(column);
  const words = help.split(' ');
  return label.length + 2 > column ? `${label}\n${wrap(words, pad, pad)}` : wrap(words, label.padEnd(column), pad);
}

export function commandHelp(command: Command): string {
  const groups = [
    ...command.groups.map((g) => ({ title: g.title, options: Object.entries(g.options).map(([key, spec]) => [optionLabel(key, spec), spec.help]) })),
    { title: 'help', options: [['  -h, --help', 'print this help']] },
  ];
  const column = Math.min(DESCRIPTION_COLUMN, Math.max(...groups.flatMap((g) => g.options.map(([label]) => label.length))) + 2);
  const lines = [['usage: tflite-opt', command.name, 'MODEL', ...requiredOptions(command), '[options]'].join(' '), '', command.summary];
  for (const group of groups) lines.push('', `${group.title}:`, ...group.options.map(([label, help]) => optionLine(label, help, column)));
  if (command.notes) lines.push('', command.notes);
  return `${lines.join('\n')}\n`;
}
