/**
 * tflite-opt: the workbench core from the command line. The commands and their options are the
 * table in commands.ts; `tflite-opt --help` and `tflite-opt COMMAND --help` print it.
 *
 * Output goes to stdout, progress and errors to stderr. A bad file or a failed run exits 1 with one
 * line; a bad command line exits 2 with the line and the usage (an unknown option: the line alone).
 */
import { toErrorInfo } from '../errors';
import { closestSpelling } from './closest-spelling';
import { COMMANDS, type Command } from './commands';
import { parseCommandLine } from './parse-command-line';
import { commandHelp, overviewUsage, synopsis } from './usage';
import { UsageError } from './usage-error';

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    // Asked for, the overview is a success; without any command it is still shown, but a script that
    // forgot its command fails.
    process.stdout.write(overviewUsage(COMMANDS));
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const guess = closestSpelling(name, COMMANDS.map((c) => c.name));
    process.stderr.write(`tflite-opt: unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''}\n${overviewUsage(COMMANDS)}`);
    return 2;
  }
  try {
    const parsed = parseCommandLine(command, args);
    if (!parsed.help) return await command.run(parsed.options, parsed.model);
    process.stdout.write(commandHelp(command));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tflite-opt ${command.name}: ${error.message}\n${error.showUsage ? usageReminder(command) : ''}`);
      return 2;
    }
    process.stderr.write(`tflite-opt: ${toErrorInfo(error).message}\n`);
    return 1;
  }
}

function usageReminder(command: Command): string {
  return `usage:\n${synopsis(command, '  ')}\ntflite-opt ${command.name} --help explains each option.\n`;
}
