/**
 * QAT of int4 weights in the browser (Debian Chromium, production build, issue #12 item 6): MNIST
 * with 400 labelled digits, an int8 variant set to int4 weights (W4A8) with QAT ticked trains in the
 * optimizer worker from the W4A8 PTQ model with learned int4 steps (LSQ); its result row's badge says
 * "QAT LSQ int4" and which model was kept, and the downloaded file holds INT4 weights (the large FC; the smallest layers stay int8) that
 * LiteRT in Node runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tsImport } from 'tsx/esm/api';
import { previewWithDigits, ROOT } from './support.mjs';

const MNIST = 'mnist_conv_fc_float.tflite';
let browser;

before(async () => {
  browser = await previewWithDigits('tflite-workbench-qat-int4-', 400, { viewport: { width: 1280, height: 900 }, acceptDownloads: true });
});

after(async () => {
  await browser?.close();
});

describe('QAT with int4 weights in the worker', () => {
  test('MNIST: W4A8 + QAT trains LSQ from the PTQ model; badge "QAT LSQ int4"; the download holds INT4 weights LiteRT runs', { timeout: 300_000 }, async () => {
    const { base, context, workDir, zip } = browser;
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    await page.goto(base);
    await page.getByTestId('sample-mnist').click();
    await page.locator(`[data-testid="summary"][data-file-name="${MNIST}"]`).waitFor();
    await page.getByTestId('workbench').waitFor();
    await page.getByTestId('data-files-input').setInputFiles(zip);
    await page.locator('[data-testid="data-info"][data-size="400"][data-labeled="true"]').waitFor({ timeout: 30_000 });
    // 100 calibrate (and train), 200 more only train, 100 evaluate (never trained on).
    await page.getByTestId('split-calibration').fill('100');
    await page.getByTestId('split-training').fill('200');
    await page.getByTestId('split-evaluation').fill('100');

    await page.getByTestId('add-technique').selectOption('int8');
    await page.getByTestId('add-variant').click();
    const variant = page.getByTestId('variant').last();
    await variant.getByLabel('Weights', { exact: true }).selectOption('4');
    await variant.locator('[data-testid="variant-precision"][data-precision="W4A8"]').waitFor();
    await variant.getByTestId('variant-qat').check();
    await variant.getByTestId('variant-epochs').fill('2');
    assert.equal(await variant.getByTestId('variant-chain').textContent(), 'qat+int8');
    const label = await variant.getAttribute('data-label');
    assert.equal(label, 'qat-int8-int4');
    // The checkbox says what QAT does with int4 weights.
    assert.match(await variant.getByTestId('variant-qat').locator('xpath=..').getAttribute('title'), /learn its int4 steps with the weights \(LSQ\)/);

    const t0 = Date.now();
    await variant.getByTestId('run-variant').click();
    await page.locator(`[data-testid="variant"][data-label="${label}"][data-status="done"]`).waitFor({ timeout: 240_000 }).catch(async (error) => {
      console.log(`# variant: ${(await variant.textContent()).slice(-800)}`);
      throw error;
    });
    console.log(`# W4A8 QAT variant trained + evaluated in the worker in ${Date.now() - t0} ms`);

    const row = page.locator(`[data-testid="result-row"][data-label="${label}"]`);
    const badge = row.getByTestId('training-badge');
    const badgeText = await badge.textContent();
    const kept = await badge.getAttribute('data-lsq');
    console.log(`# badge: ${badgeText} (kept ${kept}); accuracy ${await row.getAttribute('data-accuracy')}, agreement ${await row.getAttribute('data-agreement')}`);
    assert.match(badgeText, /^QAT LSQ int4: 2\/2 epochs, best epoch \d, cross-entropy/);
    assert.ok(kept === 'qat' || kept === 'ptq', `data-lsq is qat or ptq, got ${kept}`);
    if (kept === 'ptq') assert.match(badgeText, /PTQ model kept/);
    assert.ok(Number(await row.getAttribute('data-agreement')) >= 0.95, 'agrees with the float model on the evaluation digits');

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('download-tflite').click()]);
    const file = path.join(workDir, download.suggestedFilename());
    await download.saveAs(file);
    const { readModel } = await tsImport('../src/tflite/read.ts', import.meta.url);
    const { TensorType } = await tsImport('../src/tflite/schema/generated/tflite_generated.ts', import.meta.url);
    const graph = readModel(new Uint8Array(await readFile(file)));
    // The 32x1568 dense is INT4; the conv and the 10-way dense, the smallest layers, stay INT8.
    assert.deepEqual(graph.subgraphs[0].tensors.filter((t) => t.type === TensorType.INT4).map((t) => t.shape.join('x')), ['32x1568'], 'the large FC weights are INT4');
    const run = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'tflite-opt.mjs'), 'run', file, '--json'], { cwd: ROOT });
    assert.ok(run.stdout.length > 0, 'the downloaded W4A8 model runs in Node LiteRT');
    assert.deepEqual(problems, []);
  });
});
