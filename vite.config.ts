import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** LiteRT.js wasm + emscripten glue, served at `litert/` (relative to the app base). */
const LITERT_WASM_DIR = fileURLToPath(new URL('./node_modules/@litertjs/core/wasm/', import.meta.url));
const LITERT_URL_DIR = 'litert/';

/** Headers that make the page cross-origin isolated, so threaded (SharedArrayBuffer) wasm can run. */
const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function contentTypeOf(fileName: string): string {
  if (fileName.endsWith('.wasm')) return 'application/wasm';
  if (fileName.endsWith('.js')) return 'text/javascript';
  return 'application/octet-stream';
}

/**
 * Serves node_modules/@litertjs/core/wasm/* at <base>litert/* from the dev server and copies the
 * files into dist/litert/ on build (the preview server then serves them like any built asset).
 */
function litertWasm(): Plugin {
  const fileNames = () => readdirSync(LITERT_WASM_DIR).filter((name) => !name.startsWith('.'));
  return {
    name: 'tflite-workbench:litert-wasm',
    configureServer(server) {
      const prefix = `${server.config.base}${LITERT_URL_DIR}`;
      server.middlewares.use((req, res, next) => {
        const path = req.url?.split('?')[0] ?? '';
        if (!path.startsWith(prefix)) return next();
        const fileName = decodeURIComponent(path.slice(prefix.length));
        for (const [header, value] of Object.entries(CROSS_ORIGIN_ISOLATION)) res.setHeader(header, value);
        if (!fileNames().includes(fileName)) {
          res.statusCode = 404;
          res.end(`No such LiteRT file: ${fileName}`);
          return;
        }
        res.setHeader('Content-Type', contentTypeOf(fileName));
        res.setHeader('Cache-Control', 'no-cache');
        res.end(readFileSync(LITERT_WASM_DIR + fileName));
      });
    },
    generateBundle() {
      for (const fileName of fileNames()) {
        this.emitFile({
          type: 'asset',
          fileName: LITERT_URL_DIR + fileName,
          source: readFileSync(LITERT_WASM_DIR + fileName),
        });
      }
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [react(), litertWasm()],
  worker: { format: 'es' },
  // Scan the workers too when the dev server starts: a dependency first met when a worker starts
  // (tfjs, comlink...) made Vite re-optimize and reload the page, dropping the model just opened
  // (e2e/dev-first-visit.test.mjs).
  optimizeDeps: { entries: ['index.html', 'workers/*.worker.ts'] },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  build: { target: 'es2022' },
});
