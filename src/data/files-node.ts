/**
 * Dataset files from a path on disk (CLI, Node tests). Node-only: browser code never imports this.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WorkbenchError } from '../errors';
import { extensionOf, filesFromZip, isHiddenPath, sortedFiles, type DataFile } from './files';

/**
 * A directory (read recursively; hidden files and folders skipped; sorted by path), a .zip archive
 * (its contents), or a single file (its name is its path).
 */
export async function filesFromPath(path: string): Promise<DataFile[]> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new WorkbenchError('bad-input', `No such file or folder: ${path}.`);
  if (info.isFile()) {
    if (extensionOf(path) === '.zip') return filesFromZip(new Uint8Array(await readFile(path)), path);
    return [diskFile(path, basename(path), info.size)];
  }
  if (!info.isDirectory()) throw new WorkbenchError('bad-input', `${path} is neither a file nor a folder.`);
  const files: DataFile[] = [];
  await walk(path, '', files, 0);
  return sortedFiles(files);
}

/** Deeper than this is a symbolic-link loop, not a dataset. */
const MAX_DEPTH = 32;

async function walk(root: string, relative: string, into: DataFile[], depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw new WorkbenchError('bad-input', `${join(root, relative)} is nested more than ${MAX_DEPTH} folders deep (a symbolic link loop?).`);
  const dir = relative ? join(root, relative) : root;
  const names = await readdir(dir);
  for (const name of names) {
    const path = relative ? `${relative}/${name}` : name;
    if (isHiddenPath(name)) continue;
    // stat (not lstat): symbolic links to files and folders are followed.
    const info = await stat(join(root, path)).catch(() => null);
    if (!info) continue;
    if (info.isDirectory()) await walk(root, path, into, depth + 1);
    else if (info.isFile()) into.push(diskFile(join(root, path), path, info.size));
  }
}

function diskFile(absolute: string, path: string, size: number): DataFile {
  return { path, size, read: async () => new Uint8Array(await readFile(absolute)) };
}
