/**
 * Segmentation masks in the page (issue #14 item 4): DeepLab v3 with a zip of tflite-support's photo
 * (twice: one calibrates, one evaluates) and a masks/ folder holding its golden mask, stored as
 * class x 10. At the default scale the data panel says the values look scaled and offers the scale;
 * at 10 it counts the masks, the table heads "mIoU vs labels", and the float model's and a float16
 * variant's values equal the brute-force mIoU of LiteRT's argmax in Node (1 evaluation sample: the
 * interval's ends are the value, exactly).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { tsImport } from 'tsx/esm/api';
import { previewWithChromium, SHARED } from './support.mjs';

let browser;
let dir;
const MODEL = path.join(SHARED, 'models', 'deeplabv3_257_float.tflite');

before(async () => {
  browser = await previewWithChromium('tflite-workbench-masks-chromium-', { viewport: { width: 1280, height: 800 } });
  dir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-masks-'));
});

after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The brute-force mIoU against the golden mask of the float model and its float16 variant, in Node's LiteRT. */
async function bruteForce() {
  const sample = await tsImport('../src/test-support/deeplab-sample.ts', import.meta.url);
  const { initRuntime } = await tsImport('../src/runtime/start.ts', import.meta.url);
  const { loadModel } = await tsImport('../src/runtime/load.ts', import.meta.url);
  const { toFloat } = await tsImport('../src/runtime/samples.ts', import.meta.url);
  const { optimizeModel } = await tsImport('../src/optimize/pipeline.ts', import.meta.url);
  const { defaultRecipe } = await tsImport('../src/optimize/recipe.ts', import.meta.url);
  await initRuntime();
  const golden = sample.goldenClasses();
  const miou = async (bytes) => {
    const runner = await loadModel(bytes);
    try {
      const [out] = await runner.run([sample.deeplabInput()]);
      return sample.bruteMiou(golden, sample.argmaxClasses(toFloat(out.data, runner.outputs[0].quantization), sample.DEEPLAB_CLASSES), sample.DEEPLAB_CLASSES);
    } finally {
      runner.delete();
    }
  };
  const float = new Uint8Array(await readFile(MODEL));
  const half = (await optimizeModel({ model: float, recipe: defaultRecipe('float16') })).bytes;
  return { float: await miou(float), half: await miou(half), sample };
}

describe('segmentation masks in the page', () => {
  test('DeepLab with a masks/ folder in a zip: the scale is asked for, then results are mIoU vs labels equal to the brute force', { timeout: 600_000 }, async () => {
    const expected = await bruteForce();
    const photo = new Uint8Array(await readFile(expected.sample.DEEPLAB_PHOTO));
    const mask = new Uint8Array(await readFile(expected.sample.DEEPLAB_GOLDEN));
    const zip = path.join(dir, 'horses.zip');
    await writeFile(zip, zipSync({ 'horses/horse.jpg': photo, 'horses/rider.jpg': photo, 'horses/masks/horse.png': mask, 'horses/masks/rider.png': mask }));

    const page = await browser.context.newPage();
    await page.goto(browser.base);
    await page.getByTestId('file-input').setInputFiles(MODEL);
    await page.getByTestId('workbench').waitFor({ timeout: 60_000 });
    await page.getByTestId('data-files-input').setInputFiles(zip);
    // The masks are labels, not samples: two photos.
    await page.locator('[data-testid="data-info"][data-size="2"]').waitFor({ timeout: 60_000 });
    const problem = await page.getByTestId('masks-problem').textContent();
    assert.match(problem, /^Masks not used: masks\/horse\.png: value 130 is no class of the model's 21 \(0\.\.20\) at scale 1 .*The values look scaled: all are multiples of 10 \(0, 130, 150\); if they store class x 10, set the mask scale to 10\.$/);
    assert.equal(await page.getByTestId('mask-scale').inputValue(), '1');

    await page.getByTestId('mask-scale').fill('10');
    await page.getByTestId('mask-scale-apply').click();
    const info = page.locator('[data-testid="masks-info"][data-images="2"][data-scale="10"]');
    await info.waitFor({ timeout: 60_000 });
    assert.match(await info.textContent(), /^Masks: 2 images \(masks\/, values \/ 10, 0 pixels at 255 not counted\): segmentation variants are measured by mIoU against them\.$/);
    assert.equal(await page.getByTestId('masks-problem').count(), 0);

    await page.getByTestId('add-technique').selectOption('float16');
    await page.getByTestId('add-variant').click();
    await page.getByTestId('run-all').click();
    await page.locator('[data-testid="variant"][data-status="done"]').waitFor({ timeout: 400_000 });
    const row = page.getByTestId('result-row').first();
    await row.waitFor();
    const header = await page.locator('table thead th').allTextContents();
    assert.ok(header.includes('mIoU vs labels'), `the table names the measure: ${JSON.stringify(header)}`);
    const exact = async (r) => {
      const cell = r.getByTestId('cell-agreement');
      const td = cell.locator('xpath=..');
      return { text: await cell.textContent(), low: Number(await td.getAttribute('data-ci-low')), high: Number(await td.getAttribute('data-ci-high')), n: Number(await td.getAttribute('data-n')) };
    };
    const float = await exact(page.getByTestId('result-row-float'));
    const half = await exact(row);
    console.log(`# DeepLab in the page vs the golden mask (x10): float ${float.text} (${float.low}), float16 ${half.text} (${half.low}); brute force ${expected.float}, ${expected.half}`);
    for (const [measured, value] of [[float, expected.float], [half, expected.half]]) {
      assert.equal(measured.n, 1);
      assert.equal(measured.text, `${(100 * value).toFixed(1)}%`);
      assert.ok(Math.abs(measured.low - value) < 1e-12 && Math.abs(measured.high - value) < 1e-12, `${measured.low} vs ${value}`);
    }
    await page.close();
  });
});
