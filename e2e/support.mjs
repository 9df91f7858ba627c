// Shared by the e2e tests (not a test file itself): Chromium flags, a dev server or the production preview with a browser, MNIST PNGs.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import { createServer, preview } from 'vite';
import { CHROMIUM_ARGS, launchChromium } from './chromium.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(ROOT, '../shared');

export { CHROMIUM_ARGS };

/** The first `count` MNIST test digits as PNG files in class folders ("7/0000.png"). */
export function mnistPngs(count) {
  const dir = path.join(SHARED, 'data', 'mnist_t10k');
  const images = gunzipSync(readFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz')));
  const entries = {};
  for (let i = 0; i < count; i++) {
    const pixels = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
    entries[`${labels[8 + i]}/${String(i).padStart(4, '0')}.png`] = encode({ width: 28, height: 28, data: new Uint8Array(pixels), channels: 1, depth: 8 });
  }
  return entries;
}

/** Debian Chromium with a fresh profile opened on a started Vite `server`; close() stops both. */
async function withChromium(server, prefix, launchOptions) {
  const base = `http://127.0.0.1:${server.httpServer.address().port}/`;
  const browser = await launchChromium(prefix, launchOptions);
  return {
    base,
    context: browser.context,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Vite's dev server on a free port and Chromium with WebGPU (SwiftShader); close() stops both. */
export async function devServerWithWebGpu(prefix) {
  const server = await createServer({ root: ROOT, logLevel: 'silent', server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  return withChromium(server, prefix, { args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] });
}

/**
 * Vite's preview of the production build (dist/) on a free port and Debian Chromium with a fresh
 * profile; `options` go to launchPersistentContext (viewport, downloads). close() stops both.
 */
export async function previewWithChromium(prefix, options = {}) {
  if (!existsSync(path.join(ROOT, 'dist', 'index.html'))) throw new Error('dist/ is missing: run `npx vite build` first.');
  const server = await preview({ root: ROOT, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false } });
  return withChromium(server, prefix, { args: CHROMIUM_ARGS, ...options });
}

/**
 * previewWithChromium plus a work folder holding `digits` MNIST PNGs zipped (`zip`, the file to
 * give the data input); close() also removes the folder.
 */
export async function previewWithDigits(prefix, digits, options = {}) {
  const browser = await previewWithChromium('tflite-workbench-chromium-', options);
  const workDir = await mkdtemp(path.join(tmpdir(), prefix));
  const zip = path.join(workDir, `digits-${digits}.zip`);
  await writeFile(zip, zipSync(mnistPngs(digits), { level: 0 }));
  return {
    ...browser,
    workDir,
    zip,
    async close() {
      await browser.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
