/** Reading a file the user named, with an error that names it and says what is wrong. */
import { readFileSync } from 'node:fs';
import { WorkbenchError } from '../errors';

export function readInputFile(path: string, what = 'file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new WorkbenchError('bad-input', `cannot read ${what} ${path}: ${why}`);
  }
}
