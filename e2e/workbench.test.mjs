/**
 * End-to-end test of the optimization workbench in Debian Chromium (playwright-core) against the
 * production build served by `vite preview`: MNIST sample, wizard, a zip of real MNIST test digits
 * (PNG, one folder per class, made here from the shared IDX files), float16 + dynamic + int8 runs in
 * the worker with progress (no main-thread task over 100 ms meanwhile), a cluster:16:per-channel+int8 chain variant, results table and Pareto charts,
 * keep-a-layer-in-float re-run and the chain run for a microcontroller target (TFLM arena / flash / op check vs Node), cancel,
 * download of the int8 model (checked and run in Node), reload restores the session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { chromium } from 'playwright-core';
import { mainThreadIn, observeMainThread } from './main-thread.mjs';
import { CHROMIUM_ARGS, mnistPngs } from './support.mjs';
import { tsImport } from 'tsx/esm/api';
import { preview } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MNIST = 'mnist_conv_fc_float.tflite';
const SCREENSHOT_DIR = path.join(tmpdir(), 'tflite-workbench-e2e');
const DIGITS = 600;

let server;
let baseURL;
let context;
let userDataDir;
let workDir;
let zipPath;
let pngs;
const requests = [];

/** The first `count` MNIST test digits as PNGs: { "<label>/<index>.png": bytes }. */
before(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'index.html'))) throw new Error('dist/ is missing: run `npm run test:e2e` (it builds first).');
  server = await preview({ root: ROOT, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false } });
  baseURL = `http://127.0.0.1:${server.httpServer.address().port}/`;
  userDataDir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-chromium-'));
  workDir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-data-'));
  zipPath = path.join(workDir, 'mnist-digits.zip');
  pngs = mnistPngs(DIGITS);
  await writeFile(zipPath, zipSync(pngs, { level: 0 }));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  context.on('request', (request) => requests.push(request.url()));
  await observeMainThread(context);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

after(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const shot = (page, name) => page.screenshot({ path: path.join(SCREENSHOT_DIR, name) });

function variant(page, label) {
  return page.locator(`[data-testid="variant"][data-label="${label}"]`);
}

async function waitStatus(page, label, status, timeout = 60_000) {
  await page.locator(`[data-testid="variant"][data-label="${label}"][data-status="${status}"]`).first().waitFor({ timeout });
}

describe('tflite-workbench optimization flow', () => {
  test('MNIST: wizard, data, float16 + dynamic + int8 runs, charts, table, keep a layer float, cancel, download, reload', { timeout: 200_000 }, async () => {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
    });
    const t0 = Date.now();
    await page.goto(baseURL);
    await page.getByTestId('empty-state').waitFor();
    await page.getByTestId('sample-mnist').click();
    await page.locator(`[data-testid="summary"][data-file-name="${MNIST}"]`).waitFor();
    await page.getByTestId('workbench').waitFor();
    await page.getByTestId('experiments-empty').waitFor();
    await page.getByTestId('results-empty').waitFor();

    // Wizard: web (LiteRT.js; same recommendations as CPU), labeled data -> int8 and dynamic recommended; float16 added by hand.
    await page.getByTestId('wizard-target').getByLabel('Web (LiteRT.js)').check();
    await page.getByTestId('wizard-data').getByLabel('Labeled data').check();
    const recommended = await page.getByTestId('recommendations').locator('li').evaluateAll((items) => items.map((li) => li.dataset.technique));
    assert.deepEqual(recommended, ['int8', 'dynamic']);
    await page.getByTestId('use-recommendations').click();
    await page.getByTestId('add-technique').selectOption('float16');
    await page.getByTestId('add-variant').click();
    assert.equal(await page.getByTestId('variant').count(), 3);

    // Data: a zip of 200 real MNIST digits in class folders.
    await page.getByTestId('data-files-input').setInputFiles(zipPath);
    await page.locator(`[data-testid="data-info"][data-size="${DIGITS}"][data-labeled="true"]`).waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('prep-source').textContent(), /Proposed/);
    await page.getByTestId('preview-item').nth(5).waitFor({ timeout: 30_000 });
    const previewOk = await page.getByTestId('preview-item').locator('.ok').count();
    assert.ok(previewOk >= 5, `the float model gets most preview digits right with x/255 (${previewOk}/6)`);
    assert.equal(await page.getByTestId('split-calibration').inputValue(), '100');
    await shot(page, 'wb-1-data.png');
    console.log(`# model + wizard + data ready in ${Date.now() - t0} ms`);

    // Run all three; progress shows; the page never blocks for more than 100 ms.
    const runStart = await page.evaluate(() => performance.now());
    const t1 = Date.now();
    await page.getByTestId('run-all').click();
    await page.locator('[data-testid="variant"][data-status="running"]').first().waitFor();
    await page.locator('[data-testid="variant"][data-status="running"] progress').first().waitFor();
    // The screenshot itself makes Chromium paint the page on the main thread: its window is left out.
    const shotStart = await page.evaluate(() => performance.now());
    await page.getByTestId('experiments').scrollIntoViewIfNeeded();
    await shot(page, 'wb-2-running.png');
    const shotEnd = await page.evaluate(() => performance.now());
    for (const label of ['int8', 'dynamic', 'float16']) await waitStatus(page, label, 'done', 90_000);
    console.log(`# 3 variants optimized + evaluated in ${Date.now() - t1} ms`);
    // The charts and the per-layer chart update as each variant finishes: the window measured runs
    // until the last of them is drawn (plus a margin), not only until the last status flips.
    await page.getByTestId('layer-chart').waitFor({ timeout: 20_000 });
    await page.waitForTimeout(300);
    const runEnd = await page.evaluate(() => performance.now());
    const mainThread = await mainThreadIn(page, runStart, runEnd, [[shotStart, shotEnd]]);
    console.log(`# long tasks during runs: ${JSON.stringify(mainThread.tasks)}, long frames (ms, of which scripts, rendering): ${JSON.stringify(mainThread.frames)}`);
    // All optimizing and evaluating runs in the worker; the main thread only renders progress, the
    // results table and the charts (plain SVG, a few ms: recharts took 80-175 ms per chart mount).
    assert.deepEqual(mainThread.stalls, [], 'no frame with over 100 ms of the page\'s scripts during the runs');

    // Results table with measured numbers.
    const rows = await page.getByTestId('result-row').evaluateAll((trs) =>
      trs.map((tr) => ({ label: tr.dataset.label, accuracy: Number(tr.dataset.accuracy), agreement: Number(tr.dataset.agreement), bytes: Number(tr.dataset.bytes), cell: tr.querySelector('[data-testid="cell-accuracy"]').textContent })),
    );
    console.log(`# results: ${JSON.stringify(rows)}`);
    assert.deepEqual(rows.map((r) => r.label).sort(), ['dynamic', 'float16', 'int8']);
    for (const r of rows) {
      assert.ok(r.accuracy > 0.5, `${r.label} accuracy ${r.accuracy} > 0.5`);
      assert.match(r.cell, /^\d+\.\d%$/);
      assert.ok(r.agreement > 0.5);
    }
    // Web target: each variant was tried on LiteRT.js's WebGPU accelerator; this Chromium has no adapter.
    const webgpu = await page.getByTestId('webgpu-check').evaluateAll((divs) => divs.map((d) => [d.dataset.status, d.textContent]));
    console.log(`# WebGPU check: ${JSON.stringify(webgpu[0])}`);
    assert.equal(webgpu.length, 3);
    for (const [status, text] of webgpu) {
      assert.equal(status, 'no-adapter');
      assert.match(text, /no WebGPU adapter/);
    }
    const floatSize = (await stat(path.join(ROOT, 'public', 'samples', MNIST))).size;
    const int8Row = rows.find((r) => r.label === 'int8');
    assert.ok(int8Row.bytes < 0.35 * floatSize, `int8 is < 0.35x the float model (${int8Row.bytes} vs ${floatSize})`);

    // Pareto charts: an svg with the float reference and the variants' points.
    const results = page.getByTestId('results');
    await results.scrollIntoViewIfNeeded();
    for (const chart of ['pareto-size', 'pareto-latency']) {
      const symbols = await page.getByTestId(chart).locator('svg .chart-point').count();
      assert.ok(symbols >= 4, `${chart}: float + 3 variants drawn (${symbols} symbols)`);
    }
    await page.getByTestId('how-to-read').waitFor();
    await shot(page, 'wb-3-results.png');

    // Download the int8 model: the exact bytes evaluated; check and run it in Node.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="result-row"][data-label="int8"] [data-testid="download-tflite"]').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'mnist_conv_fc_float-int8.tflite');
    const downloaded = path.join(workDir, download.suggestedFilename());
    await download.saveAs(downloaded);
    const bytes = await readFile(downloaded);
    assert.equal(bytes.subarray(4, 8).toString('latin1'), 'TFL3');
    assert.equal(bytes.length, int8Row.bytes, 'the downloaded file is the evaluated variant');
    const run = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'tflite-opt.mjs'), 'run', downloaded, '--json'], { cwd: ROOT });
    assert.ok(run.stdout.length > 0, 'tflite-opt run printed the outputs');
    console.log(`# downloaded int8 model (${bytes.length} bytes) runs in Node LiteRT`);

    // Its accuracy in Node LiteRT on the same evaluation split is the one the table showed. The
    // worker's split: one seeded shuffle of the dataset (files sorted by path), the first 100
    // calibrate, the next 500 evaluate.
    const { randomIndices } = await tsImport('../src/data/dataset.ts', import.meta.url);
    const paths = Object.keys(pngs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const evalDir = path.join(workDir, 'eval');
    for (const i of randomIndices(paths.length, paths.length, 0).slice(100, 600)) {
      await mkdir(path.join(evalDir, path.dirname(paths[i])), { recursive: true });
      await writeFile(path.join(evalDir, paths[i]), pngs[paths[i]]);
    }
    const evaluated = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin', 'tflite-opt.mjs'), 'eval', downloaded, '--ref', path.join(ROOT, 'public', 'samples', MNIST), '--data', evalDir, '--mean', '0', '--std', '255', '--json'],
      { cwd: ROOT, maxBuffer: 64 << 20 },
    );
    const nodeReport = JSON.parse(evaluated.stdout);
    const nodeAccuracy = nodeReport.metrics.classification.accuracy.candidate.top1;
    console.log(`# int8 accuracy: browser table ${int8Row.accuracy}, Node LiteRT on the same 500 digits ${nodeAccuracy}`);
    assert.equal(nodeReport.metrics.samples, 500);
    assert.ok(Math.abs(nodeAccuracy - int8Row.accuracy) <= 0.004, 'same accuracy (within 2 of 500 digits: the browser and Node run different LiteRT wasm builds)');

    // Calibration gives the same result in the browser worker as in Node: quantize the same zip with
    // the CLI (same seeded split: its 100 calibration samples are the worker's) and compare every
    // tensor's quantization parameters with the downloaded model's.
    const nodeInt8 = path.join(workDir, 'node-int8.tflite');
    await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin', 'tflite-opt.mjs'), 'optimize', path.join(ROOT, 'public', 'samples', MNIST), '--recipe', 'int8', '--calib', zipPath, '--calib-count', '100', '--mean', '0', '--std', '255', '-o', nodeInt8],
      { cwd: ROOT },
    );
    const { readModel } = await tsImport('../src/tflite/read.ts', import.meta.url);
    const params = (file) =>
      new Map(readModel(new Uint8Array(readFileSync(file))).subgraphs[0].tensors.filter((t) => t.quantization?.scale).map((t) => [t.name, t.quantization]));
    const browserParams = params(downloaded);
    const nodeParams = params(nodeInt8);
    assert.deepEqual([...browserParams.keys()].sort(), [...nodeParams.keys()].sort(), 'same quantized tensors');
    let worst = 0;
    for (const [name, q] of browserParams) {
      const other = nodeParams.get(name);
      q.scale.forEach((s, i) => {
        worst = Math.max(worst, Math.abs(s - other.scale[i]) / Math.abs(other.scale[i]));
        assert.ok(Math.abs(q.zeroPoint[i] - other.zeroPoint[i]) <= 1, `${name}: zero point ${q.zeroPoint[i]} vs ${other.zeroPoint[i]}`);
      });
    }
    const identical = Buffer.compare(bytes, readFileSync(nodeInt8)) === 0;
    console.log(`# browser vs Node int8: ${browserParams.size} quantized tensors, largest relative scale difference ${worst.toExponential(2)}, files ${identical ? 'byte-identical' : 'differ'}`);
    assert.ok(worst <= 1e-4, `calibration ranges agree between the browser and Node (largest relative scale difference ${worst})`);

    // From here on the target is a microcontroller: the runs below get TFLite Micro's check.
    await page.getByTestId('wizard-target').getByLabel('Microcontroller (TFLite Micro)').check();

    // Per-layer error of int8: keep one layer in float and re-run.
    await page.locator('[data-testid="result-row"][data-label="int8"] th button').click();
    await page.getByTestId('layer-chart').waitFor();
    assert.ok((await page.getByTestId('layer-chart').locator('svg .chart-bar').count()) >= 3, 'per-layer bars drawn');
    const options = await page.getByTestId('layer-select').locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    await page.getByTestId('layer-select').selectOption(options[options.length - 1]);
    await shot(page, 'wb-4-layer.png');
    // int8 agrees with float on 99.6% of the digits: the ones where it does not are shown.
    assert.ok((await page.getByTestId('disagreements').locator('figure').count()) >= 1, 'disagreeing inputs shown');
    await page.getByTestId('keep-layer-float').click();
    await waitStatus(page, 'int8-1float', 'done', 60_000);
    await page.locator('[data-testid="result-row"][data-label="int8-1float"]').waitFor();
    assert.equal(await page.getByTestId('result-row').count(), 4);
    const [floatLayerDownload] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="result-row"][data-label="int8-1float"] [data-testid="download-tflite"]').click()]);
    const floatLayerFile = path.join(workDir, floatLayerDownload.suggestedFilename());
    await floatLayerDownload.saveAs(floatLayerFile);

    // A chain variant: int8 with a cluster step (16 values per output channel) before it.
    await page.getByTestId('add-technique').selectOption('int8');
    await page.getByTestId('add-variant').click();
    const chained = page.getByTestId('variant').last();
    await chained.getByTestId('variant-cluster').check();
    await chained.getByTestId('variant-cluster-k').fill('16');
    await chained.getByTestId('variant-cluster-granularity').selectOption('per-channel');
    assert.equal(await chained.getByTestId('variant-chain').textContent(), 'cluster:16:per-channel+int8');
    assert.equal(await chained.getAttribute('data-label'), 'cluster16pc-int8');
    await chained.getByTestId('run-variant').click();
    await waitStatus(page, 'cluster16pc-int8', 'done', 60_000);
    assert.equal(await chained.locator('[data-stage="cluster"] progress').evaluate((p) => p.value), 1, 'the cluster stage shows as done');
    const chainRow = page.locator('[data-testid="result-row"][data-label="cluster16pc-int8"]');
    const chainAccuracy = Number(await chainRow.getAttribute('data-accuracy'));
    const chainNote = chainRow.getByTestId('chain-note');
    console.log(`# cluster:16:per-channel+int8: accuracy ${chainAccuracy}, ${await chainNote.textContent()}, ${await chainRow.getAttribute('data-bytes')} bytes`);
    assert.ok(chainAccuracy > 0.5, `cluster16pc-int8 accuracy ${chainAccuracy} > 0.5`);
    assert.ok(Number(await chainNote.getAttribute('data-distinct')) <= 16, 'at most 16 values per channel');
    const [chainDownload] = await Promise.all([page.waitForEvent('download'), chainRow.getByTestId('download-tflite').click()]);
    assert.equal(chainDownload.suggestedFilename(), 'mnist_conv_fc_float-cluster16pc-int8.tflite');
    const chainFile = path.join(workDir, chainDownload.suggestedFilename());
    await chainDownload.saveAs(chainFile);
    const chainBytes = await readFile(chainFile);
    assert.equal(chainBytes.subarray(4, 8).toString('latin1'), 'TFL3');
    assert.equal(chainBytes.length, Number(await chainRow.getAttribute('data-bytes')));
    assert.equal(await page.getByTestId('result-row').count(), 5);

    // Microcontroller target: the two variants run after the switch show TFLite Micro's flash and
    // tensor arena estimate and op check, the figures src/evaluate/target-check.ts computes in Node
    // for the downloaded bytes; the ones run for the web target keep their WebGPU check instead.
    const { targetCheck } = await tsImport('../src/evaluate/target-check.ts', import.meta.url);
    const { formatBytes } = await tsImport('../src/ui/format.ts', import.meta.url);
    for (const [label, file] of [['int8-1float', floatLayerFile], ['cluster16pc-int8', chainFile]]) {
      const row = page.locator(`[data-testid="result-row"][data-label="${label}"]`);
      const fileBytes = new Uint8Array(readFileSync(file));
      const expected = targetCheck(readModel(fileBytes), 'mcu', fileBytes.length);
      const estimate = row.getByTestId('mcu-estimate');
      const shown = { arena: Number(await estimate.getAttribute('data-arena')), flash: Number(await estimate.getAttribute('data-flash')), missing: Number(await estimate.getAttribute('data-missing-ops')) };
      const issues = await row.getByTestId('target-issue').evaluateAll((lis) => lis.map((li) => ({ kind: li.dataset.kind, message: li.textContent })));
      console.log(`# MCU ${label}: shown ${JSON.stringify(shown)}, Node arena ${expected.mcu.arenaBytes} (peak live ${expected.mcu.peakLiveBytes}) flash ${expected.mcu.flashBytes}; issues ${JSON.stringify(issues)}`);
      assert.equal(shown.flash, fileBytes.length, `${label}: flash is the .tflite size`);
      assert.equal(shown.arena, expected.mcu.arenaBytes, `${label}: same arena plan as in Node`);
      assert.ok(shown.arena >= expected.mcu.peakLiveBytes && shown.arena > 0, `${label}: the arena holds the peak of live activations`);
      const text = await estimate.textContent();
      assert.ok(text.includes(`flash ${formatBytes(shown.flash)}`) && text.includes(`arena ~${formatBytes(shown.arena)}`), `${label}: figures shown: ${text}`);
      const missing = expected.issues.filter((i) => i.kind === 'unsupported-op');
      assert.equal(shown.missing, missing.length, `${label}: ops without a TFLM kernel`);
      assert.equal(await estimate.getByTestId('mcu-ops').textContent(), missing.length ? `${missing.length} op type(s) without a TFLM kernel` : 'every op has a TFLM kernel');
      assert.deepEqual(issues, expected.issues.map(({ kind, message }) => ({ kind, message })), `${label}: the issues listed are TFLM's`);
      assert.equal(await row.getByTestId('webgpu-check').count(), 0);
    }
    // int8 with one op kept in float runs float kernels on the MCU: the check says so.
    assert.ok(targetCheck(readModel(new Uint8Array(readFileSync(floatLayerFile))), 'mcu', 1).issues.some((i) => i.kind === 'warning' && /FLOAT32/.test(i.message)), 'a FLOAT32 warning for the op kept in float');
    assert.equal(await page.locator('[data-testid="result-row"][data-label="int8"] [data-testid="mcu-estimate"]').count(), 0);
    assert.equal(await page.locator('[data-testid="result-row"][data-label="int8"] [data-testid="webgpu-check"]').count(), 1);

    // Cancel: a fresh int8 run cancelled while it runs.
    await page.getByTestId('add-technique').selectOption('int16x8');
    await page.getByTestId('add-variant').click();
    const cancelled = variant(page, 'int16x8');
    await cancelled.getByTestId('run-variant').click();
    await cancelled.getByTestId('cancel-variant').click();
    await waitStatus(page, 'int16x8', 'cancelled', 30_000).catch(async (error) => {
      console.log(`# cancel: ${await cancelled.getAttribute('data-status')}: ${(await cancelled.innerText()).slice(-400)}`);
      throw error;
    });
    assert.match(await cancelled.getByTestId('variant-error').textContent(), /[Cc]ancel/);

    // Reload: the variants and results come back from IndexedDB.
    const before = await page.getByTestId('variant').count();
    await page.waitForTimeout(600); // the session is saved 300 ms after the last change
    await page.reload();
    await page.getByTestId('restored-note').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByTestId('variant').count(), before);
    assert.equal(await page.getByTestId('result-row').count(), 5);
    assert.match(await page.getByTestId('restored-note').textContent(), /not kept across reloads/);
    await page.getByTestId('results').scrollIntoViewIfNeeded();
    await shot(page, 'wb-5-restored.png');

    // The data is gone after a reload (the browser does not keep file references): drop the zip on the page.
    await page.getByTestId('data-empty').waitFor();
    const zipBytes = [...(await readFile(zipPath))];
    await page.evaluate((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'mnist-digits.zip', { type: 'application/zip' }));
      for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }, zipBytes);
    await page.locator(`[data-testid="data-info"][data-size="${DIGITS}"][data-labeled="true"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="summary"][data-file-name="mnist_conv_fc_float.tflite"]').count(), 1, 'the model stays open: the drop was data');

    const origin = new URL(baseURL).origin;
    const foreign = requests.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin);
    assert.deepEqual(foreign, [], 'no request leaves the app origin');
    assert.deepEqual(problems, []);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'wb-6-full.png'), fullPage: true });
    await page.close();
  });
});
