/**
 * The files of a dataset, wherever they come from: a folder picked or dropped in the browser, a zip
 * archive, or (in Node, see files-node.ts) a path on disk. Each is read only when needed, so a
 * dataset of thousands of images costs nothing until its samples are used.
 */
import { unzipSync } from 'fflate';
import { WorkbenchError } from '../errors';

export interface DataFile {
  /** '/'-separated, relative to the dataset root, no leading '/' or './'. */
  path: string;
  /** Bytes (uncompressed size for zip entries). */
  size: number;
  read(): Promise<Uint8Array>;
}

/** Hidden files and folders (".DS_Store", ".git/...") and macOS zip resource forks are skipped. */
export function isHiddenPath(path: string): boolean {
  return path.split('/').some((part) => part.startsWith('.') || part === '__MACOSX' || part === 'Thumbs.db' || part === 'desktop.ini');
}

/** Code-unit order of the whole path: the same everywhere (no locale), so sample i is the same file in every environment. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Normalizes separators and drops leading '/', './' and empty segments. */
export function normalizePath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** Sorted, hidden files dropped, duplicate paths refused. */
export function sortedFiles(files: DataFile[]): DataFile[] {
  const visible = files.filter((f) => f.path && !isHiddenPath(f.path)).sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 1; i < visible.length; i++) {
    if (visible[i].path === visible[i - 1].path) throw new WorkbenchError('bad-input', `The dataset has two files at ${visible[i].path}.`);
  }
  return visible;
}

/** What a browser gives for a picked or dropped file (a File, or anything shaped like one). */
export interface PickedFile {
  name: string;
  /** "picked-folder/sub/file.jpg" for folder picks (<input webkitdirectory>); empty otherwise. */
  webkitRelativePath?: string;
  /** A path worked out by the caller, e.g. a dropped folder entry's fullPath ("/pets/cat/a.jpg"). */
  relativePath?: string;
  size?: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Files from a browser folder pick or drop. Paths come from `relativePath`, else `webkitRelativePath`, else
 * the name. A folder that holds everything (the picked or dropped folder itself, which every path
 * then starts with) is taken as the dataset root and dropped from the paths.
 */
export function filesFromFileList(files: ArrayLike<PickedFile>): DataFile[] {
  const list = Array.from(files);
  const paths = stripSharedFolder(list.map((file) => normalizePath(file.relativePath || file.webkitRelativePath || file.name)));
  return sortedFiles(
    list.map((file, i) => ({
      path: paths[i],
      size: file.size ?? 0,
      read: async () => new Uint8Array(await file.arrayBuffer()),
    })),
  );
}

/** Paths without their first folder when every (visible) path is inside that same folder. */
function stripSharedFolder(paths: string[]): string[] {
  const visible = paths.filter((p) => !isHiddenPath(p));
  const top = visible[0]?.split('/')[0];
  const shared = visible.length > 0 && visible.every((p) => p.startsWith(`${top}/`));
  return shared ? paths.map((p) => (p.startsWith(`${top}/`) ? p.slice(top.length + 1) : p)) : paths;
}

/**
 * The files inside a zip archive (folders and hidden files left out). Entries are decompressed one
 * at a time when read. A single top folder holding everything ("mydata/...", as zipping a folder
 * makes) is taken as the dataset root.
 */
export function filesFromZip(bytes: Uint8Array, name = 'the zip file'): DataFile[] {
  const entries: { name: string; size: number }[] = [];
  try {
    // The filter sees every entry's header; answering false lists the archive without inflating it.
    unzipSync(bytes, {
      filter: (file) => {
        if (!file.name.endsWith('/')) entries.push({ name: file.name, size: file.originalSize });
        return false;
      },
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new WorkbenchError('bad-input', `Cannot read ${name}: it is not a readable zip archive (${why}).`);
  }
  const paths = stripSharedFolder(entries.map((e) => normalizePath(e.name)));
  const files = entries.map((entry, i) => ({
    path: paths[i],
    size: entry.size,
    read: async () => {
      let out: Uint8Array | undefined;
      try {
        out = unzipSync(bytes, { filter: (file) => file.name === entry.name })[entry.name];
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new WorkbenchError('bad-input', `Cannot read ${entry.name} from ${name}: ${why}.`);
      }
      if (!out) throw new WorkbenchError('bad-input', `Cannot read ${entry.name} from ${name}: the entry is missing.`);
      return out;
    },
  }));
  return sortedFiles(files);
}

/** Files from in-memory bytes (tests, generated data, a single dropped file). */
export function fileFromBytes(path: string, bytes: Uint8Array): DataFile {
  return { path: normalizePath(path), size: bytes.length, read: async () => bytes };
}

/** Lower-case extension with its dot ('.jpg'), or '' when there is none. */
export function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
