/**
 * The first visit after `npm start` on a fresh machine: Vite's dev server with an empty dependency
 * cache. Opening a sample starts the workers; if Vite meets a dependency it did not pre-bundle, it
 * re-optimizes and reloads the page, and the model the user just opened is gone. The page must load
 * once and keep the model.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, ROOT } from './support.mjs';

test('first visit to a fresh dev server: no reload, the opened sample stays', { timeout: 240_000 }, async () => {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'vite-cache-'));
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'first-visit-'));
  const server = await createServer({ root: ROOT, cacheDir, logLevel: 'silent', server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await context.newPage();
    let loads = 0;
    page.on('load', () => { loads++; console.log(`page load ${loads} at ${new Date().toISOString()}`); });
    await page.goto(`http://127.0.0.1:${server.httpServer.address().port}/`);
    await page.getByTestId('sample-mnist').click();
    await page.getByTestId('summary-file-name').waitFor({ timeout: 120_000 });
    // Vite re-optimizes some time after it meets a new dependency; give it that time to reload.
    await page.waitForTimeout(8_000);
    assert.equal(loads, 1, 'the page loaded once');
    assert.equal((await page.getByTestId('summary-file-name').textContent()).trim(), 'mnist_conv_fc_float.tflite');
  } finally {
    await context.close();
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(userDataDir, { recursive: true, force: true });
  }
});
