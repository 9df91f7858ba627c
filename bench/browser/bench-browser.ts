/**
 * What the browser benches share: Vite's dev server with the app's config (so pages and workers are
 * cross-origin isolated, as the app runs) serving the repository and ../shared, and Debian's headless
 * Chromium in a throwaway profile. `close` takes both down and removes the profile.
 */
import type { BrowserContext } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, launchChromium } from '../../e2e/chromium.mjs';
import { repoRoot, sharedDir } from '../../src/test-support/shared';

export interface BenchBrowser {
  /** The dev server's address, ending in '/'. */
  base: string;
  context: BrowserContext;
  close(): Promise<void>;
}

/** `entries`: the files Vite pre-bundles dependencies for; `name` names the profile folder; `args` go to Chromium besides the usual ones. */
export async function openBenchBrowser(name: string, entries: string[], args: string[] = []): Promise<BenchBrowser> {
  const server = await createServer({
    root: repoRoot,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [repoRoot, sharedDir] } },
    optimizeDeps: { entries },
  });
  await server.listen();
  const base = `http://127.0.0.1:${(server.httpServer!.address() as { port: number }).port}/`;
  const browser = await launchChromium(`${name}-`, { args: [...CHROMIUM_ARGS, ...args] });
  return {
    base,
    context: browser.context,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
