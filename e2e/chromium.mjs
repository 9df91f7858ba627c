// Debian's headless Chromium in a throwaway profile: what the e2e tests (support.mjs) and the browser benches (bench/browser) launch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** Offline, no sandbox (root in CI), no GPU process (none here; WebGPU tests add their flag). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A persistent context in a new profile folder named from `prefix`; `options` go to launchPersistentContext (args default to CHROMIUM_ARGS). close() removes the profile. */
export async function launchChromium(prefix, options = {}) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), prefix));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, ...options });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
