/**
 * A segmentation model in the page (issue #14 item 4): the results table and charts measure a
 * segmenter by its mIoU against the float model's masks, with the interval and sample count, instead
 * of a top-1 agreement that means nothing for per-pixel outputs. selfie_segmentation_fp16 with the
 * shared photos as unlabelled data; a dynamic-range variant runs in the worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { previewWithChromium, SHARED } from './support.mjs';

let browser;

before(async () => {
  browser = await previewWithChromium('tflite-workbench-chromium-', { viewport: { width: 1280, height: 800 } });
});

after(async () => {
  await browser?.close();
});

describe('task quality in the page', () => {
  test('selfie_segmentation: the results table shows mIoU vs float with its interval and sample count', { timeout: 300_000 }, async () => {
    const page = await browser.context.newPage();
    await page.goto(browser.base);
    await page.getByTestId('file-input').setInputFiles(path.join(SHARED, 'models', 'selfie_segmentation_fp16.tflite'));
    await page.getByTestId('workbench').waitFor({ timeout: 30_000 });
    const photos = ['burger.jpg', 'cats_and_dogs.jpg', 'grace_hopper.jpg', 'multi_objects.jpg'].map((f) => path.join(SHARED, 'data', 'sample_images', f));
    photos.push(path.join(SHARED, 'data', 'deeplab_segmentation_sample', 'segmentation_input_rotation0.jpg'));
    await page.getByTestId('data-files-input').setInputFiles(photos);
    await page.locator('[data-testid="data-info"][data-size="5"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('add-technique').selectOption('dynamic');
    await page.getByTestId('add-variant').click();
    await page.getByTestId('run-all').click();
    await page.locator('[data-testid="variant"][data-status="done"]').waitFor({ timeout: 180_000 });
    const row = page.getByTestId('result-row').first();
    await row.waitFor();
    const header = await page.locator('table thead th').allTextContents();
    assert.ok(header.includes('mIoU vs float'), `the table names the measure: ${JSON.stringify(header)}`);
    const cell = row.getByTestId('cell-agreement');
    const text = await cell.textContent();
    const td = cell.locator('xpath=..');
    const [low, high, n] = await Promise.all(['data-ci-low', 'data-ci-high', 'data-n'].map((a) => td.getAttribute(a)));
    const samples = Number(await row.getAttribute('data-samples'));
    console.log(`# dynamic selfie_segmentation: mIoU vs float ${text} (95% ${low}-${high}), n=${n}, ${samples} evaluation samples`);
    const value = Number(text.replace('%', '')) / 100;
    // Dynamic-range int8 keeps the float activations: its masks are nearly the float model's.
    assert.ok(value > 0.8 && value <= 1, `mIoU ${value}`);
    assert.ok(Number(low) <= value + 1e-9 && value <= Number(high) + 1e-9, 'the value lies in its interval');
    assert.equal(Number(n), samples, 'the interval counts the evaluation samples');
    await page.close();
  });
});
