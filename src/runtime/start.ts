/**
 * Starting LiteRT.js, once: its wasm module in Node (node-shim.ts) or in the browser (a Web Worker or
 * the page), with the wasm's output routed into capture.ts.
 */
import { getGlobalLiteRtPromise, loadLiteRt } from '@litertjs/core';
import { WorkbenchError } from '../errors';
import { errorText, exclusive, failureCause, glueHooks } from './capture';

export interface RuntimeOptions {
  /**
   * Folder (URL) holding LiteRT's wasm files, in the browser. Default: `litert/` beside the page;
   * inside a worker, `litert/` under Vite's base URL (pass the page's URL explicitly if the app is
   * not at the root of its origin). Ignored in Node, which reads node_modules/@litertjs/core/wasm/.
   */
  wasmBase?: string;
}

let initPromise: Promise<void> | null = null;

function isNode(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string }; type?: string }; document?: unknown; WorkerGlobalScope?: unknown };
  return Boolean(g.process?.versions?.node) && g.process?.type !== 'renderer' && g.document === undefined && g.WorkerGlobalScope === undefined;
}

/**
 * Loads the LiteRT wasm module once; later calls return the same promise (a failed start can be
 * retried). LiteRT picks its wasm build: the relaxed-SIMD one where the engine has relaxed SIMD
 * (browsers; Node >= 22), else the "compat" one (Node 20). Never the threaded or JSPI builds.
 */
export function initRuntime(options: RuntimeOptions = {}): Promise<void> {
  if (!initPromise) {
    initPromise = startLiteRt(options).catch((error: unknown) => {
      initPromise = null;
      throw error instanceof WorkbenchError ? error : new WorkbenchError('runtime', `LiteRT could not start: ${errorText(error)}`);
    });
  }
  return initPromise;
}

/** Where the browser runtime loaded its wasm from (for a nested worker to load the same); null in Node or before initRuntime. */
let browserWasmBase: string | null = null;

export function runtimeWasmBase(): string | null {
  return browserWasmBase;
}

async function startLiteRt(options: RuntimeOptions): Promise<void> {
  const already = getGlobalLiteRtPromise();
  if (already) {
    await already;
    return;
  }
  let wasmBase: string;
  let uninstall: () => void;
  if (isNode()) {
    const { nodeLiteRtSetup } = await import('./node-shim');
    const setup = await nodeLiteRtSetup();
    wasmBase = setup.wasmDir;
    uninstall = setup.installGlobals(glueHooks);
  } else {
    wasmBase = new URL(options.wasmBase ?? defaultWasmBase(), globalThis.location?.href).href;
    if (!wasmBase.endsWith('/')) wasmBase += '/';
    uninstall = installBrowserGlobals(wasmBase);
  }
  const started = await exclusive(async () => {
    try {
      await loadLiteRt(wasmBase);
    } finally {
      uninstall();
    }
  });
  if (started.failed) throw new WorkbenchError('runtime', `LiteRT could not start (wasm from ${wasmBase}): ${failureCause(started)}`);
  if (!isNode()) browserWasmBase = wasmBase;
}

function defaultWasmBase(): string {
  const g = globalThis as { WorkerGlobalScope?: unknown; location?: Location };
  const here = g.location?.href ?? '/';
  if (g.WorkerGlobalScope === undefined) return new URL('litert/', here).href;
  // A worker's own URL is where its bundle lives (assets/), not the page; use the app's base.
  const base = (import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/';
  return new URL(`${base.endsWith('/') ? base : `${base}/`}litert/`, g.location?.origin ?? here).href;
}

/**
 * LiteRT loads its glue with `importScripts` in a worker, which module workers (Vite's dev server)
 * refuse or lack; then the glue is fetched synchronously and evaluated at global scope instead. The
 * emscripten `Module` settings route the wasm's stdout/stderr into our capture and point it at the
 * .wasm beside the glue (in a worker it would otherwise look next to the worker's script).
 */
function installBrowserGlobals(wasmBase: string): () => void {
  const g = globalThis as Record<string, unknown>;
  const saved = { importScripts: g.importScripts, Module: g.Module };
  const original = typeof saved.importScripts === 'function' ? (saved.importScripts as (...urls: string[]) => void) : null;
  const inWorker = g.WorkerGlobalScope !== undefined;
  if (inWorker) {
    g.importScripts = (...urls: string[]) => {
      if (original) {
        try {
          original.apply(globalThis, urls);
          return;
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
        }
      }
      for (const url of urls) evaluateScriptSync(url);
    };
  }
  g.Module = { print: glueHooks.print, printErr: glueHooks.printErr, locateFile: (file: string) => wasmBase + file };
  return () => {
    if (inWorker) restore(g, 'importScripts', saved.importScripts);
    restore(g, 'Module', saved.Module);
  };
}

function restore(g: Record<string, unknown>, name: string, value: unknown): void {
  if (value === undefined) delete g[name];
  else g[name] = value;
}

function evaluateScriptSync(url: string): void {
  const request = new XMLHttpRequest();
  request.open('GET', url, false);
  request.send();
  if (request.status !== 200) throw new Error(`could not fetch ${url} (HTTP ${request.status})`);
  // Indirect eval runs at global scope, so the glue's `var ModuleFactory` becomes a global.
  (0, eval)(`${request.responseText}\n//# sourceURL=${url}`);
}
