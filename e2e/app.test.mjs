/**
 * End-to-end tests of the app shell in Debian Chromium (playwright-core), against the production
 * build served by `vite preview` on a free localhost port. Run: `npm run test:e2e` (builds first).
 *
 * Expected values come from /work/shared/models/SOURCES.md (flatc dumps of the same files).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { preview } from 'vite';
import { busyMainThread, observeMainThread } from './main-thread.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES_DIR = path.join(ROOT, 'public', 'samples');
const MNIST = 'mnist_conv_fc_float.tflite';
const MOBILENET = 'mobilenet_v1_0.25_224_float_metadata.tflite';
const KWS = 'kws_dscnn_int8.tflite';
const SCREENSHOT_DIR = path.join(tmpdir(), 'tflite-workbench-e2e');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TEST_TIMEOUT = 90_000;

/** Deterministic "random" bytes (mulberry32), so a failure can be reproduced. */
function pseudoRandomBytes(length, seed) {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}

let server;
let baseURL;
let context;
let userDataDir;
/** Every request any page or worker made during the whole run. */
const requests = [];

before(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'index.html'))) {
    throw new Error('dist/ is missing: run `npm run test:e2e` (it runs `vite build` first).');
  }
  server = await preview({
    root: ROOT,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
  });
  const address = server.httpServer.address();
  assert.ok(address && typeof address === 'object' && address.port > 0, 'preview server is listening');
  baseURL = `http://127.0.0.1:${address.port}/`;

  userDataDir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  context.on('request', (request) => requests.push(request.url()));
  // Long tasks on the main thread, recorded from the very start of every page.
  await observeMainThread(context);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

after(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

/** A fresh page on the app; `problems` collects page errors and console errors. */
async function openApp() {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  await page.goto(baseURL);
  await page.getByTestId('empty-state').waitFor();
  return { page, problems };
}

function summaryOf(page, fileName) {
  return page.locator(`[data-testid="summary"][data-file-name="${fileName}"]`);
}

/** [[op, count], ...] in the order shown. */
async function opRows(page) {
  // The summary's container can paint a frame before its tables: wait for a row before reading.
  await page.getByTestId('op-row').first().waitFor();
  return page
    .getByTestId('op-row')
    .evaluateAll((rows) => rows.map((row) => [row.dataset.op, Number(row.querySelector('td.numeric').textContent)]));
}

async function tensorRows(page, table) {
  return page
    .getByTestId(table)
    .getByTestId('tensor-row')
    .evaluateAll((rows) =>
      rows.map((row) => {
        const text = (id) => row.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
        return {
          name: text('tensor-name'),
          shape: text('tensor-shape'),
          signature: text('tensor-signature'),
          dtype: text('tensor-dtype'),
          quantization: text('tensor-quantization'),
        };
      }),
    );
}

async function legend(page) {
  return page
    .getByTestId('weights-legend')
    .locator('li[data-dtype]')
    .evaluateAll((items) => items.map((item) => [item.dataset.dtype, Number(item.dataset.bytes)]));
}

async function factText(page, testId) {
  return (await page.getByTestId(testId).locator('dd').textContent()).trim();
}

/** Drops a file on the page the way a browser does: dragenter, dragover, drop with a DataTransfer. */
async function dropFile(page, fileName, bytes, { checkOverlay = false } = {}) {
  const data = [...bytes];
  await page.evaluate(
    ({ fileName, data }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], fileName, { type: 'application/octet-stream' }));
      const fire = (type) =>
        document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
      fire('dragenter');
      fire('dragover');
      window.__dropTransfer = transfer;
    },
    { fileName, data },
  );
  if (checkOverlay) {
    await page.getByTestId('drop-overlay').waitFor({ state: 'visible' });
    const text = await page.getByTestId('drop-overlay').textContent();
    assert.match(text, /Drop the \.tflite file to open it/);
  }
  const defaultPrevented = await page.evaluate(() => {
    const event = new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: window.__dropTransfer });
    document.body.dispatchEvent(event);
    delete window.__dropTransfer;
    return event.defaultPrevented;
  });
  assert.equal(defaultPrevented, true, 'the app handles the drop (the browser does not navigate to the file)');
  await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
}

describe('tflite-workbench app shell', () => {
  test('(a) file chooser: MNIST summary shows I/O, ops, facts and the weights bar', { timeout: TEST_TIMEOUT }, async () => {
    const { page, problems } = await openApp();
    assert.equal(
      (await page.getByTestId('empty-state').locator('h2').textContent()).trim(),
      'Drop a .tflite file here, pick one, or try a sample — nothing leaves your machine',
    );
    assert.equal(await page.getByTestId('file-input').getAttribute('accept'), '.tflite');
    assert.equal((await page.getByTestId('file-picker-label').textContent()).trim(), 'Open .tflite file…');

    const started = Date.now();
    await page.getByTestId('file-input').setInputFiles(path.join(SAMPLES_DIR, MNIST));
    await summaryOf(page, MNIST).waitFor();
    console.log(`# MNIST summary shown ${Date.now() - started} ms after choosing the file`);
    assert.equal(await page.getByTestId('empty-state').count(), 0);
    assert.equal((await page.getByTestId('summary-file-name').textContent()).trim(), MNIST);

    assert.deepEqual(await tensorRows(page, 'inputs'), [
      {
        name: 'serving_default_conv2d_input:0',
        shape: '[1, 28, 28, 1]',
        signature: 'dynamic [?, 28, 28, 1]',
        dtype: 'FLOAT32',
        quantization: 'none',
      },
    ]);
    assert.deepEqual(await tensorRows(page, 'outputs'), [
      {
        name: 'StatefulPartitionedCall:0',
        shape: '[1, 10]',
        signature: 'dynamic [?, 10]',
        dtype: 'FLOAT32',
        quantization: 'none',
      },
    ]);

    // SOURCES.md: FULLY_CONNECTED x2, CONV_2D x1, AVERAGE_POOL_2D x1, RESHAPE x1, SOFTMAX x1 (sorted by count, then name).
    assert.deepEqual(await opRows(page), [
      ['FULLY_CONNECTED', 2],
      ['AVERAGE_POOL_2D', 1],
      ['CONV_2D', 1],
      ['RESHAPE', 1],
      ['SOFTMAX', 1],
    ]);
    assert.equal(await factText(page, 'fact-ops'), '6 (5 kinds)');

    // SOURCES.md: constant buffers FLOAT32 202,432 B, INT32 8 B -> 50,608 + 2 parameters.
    assert.deepEqual(await legend(page), [
      ['FLOAT32', 202_432],
      ['INT32', 8],
    ]);
    const bar = page.getByTestId('weights-bar');
    assert.equal(await bar.getAttribute('role'), 'img');
    assert.equal(
      await bar.getAttribute('aria-label'),
      'Weight bytes by dtype: FLOAT32 202,432 bytes (>99.9%), INT32 8 bytes (0.004%); total 202,440 bytes.',
    );
    const segments = await bar.locator('.weights-segment').evaluateAll((spans) =>
      spans.map((span) => [span.dataset.dtype, span.getBoundingClientRect().width]),
    );
    const barWidth = (await bar.boundingBox()).width;
    assert.equal(segments.length, 2);
    assert.equal(segments[0][0], 'FLOAT32');
    assert.ok(segments[0][1] > 0.95 * barWidth - 8, `FLOAT32 fills the bar (${segments[0][1]} of ${barWidth} px)`);
    assert.ok(segments[1][1] >= 3, `the 8-byte INT32 share stays visible (${segments[1][1]} px)`);

    assert.equal(await factText(page, 'fact-size'), '205 KB (205,040 bytes)');
    assert.equal(await page.getByTestId('fact-size').locator('dd > span').first().getAttribute('title'), '205,040 bytes');
    assert.match(await factText(page, 'fact-gzip'), /^\d{3} KB \(\d+(\.\d)?% of the file\)$/);
    assert.equal(await factText(page, 'fact-params'), '50.6 K (50,610)');
    assert.equal(await factText(page, 'fact-quantization'), 'Float32 (not quantized)');
    assert.equal(await factText(page, 'fact-subgraphs'), '1');
    assert.equal(await factText(page, 'fact-signatures'), 'serving_default (1 in, 1 out)');
    assert.equal(await factText(page, 'fact-custom-ops'), 'none');
    assert.match(await factText(page, 'fact-metadata'), /^min_runtime_version \(\d+ B\)CONVERSION_METADATA \(\d+ B\)$/);
    assert.equal(await factText(page, 'fact-associated-files'), 'none');
    assert.equal(await factText(page, 'fact-schema'), '3');
    assert.equal(await factText(page, 'fact-description'), 'MLIR Converted.');
    assert.match(await page.getByTestId('notes').textContent(), /dynamic/i);

    // Op list (collapsed): opening it shows every op in execution order with its dtypes.
    const opList = page.getByTestId('op-list');
    assert.equal(await page.getByTestId('op-list-table').count(), 0, 'the op list renders only when opened');
    await opList.locator('summary').click();
    // The table renders on the toggle event, after the click returns; evaluateAll does not wait for rows.
    await page.getByTestId('op-list-row').first().waitFor();
    const opListRows = await page.getByTestId('op-list-row').evaluateAll((trs) => trs.map((tr) => [tr.cells[0].textContent, tr.dataset.op, tr.cells[2].textContent, tr.cells[3].textContent]));
    assert.deepEqual(opListRows, [
      ['0', 'CONV_2D', 'FLOAT32 → FLOAT32', 'FLOAT32 x2'],
      ['1', 'AVERAGE_POOL_2D', 'FLOAT32 → FLOAT32', 'no'],
      ['2', 'RESHAPE', 'FLOAT32 → FLOAT32', 'INT32'],
      ['3', 'FULLY_CONNECTED', 'FLOAT32 → FLOAT32', 'FLOAT32 x2'],
      ['4', 'FULLY_CONNECTED', 'FLOAT32 → FLOAT32', 'FLOAT32'],
      ['5', 'SOFTMAX', 'FLOAT32 → FLOAT32', 'no'],
    ]);

    // Largest constant: the 32x1568 FLOAT32 FC weights, 200,704 bytes.
    const largest = page.getByTestId('largest-row').first();
    assert.match(await largest.textContent(), /FLOAT32\[32, 1568\]201 KB/);

    assert.deepEqual(problems, []);
    await page.close();
  });

  test('(b) bad files (random, truncated) via chooser and drop: clear error, previous summary kept', { timeout: TEST_TIMEOUT }, async () => {
    const { page, problems } = await openApp();
    const mnistBytes = await readFile(path.join(SAMPLES_DIR, MNIST));
    const random = pseudoRandomBytes(4096, 20240601);
    const truncated = mnistBytes.subarray(0, 100_000);
    const banner = page.getByTestId('error-banner');

    await page.getByTestId('file-input').setInputFiles(path.join(SAMPLES_DIR, MNIST));
    await summaryOf(page, MNIST).waitFor();

    const expectError = async (fileName, code, messagePattern) => {
      await banner.waitFor();
      assert.equal(await banner.getAttribute('role'), 'alert');
      assert.equal(await banner.getAttribute('data-code'), code);
      assert.equal((await page.getByTestId('error-title').textContent()).trim(), `Could not open ${fileName}`);
      assert.match(await page.getByTestId('error-message').textContent(), messagePattern);
      // The previous model's summary is still there, below the error.
      assert.equal(await summaryOf(page, MNIST).isVisible(), true);
      assert.equal((await page.getByTestId('summary-file-name').textContent()).trim(), MNIST);
      assert.deepEqual((await opRows(page))[0], ['FULLY_CONNECTED', 2]);
      const bannerBox = await banner.boundingBox();
      const summaryBox = await page.getByTestId('summary').boundingBox();
      assert.ok(bannerBox.y + bannerBox.height <= summaryBox.y, 'the error shows above the summary');
    };
    const dismiss = async () => {
      await page.getByTestId('error-dismiss').click();
      await banner.waitFor({ state: 'detached' });
      assert.equal(await summaryOf(page, MNIST).isVisible(), true);
    };

    // Chooser: random bytes, then a truncated copy of a real model.
    await page.getByTestId('file-input').setInputFiles({ name: 'random.tflite', mimeType: 'application/octet-stream', buffer: random });
    await expectError('random.tflite', 'not-tflite', /TFL3/);
    await dismiss();
    await page.getByTestId('file-input').setInputFiles({ name: 'truncated.tflite', mimeType: 'application/octet-stream', buffer: truncated });
    await expectError('truncated.tflite', 'truncated', /truncated/);
    await page.getByTestId('file-input').setInputFiles({ name: 'empty.tflite', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) });
    await expectError('empty.tflite', 'empty-file', /empty/);
    await dismiss();

    // Synthetic drop events: the same two bad files.
    await dropFile(page, 'dropped-random.tflite', random, { checkOverlay: true });
    await expectError('dropped-random.tflite', 'not-tflite', /TFL3/);
    await dropFile(page, 'dropped-truncated.tflite', truncated);
    await expectError('dropped-truncated.tflite', 'truncated', /truncated/);

    // The app still opens the next good file, by drop and by the chooser; the error goes away.
    await dropFile(page, KWS, await readFile(path.join(SAMPLES_DIR, KWS)));
    await summaryOf(page, KWS).waitFor();
    assert.equal(await banner.count(), 0);
    assert.equal(await factText(page, 'fact-ops'), '13 (6 kinds)');
    await page.getByTestId('file-input').setInputFiles(path.join(SAMPLES_DIR, MNIST));
    await summaryOf(page, MNIST).waitFor();
    assert.equal(await factText(page, 'fact-ops'), '6 (5 kinds)');

    // A drag that carries no files (e.g. selected text) shows no overlay.
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.setData('text/plain', 'hello');
      document.body.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    });
    assert.equal(await page.getByTestId('drop-overlay').count(), 0);

    assert.deepEqual(problems, []);
    await page.close();
  });

  test('(c) bundled samples: MobileNet (metadata, labels.txt) and KWS int8 by keyboard; no long task while parsing', { timeout: TEST_TIMEOUT }, async () => {
    const { page, problems } = await openApp();
    const since = await page.evaluate(() => performance.now());
    await page.getByTestId('sample-mobilenet').click();
    await summaryOf(page, MOBILENET).waitFor();
    // Let two frames pass so the render after the result is over and its long task (if any) is reported.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.waitForTimeout(200);
    const longTasks = await page.evaluate((since) => window.__longTasks.filter((task) => task.start >= since), since);
    console.log(`# long tasks while opening the 1.9 MB sample: ${JSON.stringify(longTasks)}`);
    assert.deepEqual(longTasks.filter((task) => task.duration > 100), [], 'no main-thread task over 100 ms');

    assert.equal(await factText(page, 'fact-associated-files'), 'labels.txt');
    assert.match(await factText(page, 'fact-metadata'), /^TFLITE_METADATA \(1\.04 KB\)$/);
    assert.equal(await factText(page, 'fact-size'), '1.89 MB (1,894,378 bytes)');
    assert.equal(await factText(page, 'fact-params'), '468 K (467,593)');
    assert.equal(await factText(page, 'fact-signatures'), 'none');
    assert.equal(await factText(page, 'fact-description'), 'TOCO Converted.');
    assert.deepEqual(await opRows(page), [
      ['CONV_2D', 15],
      ['DEPTHWISE_CONV_2D', 13],
      ['AVERAGE_POOL_2D', 1],
      ['SOFTMAX', 1],
      ['SQUEEZE', 1],
    ]);
    assert.deepEqual(await tensorRows(page, 'inputs'), [
      { name: 'input', shape: '[1, 224, 224, 3]', signature: null, dtype: 'FLOAT32', quantization: 'none' },
    ]);
    assert.deepEqual(await tensorRows(page, 'outputs'), [
      { name: 'MobilenetV1/Predictions/Reshape_1', shape: '[1, 1001]', signature: null, dtype: 'FLOAT32', quantization: 'none' },
    ]);
    assert.deepEqual(await legend(page), [['FLOAT32', 1_870_372]]);
    assert.match(await page.getByTestId('largest-row').first().textContent(), /^MobilenetV1\/Logits\/Conv2d_1c_1x1\/weightsFLOAT32\[1001, 1, 1, 256\]1\.03 MB54\.8%$/);
    assert.equal(await page.getByTestId('notes').count(), 0);

    // The long-task observer does see a long task in an ordinary page task (otherwise the check above
    // proves nothing).
    const busy = await page.evaluate(() => performance.now());
    await busyMainThread(page, 150);
    const seen = await page.evaluate((busy) => window.__longTasks.filter((task) => task.start >= busy - 1), busy);
    assert.ok(seen.some((task) => task.duration >= 140), `the observer records a deliberate 150 ms task: ${JSON.stringify(seen)}`);

    // Keyboard: Tab from the top of the page reaches the file picker, then the three samples, each with
    // a visible focus outline; Enter on the KWS sample opens it.
    await page.locator('.brand h1').click(); // moves the sequential focus starting point to the page top
    const focusOrder = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      focusOrder.push(
        await page.evaluate(() => {
          const element = document.activeElement;
          const outlined = element.type === 'file' ? element.closest('label') : element;
          return [element.dataset.testid, getComputedStyle(outlined).outlineStyle, getComputedStyle(outlined).outlineWidth];
        }),
      );
    }
    assert.deepEqual(focusOrder, [
      ['file-input', 'solid', '3px'],
      ['sample-mobilenet', 'solid', '3px'],
      ['sample-mnist', 'solid', '3px'],
      ['sample-kws', 'solid', '3px'],
    ]);
    await page.keyboard.press('Enter');
    await summaryOf(page, KWS).waitFor();
    assert.equal(await factText(page, 'fact-quantization'), 'Full integer int8');
    assert.deepEqual(await tensorRows(page, 'inputs'), [
      { name: 'input_1', shape: '[1, 49, 10, 1]', signature: 'dynamic [?, 49, 10, 1]', dtype: 'INT8', quantization: 'scale 0.584703, zero point 83' },
    ]);
    assert.deepEqual(await tensorRows(page, 'outputs'), [
      { name: 'Identity', shape: '[1, 12]', signature: 'dynamic [?, 12]', dtype: 'INT8', quantization: 'scale 0.00390625, zero point -128' },
    ]);
    // SOURCES.md: INT8 22,016 B, INT32 2,360 B.
    assert.deepEqual(await legend(page), [
      ['INT8', 22_016],
      ['INT32', 2_360],
    ]);

    assert.deepEqual(problems, []);
    await page.close();
  });

  test('(d) LiteRT wasm is served at litert/, the page is cross-origin isolated, and no request leaves the local server', { timeout: TEST_TIMEOUT }, async () => {
    const { page, problems } = await openApp();
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP headers make the page cross-origin isolated');
    const expectedSize = (await stat(path.join(ROOT, 'node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm'))).size;
    const wasm = await page.evaluate(async () => {
      const response = await fetch('litert/litert_wasm_internal.wasm');
      const bytes = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, type: response.headers.get('content-type'), size: bytes.length, magic: [...bytes.subarray(0, 4)] };
    });
    assert.deepEqual(wasm, { status: 200, type: 'application/wasm', size: expectedSize, magic: [0, 0x61, 0x73, 0x6d] });
    const glue = await page.evaluate(async () => (await fetch('litert/litert_wasm_threaded_internal.js')).status);
    assert.equal(glue, 200);
    // Some traffic of our own, so this test does not depend on the others having run.
    await page.getByTestId('sample-mobilenet').click();
    await summaryOf(page, MOBILENET).waitFor();
    await page.getByTestId('sample-kws').click();
    await summaryOf(page, KWS).waitFor();
    await page.close();

    const origin = new URL(baseURL).origin;
    const foreign = requests.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin);
    assert.deepEqual(foreign, [], 'every request goes to the local preview server');
    // The list really holds the run's traffic, worker script and samples included.
    assert.ok(requests.some((url) => /\/assets\/model\.worker-[\w-]+\.js$/.test(url)), 'the model worker script was requested');
    assert.ok(requests.some((url) => url.endsWith(`/samples/${MOBILENET}`)), 'the MobileNet sample was fetched');
    assert.ok(requests.some((url) => url.endsWith(`/samples/${KWS}`)), 'the KWS sample was fetched');
    console.log(`# ${requests.length} requests, all to ${origin}`);
    assert.deepEqual(problems, []);
  });

  test('(e) layout at 1280x800: screenshots in /tmp, no horizontal overflow, key parts above the fold', { timeout: TEST_TIMEOUT }, async () => {
    const { page, problems } = await openApp();
    const shot = async (name) => {
      const file = path.join(SCREENSHOT_DIR, name);
      await page.screenshot({ path: file });
      assert.ok((await stat(file)).size > 10_000, `${file} is a real screenshot`);
      return file;
    };
    const noHorizontalOverflow = async () => {
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      assert.ok(scrollWidth <= clientWidth, `no horizontal scrolling (${scrollWidth} > ${clientWidth})`);
    };
    const aboveFold = async (testId) => {
      const box = await page.getByTestId(testId).first().boundingBox();
      assert.ok(box && box.y >= 0 && box.y + Math.min(box.height, 40) <= 800, `${testId} starts within the first 800 px (${JSON.stringify(box)})`);
    };

    assert.deepEqual(page.viewportSize(), { width: 1280, height: 800 });
    const files = [await shot('1-empty.png')];
    await noHorizontalOverflow();
    await aboveFold('empty-state');
    for (const id of ['file-picker-label', 'sample-mobilenet', 'sample-mnist', 'sample-kws']) await aboveFold(id);

    await page.getByTestId('sample-mobilenet').click();
    await summaryOf(page, MOBILENET).waitFor();
    files.push(await shot('2-mobilenet.png'));
    await noHorizontalOverflow();
    for (const id of ['summary-file-name', 'facts', 'weights-bar', 'op-table']) await aboveFold(id);

    await page.getByTestId('file-input').setInputFiles(path.join(SAMPLES_DIR, MNIST));
    await summaryOf(page, MNIST).waitFor();
    await page.getByTestId('file-input').setInputFiles({ name: 'not-a-model.tflite', mimeType: 'text/plain', buffer: Buffer.from('{"hello": "world"}') });
    await page.getByTestId('error-banner').waitFor();
    files.push(await shot('3-error-over-mnist.png'));
    await noHorizontalOverflow();
    await aboveFold('error-banner');
    await aboveFold('facts');
    assert.match(await page.getByTestId('error-message').textContent(), /JSON/);

    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(8)], 'x.tflite'));
      document.body.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    });
    await page.getByTestId('drop-overlay').waitFor();
    files.push(await shot('4-drag-overlay.png'));
    const overlay = await page.getByTestId('drop-overlay').boundingBox();
    assert.deepEqual(overlay, { x: 0, y: 0, width: 1280, height: 800 }, 'the overlay covers the whole window');
    // Leaving the window without dropping hides it again; nothing was opened.
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(8)], 'x.tflite'));
      document.body.dispatchEvent(new DragEvent('dragleave', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    });
    await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
    assert.equal(await summaryOf(page, MNIST).isVisible(), true);

    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '5-mnist-full-page.png'), fullPage: true });
    console.log(`# screenshots: ${files.join(', ')}`);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
