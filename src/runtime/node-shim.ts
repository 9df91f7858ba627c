/**
 * What LiteRT.js needs to start under Node (tests, CLI).
 *
 * Its loader is written for browsers: it loads the emscripten glue `litert_wasm_*.js` with
 * `importScripts` (in a worker) or a <script> tag, then calls the global `self.ModuleFactory` the glue
 * defines. Here `importScripts` reads the glue from node_modules and evaluates it as a function of
 * `require`, `__dirname` and `__filename` (the glue's Node branch uses them to read the .wasm next to
 * it). The globals are added only while LiteRT loads and removed afterwards, so that other emscripten
 * modules (e.g. the tfjs WASM backend) do not mistake Node for a worker.
 *
 * Node modules are imported dynamically with a computed specifier, so a browser bundle never tries
 * to resolve them; this file is only imported on the Node path of start.ts.
 */

/** Emscripten `Module` settings: where the wasm's stdout/stderr go. */
export interface GlueHooks {
  print(text: string): void;
  printErr(text: string): void;
}

export interface NodeLiteRtSetup {
  /** The folder holding LiteRT's wasm files (node_modules/@litertjs/core/wasm/). */
  wasmDir: string;
  /** Adds `self`, `importScripts` and `Module` to globalThis; returns the function that removes them. */
  installGlobals(hooks: GlueHooks): () => void;
}

type NodeRequire = (id: string) => unknown;

// Computed specifiers: bundlers leave these imports alone.
const NODE_FS = 'node:fs';
const NODE_PATH = 'node:path';
const NODE_MODULE = 'node:module';

export async function nodeLiteRtSetup(): Promise<NodeLiteRtSetup> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs');
  const path = (await import(/* @vite-ignore */ NODE_PATH)) as typeof import('node:path');
  const { createRequire } = (await import(/* @vite-ignore */ NODE_MODULE)) as typeof import('node:module');
  const require = createRequire(import.meta.url) as NodeRequire & { resolve(id: string): string };
  const packageJson = require.resolve('@litertjs/core/package.json');
  const wasmDir = path.join(path.dirname(packageJson), 'wasm') + path.sep;

  function importScripts(...urls: string[]): void {
    for (const url of urls) {
      const file = url.startsWith('file:') ? new URL(url) : url;
      const text = fs.readFileSync(file, 'utf8');
      const filename = typeof file === 'string' ? file : file.pathname;
      const factory = new Function('require', '__dirname', '__filename', `${text}\nreturn ModuleFactory;`);
      (globalThis as Record<string, unknown>).ModuleFactory = factory(require, path.dirname(filename), filename);
    }
  }

  function installGlobals(hooks: GlueHooks): () => void {
    const g = globalThis as Record<string, unknown>;
    const saved = new Map<string, PropertyDescriptor | undefined>();
    const set = (name: string, value: unknown) => {
      if (!saved.has(name)) saved.set(name, Object.getOwnPropertyDescriptor(g, name));
      g[name] = value;
    };
    if (!('self' in g)) set('self', globalThis);
    set('importScripts', importScripts);
    set('Module', { print: hooks.print, printErr: hooks.printErr });
    set('ModuleFactory', undefined);
    return () => {
      for (const [name, descriptor] of saved) {
        if (descriptor) Object.defineProperty(g, name, descriptor);
        else delete g[name];
      }
    };
  }

  return { wasmDir, installGlobals };
}
