/**
 * A command line that cannot be right whatever the files hold (unknown option, missing -o, a count
 * that is not a number). main.ts prints it with the usage and exits 2, where a bad file exits 1.
 */
export class UsageError extends Error {
  /** false when the message alone says how to fix it (an unknown option with its right spelling). */
  readonly showUsage: boolean;

  constructor(message: string, showUsage = true) {
    super(message);
    this.name = 'UsageError';
    this.showUsage = showUsage;
  }
}
