/**
 * A segmentation model in the page (issue #14 item 4): the results table and charts measure a
 * segmenter by its mIoU against the float model's masks, with the interval and sample count, instead
 * of a top-1 agreement that means nothing for per-pixel outputs. selfie_segmentation_fp16 with the
 * shared photos as unlabelled data; a dynamic-range variant runs in the worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';
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

  test('BlazeFace raw head: a wrong anchors file is refused naming 896; with the right one a dynamic variant shows mAP@0.5 vs float', { timeout: 400_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-anchors-'));
    const { BLAZE_FACE_SHORT_RANGE, ssdAnchors } = await tsImport('../src/test-support/ssd-anchors.ts', import.meta.url);
    const { anchorsToCsv } = await tsImport('../src/evaluate/anchors.ts', import.meta.url);
    const anchors = ssdAnchors(BLAZE_FACE_SHORT_RANGE);
    const good = path.join(dir, 'face-anchors.csv');
    const wrong = path.join(dir, 'wrong-anchors.csv');
    await writeFile(good, anchorsToCsv(anchors));
    await writeFile(wrong, anchorsToCsv({ ...anchors, count: 800 }));
    // A fresh profile: the first test's saved session would be restored in this one.
    const own = await previewWithChromium('tflite-workbench-anchors-chromium-', { viewport: { width: 1280, height: 800 } });
    const page = await own.context.newPage();
    try {
      await page.goto(own.base);
      await page.getByTestId('file-input').setInputFiles(path.join(SHARED, 'models', 'face_detection_short_range_fp16.tflite'));
      await page.getByTestId('workbench').waitFor({ timeout: 30_000 });
      const settings = page.locator('[data-testid="anchors-settings"][data-anchors="896"]');
      await settings.waitFor({ timeout: 30_000 });
      await page.getByTestId('anchors-coder').selectOption('mediapipe-face');
      await page.getByTestId('anchors-input').setInputFiles(wrong);
      assert.match(await page.getByTestId('anchors-error').textContent(), /lists 800 anchors.*must list 896 anchors/);
      await page.getByTestId('anchors-input').setInputFiles(good);
      await page.locator('[data-testid="anchors-status"][data-count="896"]').waitFor();
      assert.match(await page.getByTestId('anchors-status').textContent(), /boxes \[1, 896, 16\], scores \[1, 896, 1\], mediapipe-face coder/);
      // Grace Hopper and the first 60 ImageNet photos (about a fifth show a face the float model finds).
      const imagenet = readdirSync(path.join(SHARED, 'data', 'imagenet_val_subset', 'images')).sort().slice(0, 60).map((f) => path.join(SHARED, 'data', 'imagenet_val_subset', 'images', f));
      await page.getByTestId('data-files-input').setInputFiles([path.join(SHARED, 'data', 'sample_images', 'grace_hopper.jpg'), ...imagenet]);
      await page.locator('[data-testid="data-info"][data-size="61"]').waitFor({ timeout: 60_000 });
      await page.getByTestId('add-technique').selectOption('dynamic');
      await page.getByTestId('add-variant').click();
      await page.getByTestId('run-all').click();
      await page.locator('[data-testid="variant"][data-status="done"]').waitFor({ timeout: 300_000 });
      const row = page.getByTestId('result-row').first();
      const header = await page.locator('table thead th').allTextContents();
      assert.ok(header.includes('mAP@0.5 vs float'), `the table names the measure: ${JSON.stringify(header)}`);
      const text = await row.getByTestId('cell-agreement').textContent();
      const value = Number(text.replace('%', '')) / 100;
      console.log(`# dynamic BlazeFace in the page: mAP@0.5 vs float ${text} on ${await row.getAttribute('data-samples')} evaluation photos`);
      assert.ok(value > 0.8 && value <= 1, `mAP ${value}`);
      // The anchors are saved with the session: after a reload the worker has them again, with the coder.
      await page.waitForTimeout(1500); // the session is saved a moment after the run
      await page.reload();
      await page.locator('[data-testid="anchors-status"][data-count="896"]').waitFor({ timeout: 60_000 });
      assert.match(await page.getByTestId('anchors-status').textContent(), /Using face-anchors\.csv: 896 anchors.*mediapipe-face coder/);
      assert.equal(await page.getByTestId('anchors-coder').inputValue(), 'mediapipe-face');
    } finally {
      await own.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
