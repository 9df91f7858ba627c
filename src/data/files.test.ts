import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { dataDir } from '../test-support/shared';
import { filesFromFileList, filesFromZip, type PickedFile } from './files';
import { filesFromPath } from './files-node';

const text = (s: string) => new TextEncoder().encode(s);
const picked = (path: string, content: string, folderPick = true): PickedFile => ({
  name: path.slice(path.lastIndexOf('/') + 1),
  webkitRelativePath: folderPick ? path : '',
  size: content.length,
  arrayBuffer: async () => text(content).buffer as ArrayBuffer,
});

const scratch = mkdtempSync(join(tmpdir(), 'files-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('filesFromFileList', () => {
  it('drops the picked folder from paths, sorts, and skips hidden files', async () => {
    const files = filesFromFileList([
      picked('pets/dog/b.jpg', 'B'),
      picked('pets/.DS_Store', 'x'),
      picked('pets/cat/a.jpg', 'A'),
      picked('pets/__MACOSX/cat/._a.jpg', 'x'),
      picked('pets/dog/.hidden/c.jpg', 'x'),
    ]);
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ['cat/a.jpg', 1],
      ['dog/b.jpg', 1],
    ]);
    expect(new TextDecoder().decode(await files[1].read())).toBe('B');
  });

  it('takes paths worked out by the caller, e.g. from a dropped folder', () => {
    const dropped = [picked('x', ''), picked('x', '')].map((f, i) => ({ ...f, webkitRelativePath: '', relativePath: ['/pets/dog/1.png', '/pets/cat/2.png'][i] }));
    expect(filesFromFileList(dropped).map((f) => f.path)).toEqual(['cat/2.png', 'dog/1.png']);
    const twoFolders = [picked('x', ''), picked('x', '')].map((f, i) => ({ ...f, webkitRelativePath: '', relativePath: ['/dog/1.png', '/cat/2.png'][i] }));
    expect(filesFromFileList(twoFolders).map((f) => f.path)).toEqual(['cat/2.png', 'dog/1.png']);
  });

  it('uses the names of loose files', () => {
    expect(filesFromFileList([picked('z.npy', ''), picked('a.npy', '')].map((f) => ({ ...f, webkitRelativePath: '' }))).map((f) => f.path)).toEqual(['a.npy', 'z.npy']);
  });
});

describe('filesFromZip', () => {
  it('lists entries without folders, strips a single wrapping folder, and inflates on read', async () => {
    const zip = zipSync({
      'data/': new Uint8Array(0),
      'data/cat/1.png': text('one'),
      'data/dog/2.png': [text('two'.repeat(1000)), { level: 9 }],
      'data/.git/config': text('x'),
    });
    const files = filesFromZip(zip);
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ['cat/1.png', 3],
      ['dog/2.png', 3000],
    ]);
    expect(new TextDecoder().decode(await files[1].read())).toBe('two'.repeat(1000));
  });

  it('keeps top-level folders when there are several', () => {
    const files = filesFromZip(zipSync({ 'cat/1.png': text('1'), 'dog/2.png': text('2') }));
    expect(files.map((f) => f.path)).toEqual(['cat/1.png', 'dog/2.png']);
  });

  it('refuses bytes that are not a zip', () => {
    expect(() => filesFromZip(text('not a zip at all'), 'data.zip')).toThrow(WorkbenchError);
    expect(() => filesFromZip(text('not a zip at all'), 'data.zip')).toThrow(/^Cannot read data\.zip: it is not a readable zip archive/);
  });
});

describe('filesFromPath', () => {
  it('walks a folder recursively, sorted, relative to it', async () => {
    const files = await filesFromPath(join(dataDir, 'mnist_t10k'));
    expect(files.map((f) => f.path)).toEqual([
      'README.md',
      ...Array.from({ length: 10 }, (_, i) => `png_samples/sample${i}.png`),
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
    ]);
    expect(files.find((f) => f.path === 't10k-labels-idx1-ubyte.gz')!.size).toBe(4542);
  });

  it('takes a single file as a one-file dataset and a .zip as its contents', async () => {
    const single = await filesFromPath(join(dataDir, 'sample_images', 'burger.jpg'));
    expect(single.map((f) => [f.path, f.size])).toEqual([['burger.jpg', 30300]]);
    mkdirSync(join(scratch, 'z'));
    writeFileSync(join(scratch, 'z', 'set.zip'), zipSync({ 'a/x.npy': text('x'), 'b/y.npy': text('y') }));
    writeFileSync(join(scratch, 'z', '.hidden'), 'h');
    expect((await filesFromPath(join(scratch, 'z', 'set.zip'))).map((f) => f.path)).toEqual(['a/x.npy', 'b/y.npy']);
    expect((await filesFromPath(join(scratch, 'z'))).map((f) => f.path)).toEqual(['set.zip']);
  });

  it('says so when the path does not exist', async () => {
    await expect(filesFromPath(join(scratch, 'missing'))).rejects.toThrow(/^No such file or folder: .*missing\.$/);
  });
});
