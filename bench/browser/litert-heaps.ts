/**
 * Node side of the browser benches: the size of LiteRT's wasm heap in each of a page's workers
 * (nested ones included, as Playwright lists them), as bench/scale.ts reads it in Node. The renderer's
 * own mappings cannot tell: Chromium's V8 sandbox keeps wasm memories and ArrayBuffers in one region.
 * Read through Playwright's worker.evaluate: the worker imports @litertjs/core again by the URL that
 * src/runtime/start.ts imports it from (Vite's pre-bundled module, read from the dev server's
 * transform of start.ts; a worker's resource timing lists no module scripts), which gives back the
 * same module instance, and so LiteRT's module-level state. Dev server only.
 */
import type { Page } from 'playwright-core';

export interface WorkerHeap {
  /** The worker script's file name. */
  worker: string;
  /** HEAPU8.length: the heap as grown so far (it never shrinks). */
  bytes: number;
}

export async function litertHeaps(page: Page): Promise<WorkerHeap[]> {
  const heaps = await Promise.all(
    page.workers().map(async (worker) => {
      const bytes = await worker
        .evaluate(async () => {
          const start = await (await fetch('/src/runtime/start.ts')).text();
          const url = /["']([^"']*@litertjs_core\.js[^"']*)["']/.exec(start)?.[1];
          if (!url) return null;
          const core = (await import(/* @vite-ignore */ url)) as { getGlobalLiteRt(): { liteRtWasm: { HEAPU8: Uint8Array } } };
          try {
            return core.getGlobalLiteRt().liteRtWasm.HEAPU8.length;
          } catch {
            return null; // LiteRT not started in this worker
          }
        })
        .catch(() => null);
      return bytes === null ? null : { worker: worker.url().split('/').pop()!.split('?')[0], bytes };
    }),
  );
  return heaps.filter((h): h is WorkerHeap => h !== null);
}
