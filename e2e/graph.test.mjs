/**
 * The graph view in Debian Chromium against the production build (`vite preview`):
 * - pose_landmark_lite_fp16 (305 ops): the graph is laid out in the graph worker and drawn with one
 *   element per op (data-op-index) under aria-label="Model graph"; pan and zoom; overlays from the
 *   menu with their legends; search; chain collapsing; keyboard (Tab + Enter) and click open an op's
 *   details with its weight histogram; no main-thread task over 100 ms from the summary to the drawn
 *   graph, nor while panning, zooming and switching overlays;
 * - MNIST with 200 real digits: int8 and dynamic variants run, the per-layer error overlay, the diff
 *   of the float model and int8 (QUANTIZE / DEQUANTIZE inserted, dtypes changed), the per-layer chart
 *   and the graph selecting the same op, "keep in float" from the details re-running the variant, and
 *   the calibrated activations of SOFTMAX in int8 (histogram, range, share clipped; the same on the
 *   float model's op) while the dynamic variant says it was not calibrated;
 * - a synthetic 1,002-op model written by our own writer (src/tflite/synthetic-graph.ts, checked
 *   against LiteRT in its unit test): drawn in full, searchable, and no task over 100 ms while panning.
 * - weight_sharing_fcs (two subgraphs) with a float16 variant: the diff of subgraph 1.
 * Screenshots go to e2e/output/ (ignored by git).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { tsImport } from 'tsx/esm/api';
import { mainThreadIn, observeMainThread } from './main-thread.mjs';
import { mnistPngs, previewWithChromium, ROOT, SHARED } from './support.mjs';

const OUTPUT = path.join(ROOT, 'e2e', 'output');
const LITE = 'pose_landmark_lite_fp16.tflite';
let browser;
let baseURL;
let context;

before(async () => {
  browser = await previewWithChromium('tflite-workbench-graph-', { viewport: { width: 1400, height: 900 } });
  ({ base: baseURL, context } = browser);
  await observeMainThread(context);
  await mkdir(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
});

const now = (page) => page.evaluate(() => performance.now());
async function longTasksBetween(page, start, end) {
  // Long animation frames say what a long task was (script, style and layout, paint), for the log.
  // A frame holding a long task starts before it: the log looks 50 ms earlier.
  const long = (await mainThreadIn(page, start - 50, end)).frames.filter((f) => f.ms > 100);
  if (long.length) console.log(`# long frames (ms, of which scripts, rendering): ${JSON.stringify(long)}`);
  return (await mainThreadIn(page, start, end)).tasks;
}
/**
 * Waits until the page has had no long task for a second: the optimizer worker's reply to the new
 * model re-renders the workbench (a long task of its own, with or without the graph), and the pan
 * and overlay windows are meant to measure the graph alone.
 */
async function settle(page) {
  await page.waitForFunction(() => {
    const last = window.__longTasks.at(-1);
    return !last || performance.now() - (last.start + last.duration) > 1000;
  }, null, { timeout: 30_000, polling: 200 });
}

const graph = (page) => page.getByRole('group', { name: 'Model graph', exact: true });

/** Clicks the SOFTMAX op of the graph shown and reads its activation histograms. */
async function activationsOfSoftmax(page) {
  await graph(page).locator('[data-op-index][aria-label^="SOFTMAX #"]').click();
  const op = await graph(page).locator('[data-op-index][aria-label^="SOFTMAX #"]').getAttribute('data-op-index');
  const details = page.locator(`[data-testid="op-details"][data-op-index="${op}"]`);
  await details.getByTestId('activation-histogram').first().waitFor();
  return details.getByTestId('activation-histogram').evaluateAll((figures) =>
    figures.map((f) => ({
      role: f.dataset.role,
      tensor: f.dataset.tensor,
      rangeSource: f.dataset.rangeSource,
      clipped: Number(f.dataset.clipped),
      clippedBelow: Number(f.dataset.clippedBelow),
      clippedAbove: Number(f.dataset.clippedAbove),
      rangeMin: Number(f.dataset.rangeMin),
      rangeMax: Number(f.dataset.rangeMax),
      min: Number(f.dataset.min),
      max: Number(f.dataset.max),
      total: Number(f.dataset.total),
      counts: f.dataset.counts.split(',').map(Number),
      text: f.querySelector('[data-testid="clipped-text"]').textContent,
      lines: f.querySelectorAll('line.gd-range').length,
    })),
  );
}

/**
 * What the 64 bins drawn allow for the number of clipped values: at least the bins lying wholly
 * outside the range (by a bin's width: a fine bin goes to the coarse bin of its centre), at most
 * every bin reaching outside it.
 */
function clippedBounds({ counts, min, max, rangeMin, rangeMax }) {
  const w = (max - min) / counts.length;
  let least = 0;
  let most = 0;
  counts.forEach((c, k) => {
    const a = min + k * w;
    const b = a + w;
    if (b + w <= rangeMin || a - w >= rangeMax) least += c;
    if (a - w < rangeMin || b + w > rangeMax) most += c;
  });
  return { least, most };
}

function watchProblems(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  return problems;
}

describe('graph view', () => {
  test('pose_landmark_lite: drawn from the worker, pan / zoom, overlays, search, chains, keyboard, details', { timeout: 240_000 }, async () => {
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(baseURL);
    await page.getByTestId('empty-state').waitFor();
    // Times the summary and the complete graph appear, taken in the page on every animation frame.
    await page.evaluate(() => {
      const tick = () => {
        if (!window.__summaryAt && document.querySelector('[data-testid="summary"]')) window.__summaryAt = performance.now();
        if (!window.__graphAt && document.querySelectorAll('[aria-label="Model graph"] [data-op-index]').length >= 305) window.__graphAt = performance.now();
        if (!window.__graphAt) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.getByTestId('file-input').setInputFiles(path.join(SHARED, 'models', LITE));
    await page.locator(`[data-testid="summary"][data-file-name="${LITE}"]`).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => window.__graphAt, null, { timeout: 60_000 });
    await page.waitForTimeout(300);
    await page.waitForFunction(() => performance.getEntriesByName('graph:drawn').length > 0);
    const { summaryAt, graphAt, received, drawn } = await page.evaluate(() => ({
      summaryAt: window.__summaryAt,
      graphAt: window.__graphAt,
      received: performance.getEntriesByName('graph:layout-received')[0].startTime,
      drawn: performance.getEntriesByName('graph:drawn')[0].startTime,
    }));
    const status = page.getByTestId('graph-status');
    console.log(`# ${LITE}: graph drawn ${Math.round(graphAt - summaryAt)} ms after the summary appeared (layout in the page ${Math.round(received - summaryAt)} ms after it, drawn ${Math.round(drawn - received)} ms later); ${await status.textContent()}`);
    // The summary's own rendering (tables of every tensor) is a long task of its own, from before this
    // work: the graph is held to its part, from the layout's arrival in the page to its drawing.
    console.log(`# long tasks from summary to graph (all): ${JSON.stringify(await longTasksBetween(page, summaryAt, graphAt + 300))}`);
    // The layout often reaches the page before the summary is drawn (it starts when the file is read):
    // the window starts at whichever comes last.
    const drawnTasks = await longTasksBetween(page, Math.max(received, summaryAt), drawn);
    console.log(`# long tasks while the graph is rendered: ${JSON.stringify(drawnTasks)}`);
    assert.deepEqual(drawnTasks.filter((d) => d > 100), [], 'no main-thread task over 100 ms while the graph is rendered');

    // One element per op, numbered as in the subgraph, as many as the summary's op count.
    const opCount = Number(await status.getAttribute('data-op-count'));
    assert.equal(opCount, 305);
    const indices = await graph(page).locator('[data-op-index]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-op-index'))));
    assert.equal(indices.length, opCount);
    assert.deepEqual([...indices].sort((a, b) => a - b), Array.from({ length: opCount }, (_, i) => i));
    assert.equal(await graph(page).locator('[data-op-index="3"]').getAttribute('aria-label'), 'CONV_2D #3');

    // Pan (drag), zoom (Ctrl + wheel, buttons), fit: the drawing moves, no long task meanwhile.
    await graph(page).scrollIntoViewIfNeeded();
    await settle(page);
    const box = await graph(page).boundingBox();
    const inner = graph(page).locator('.graph-plane');
    const before = await inner.getAttribute('style');
    const panStart = await now(page);
    await page.mouse.move(box.x + 100, box.y + 100);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + 100 + i * 10, box.y + 100 + i * 12);
    await page.mouse.up();
    await page.keyboard.down('Control');
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -60);
    await page.keyboard.up('Control');
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 120);
    await page.getByTestId('graph-fit').click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.waitForTimeout(200);
    const panEnd = await now(page);
    assert.notEqual(await inner.getAttribute('style'), before, 'pan and zoom moved the drawing');
    const panTasks = await longTasksBetween(page, panStart, panEnd);
    console.log(`# long tasks while panning and zooming: ${JSON.stringify(panTasks)}`);
    assert.deepEqual(panTasks.filter((d) => d > 100), [], 'no main-thread task over 100 ms while panning and zooming');

    // Overlays from the menu, each with its legend.
    await settle(page);
    const overlayStart = await now(page);
    await page.getByTestId('graph-overlay').selectOption('dtype');
    await page.getByTestId('graph-legend').getByText('FLOAT32 output').waitFor();
    assert.match(await graph(page).locator('[data-op-index="3"]').getAttribute('aria-label'), /FLOAT32/);
    await page.getByTestId('graph-overlay').selectOption('weight-bytes');
    await page.getByTestId('graph-legend').getByText('no weights').waitFor();
    await page.getByTestId('graph-overlay').selectOption('distinct');
    await page.getByTestId('graph-legend').getByText('≤ 16 values').waitFor({ timeout: 30_000 });
    await graph(page).locator('[data-op-index="3"][aria-label*="/ch"]').waitFor();
    await page.getByTestId('graph-overlay').selectOption('sparsity');
    await page.getByTestId('graph-legend').getByText('no kernel').waitFor();
    await page.getByTestId('graph-overlay').selectOption('sqnr');
    await page.getByTestId('graph-legend').getByText(/Run a variant/).waitFor();
    await page.waitForTimeout(200);
    const overlayTasks = await longTasksBetween(page, overlayStart, await now(page));
    console.log(`# long tasks while switching overlays: ${JSON.stringify(overlayTasks)}`);
    assert.deepEqual(overlayTasks.filter((d) => d > 100), [], 'no main-thread task over 100 ms while switching overlays');
    await page.getByTestId('graph-overlay').selectOption('weight-bytes');

    // Search by op name and by tensor name.
    await page.getByTestId('graph-search').fill('conv_2d');
    // Highlights reach the slices of nodes one per frame: wait until all the counted matches are marked.
    const highlighted = async () => {
      const n = Number(/(\d+) match/.exec(await page.getByTestId('graph-search-count').textContent())[1]);
      await page.waitForFunction((k) => document.querySelectorAll('[aria-label="Model graph"] .gnode-hit').length === k, n);
      return n;
    };
    await page.getByTestId('graph-search-count').getByText(/\d+ matches/).waitFor();
    const convHits = await highlighted();
    assert.ok(convHits > 20, `CONV_2D / DEPTHWISE_CONV_2D ops highlighted (${convHits})`);
    await page.getByTestId('graph-search').fill('input_1');
    await page.getByTestId('graph-search-count').getByText(/^\d+ match/).waitFor();
    assert.ok((await highlighted()) >= 2, 'the input tensor node and the op reading it');
    await page.getByTestId('graph-search').fill('');

    // Collapsing chains: fewer nodes, every op still drawn once; opening a chain brings its ops back.
    await page.getByTestId('graph-collapse').check();
    await graph(page).locator('[data-chain-ops]').first().waitFor({ timeout: 30_000 });
    // Nodes mount in slices of 40 per frame: wait until the collapsed drawing is complete.
    await page
      .waitForFunction(
        (n) => {
          const root = document.querySelector('[aria-label="Model graph"]');
          const inChains = [...root.querySelectorAll('[data-chain-ops]')].reduce((sum, e) => sum + e.getAttribute('data-chain-ops').split(',').length, 0);
          return root.querySelectorAll('[data-op-index]').length + inChains === n;
        },
        opCount,
        { timeout: 30_000 },
      )
      .catch(() => {}); // the assertion below names the counts
    const chains = await graph(page).locator('[data-chain-ops]').evaluateAll((els) => els.map((e) => e.getAttribute('data-chain-ops').split(',').map(Number)));
    const single = await graph(page).locator('[data-op-index]').count();
    assert.equal(single + chains.flat().length, opCount, 'each op drawn once, alone or inside a chain');
    await graph(page).locator('[data-chain-ops]').first().click();
    await page.waitForFunction((n) => document.querySelectorAll('[aria-label="Model graph"] [data-op-index]').length > n, single);
    await page.getByTestId('graph-collapse').uncheck();
    await page.waitForFunction((n) => document.querySelectorAll('[aria-label="Model graph"] [data-op-index]').length === n, opCount);

    // Keyboard: Tab reaches the nodes, Enter opens the focused op's details.
    await graph(page).locator('[data-op-index="0"]').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-node-id'));
    assert.ok(focused, 'Tab moves to the next node');
    await page.keyboard.press('Enter');
    await page.getByTestId('op-details').waitFor();

    // Click: CONV_2D #3 with its inputs, output shape and the histogram of its float16 kernel (24x3x3x3).
    await graph(page).locator('[data-op-index="3"]').click();
    const details = page.locator('[data-testid="op-details"][data-op-index="3"]');
    await details.waitFor();
    assert.equal(await details.getAttribute('data-op'), 'CONV_2D');
    assert.equal(await details.getByTestId('detail-out').count(), 1);
    assert.match(await details.getByTestId('detail-out').textContent(), /1×128×128×24/);
    assert.equal(await details.getByTestId('weight-histogram').getAttribute('data-total'), '648');
    assert.equal(await details.getByTestId('weight-histogram').locator('rect').count(), 48);
    await page.getByTestId('graph-panel').screenshot({ path: path.join(OUTPUT, 'graph-view.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a 1,002-op synthetic model: laid out, every op drawn, search, pan without a long task', { timeout: 300_000 }, async () => {
    const { largeGraphModel } = await tsImport('../src/tflite/synthetic-graph.ts', import.meta.url);
    const { writeModel } = await tsImport('../src/tflite/write.ts', import.meta.url);
    const dir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-graph-large-'));
    const file = path.join(dir, 'large_graph_1002_ops.tflite');
    await writeFile(file, writeModel(largeGraphModel(1000)));
    const page = await context.newPage();
    const problems = watchProblems(page);
    try {
      await page.goto(baseURL);
      await page.getByTestId('empty-state').waitFor();
      await page.evaluate(() => {
        const tick = () => {
          if (!window.__summaryAt && document.querySelector('[data-testid="summary"]')) window.__summaryAt = performance.now();
          if (!window.__graphAt && document.querySelectorAll('[aria-label="Model graph"] [data-op-index]').length >= 1002) window.__graphAt = performance.now();
          if (!window.__graphAt) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await page.getByTestId('file-input').setInputFiles(file);
      await page.locator('[data-testid="summary"][data-file-name="large_graph_1002_ops.tflite"]').waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => window.__graphAt, null, { timeout: 120_000 });
      const status = page.getByTestId('graph-status');
      await status.getByText(/laid out in \d+ ms/).waitFor();
      const { summaryAt, graphAt } = await page.evaluate(() => ({ summaryAt: window.__summaryAt, graphAt: window.__graphAt }));
      const layoutMs = Number(/laid out in (\d+) ms/.exec(await status.textContent())[1]);
      console.log(`# 1,002-op synthetic model: layout in the graph worker ${layoutMs} ms; every op on screen ${Math.round(graphAt - summaryAt)} ms after the summary; ${await status.textContent()}`);
      assert.equal(Number(await status.getAttribute('data-op-count')), 1002);
      const indices = await graph(page).locator('[data-op-index]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-op-index'))));
      assert.deepEqual([...indices].sort((a, b) => a - b), Array.from({ length: 1002 }, (_, i) => i), 'one element per op');

      // Search: one tensor deep in the chain, by name (its producer and its two readers), then an op by index.
      await page.getByTestId('graph-search').fill('block250/join');
      await page.getByTestId('graph-search-count').getByText(/^\d+ match/).waitFor();
      const hits = Number(/(\d+) match/.exec(await page.getByTestId('graph-search-count').textContent())[1]);
      assert.equal(hits, 3, 'the ADD writing block250/join and the CONV_2D and ADD of block 251 reading it');
      await page.getByTestId('graph-search').fill('#900');
      await page.getByTestId('graph-search-count').getByText('1 match').waitFor();
      await graph(page).locator('[data-op-index="900"].gnode-hit').waitFor();
      await page.getByTestId('graph-search').fill('');

      // Pan by dragging, and by wheel; the drawing moves and no main-thread task exceeds 100 ms.
      await graph(page).scrollIntoViewIfNeeded();
      await settle(page);
      const box = await graph(page).boundingBox();
      const plane = graph(page).locator('.graph-plane');
      const before = await plane.getAttribute('style');
      const panStart = await now(page);
      await page.mouse.move(box.x + 200, box.y + 300);
      await page.mouse.down();
      for (let i = 1; i <= 30; i++) await page.mouse.move(box.x + 200 + i * 5, box.y + 300 - i * 15);
      await page.mouse.up();
      for (let i = 0; i < 15; i++) await page.mouse.wheel(0, 200);
      await page.waitForTimeout(200);
      const panEnd = await now(page);
      assert.notEqual(await plane.getAttribute('style'), before, 'panning moved the drawing');
      const panTasks = await longTasksBetween(page, panStart, panEnd);
      console.log(`# 1,002 ops, long tasks while panning: ${JSON.stringify(panTasks)}`);
      assert.deepEqual(panTasks.filter((d) => d > 100), [], 'no main-thread task over 100 ms while panning');
      await page.getByTestId('graph-panel').screenshot({ path: path.join(OUTPUT, 'graph-1002-ops.png') });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('MNIST: int8 and dynamic variants, SQNR overlay, diff, shared selection with the per-layer chart, keep in float', { timeout: 300_000 }, async () => {
    const page = await context.newPage();
    const problems = watchProblems(page);
    const dir = await mkdtemp(path.join(tmpdir(), 'tflite-workbench-graph-data-'));
    const zipPath = path.join(dir, 'digits.zip');
    await writeFile(zipPath, zipSync(mnistPngs(200), { level: 0 }));
    try {
      await page.goto(baseURL);
      await page.getByTestId('sample-mnist').click();
      await page.locator('[data-testid="summary"][data-file-name="mnist_conv_fc_float.tflite"]').waitFor();
      await graph(page).locator('[data-op-index]').first().waitFor();
      const floatOps = await graph(page).locator('[data-op-index]').count();
      assert.equal(floatOps, Number(await page.getByTestId('graph-status').getAttribute('data-op-count')));
      await page.getByTestId('wizard-data').getByLabel('Labeled data').check();
      await page.getByTestId('use-recommendations').click();
      await page.getByTestId('data-files-input').setInputFiles(zipPath);
      await page.locator('[data-testid="data-info"][data-size="200"]').waitFor({ timeout: 60_000 });
      await page.getByTestId('run-all').click();
      for (const label of ['int8', 'dynamic']) await page.locator(`[data-testid="variant"][data-label="${label}"][data-status="done"]`).waitFor({ timeout: 150_000 });
      await page.getByTestId('layer-chart').waitFor();

      // The int8 variant in the graph with its per-layer SQNR.
      await page.getByTestId('results-table').getByRole('button', { name: 'int8', exact: true }).click();
      await page.getByTestId('graph-model').selectOption({ label: 'int8' });
      await page.getByTestId('graph-overlay').selectOption('sqnr');
      await page.getByTestId('graph-legend').getByText('≥ 40 dB').waitFor();
      await graph(page).locator('[aria-label*=" dB"]').first().waitFor();
      const marked = await graph(page).locator('[data-op-index][aria-label*=" dB"]').count();
      assert.ok(marked >= 3, `ops carry their SQNR (${marked})`);
      await page.getByTestId('graph-overlay').selectOption('float-ops');
      await page.getByTestId('graph-legend').getByText('kept in float').waitFor();

      // Diff: int8 against the float model.
      await page.getByTestId('graph-diff-toggle').check();
      const diff = page.getByTestId('graph-diff');
      await diff.waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="graph-diff"]')?.getAttribute('data-inserted') !== '');
      const counts = await diff.evaluate((el) => ({ inserted: Number(el.dataset.inserted), dtype: Number(el.dataset.dtype), removed: Number(el.dataset.removed), folded: Number(el.dataset.folded), same: Number(el.dataset.same) }));
      console.log(`# diff float vs int8: ${JSON.stringify(counts)}`);
      assert.equal(counts.inserted, 2, 'a QUANTIZE at the input and a DEQUANTIZE at the output');
      assert.equal(counts.dtype, floatOps, 'every float op kept, now with integer tensors');
      await page.getByTestId('diff-variant').locator('[data-op-index]').first().waitFor();
      const inserted = await page.getByTestId('diff-variant').locator('[aria-label*="inserted"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label').split(' #')[0]).sort());
      assert.deepEqual(inserted, ['DEQUANTIZE', 'QUANTIZE']);

      // The per-layer chart and the diff select the same op, both ways.
      // Ops of the model (not the inserted QUANTIZE / DEQUANTIZE) in the per-layer chart's list.
      // Option values are the float model's op numbers; data-variant-op the variant's, which the graph shows.
      const layerOps = await page.getByTestId('layer-select').locator('option').evaluateAll((os) =>
        os.filter((o) => o.value !== '' && !/QUANTIZE/.test(o.textContent)).map((o) => ({ value: o.value, op: o.dataset.variantOp })),
      );
      assert.ok(layerOps.length >= 3);
      const [picked, otherLayer] = [layerOps[0], layerOps[layerOps.length - 1]];
      const other = otherLayer.op;
      await page.getByTestId('layer-select').selectOption(picked.value);
      await page.getByTestId('diff-variant').locator(`[data-op-index="${picked.op}"].gnode-selected`).waitFor();
      assert.equal(await page.getByTestId('diff-float').locator('.gnode-selected').count(), 1, 'its float op is selected too');
      // Focus brings the node into view (it may lie outside the canvas), Enter selects it.
      await page.getByTestId('diff-variant').locator(`[data-op-index="${other}"]`).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction((o) => document.querySelector('[data-testid="layer-select"]')?.value === o, otherLayer.value);
      await page.getByTestId('graph-panel').screenshot({ path: path.join(OUTPUT, 'graph-diff.png') });

      // Details of that op in the int8 graph, and "keep in float" re-runs the variant as a new one.
      await page.getByTestId('graph-diff-toggle').uncheck();
      const details = page.locator(`[data-testid="op-details"][data-op-index="${other}"]`);
      await details.waitFor();
      assert.match(await details.getByTestId('detail-out').first().textContent(), /INT8/);
      assert.match(await details.getByTestId('detail-out').first().textContent(), /scale/);
      assert.equal(await details.getByTestId('action-fewer-bits').isDisabled(), true, 'int8 has no narrower form');
      const before = await page.getByTestId('variant').count();
      await details.getByTestId('action-keep-float').click();
      await details.getByTestId('action-said').waitFor();
      assert.equal(await page.getByTestId('variant').count(), before + 1);

      // The calibrated activations of SOFTMAX in int8: its output's fixed grid [0, 255/256] clips the
      // confident digits' top probability; the share shown is the one the summary carries, and fits
      // the histogram drawn.
      const softmaxInt8 = await activationsOfSoftmax(page);
      const out = softmaxInt8.find((a) => a.role === 'out');
      console.log(`# int8 SOFTMAX activations: ${JSON.stringify(softmaxInt8.map(({ counts, ...a }) => a))}`);
      assert.equal(out.rangeSource, 'quantized');
      assert.ok(Math.abs(out.rangeMin) < 1e-9 && Math.abs(out.rangeMax - 255 / 256) < 1e-9, `SOFTMAX output range [${out.rangeMin}, ${out.rangeMax}]`);
      assert.ok(out.max > 255 / 256, 'calibration saw probabilities above 255/256');
      assert.ok(out.clippedAbove > 0 && out.clippedAbove < 1 && out.clippedBelow === 0, `clipped above ${out.clippedAbove}`);
      for (const a of softmaxInt8) {
        assert.equal(a.text, `${(a.clipped * 100).toFixed(2)}% clipped`);
        assert.ok(Math.abs(a.clipped - a.clippedBelow - a.clippedAbove) < 1e-12);
        assert.equal(a.counts.reduce((x, y) => x + y, 0), a.total);
        const { least, most } = clippedBounds(a);
        assert.ok(least <= a.clipped * a.total + 0.5 && a.clipped * a.total <= most + 0.5, `clipped ${a.clipped * a.total} of ${a.total} within what the bins allow [${least}, ${most}]`);
      }
      // The float model's SOFTMAX shows the same (the summaries are keyed by the float model's tensors).
      await page.getByTestId('results-table').getByRole('button', { name: 'int8', exact: true }).click();
      await page.getByTestId('graph-model').selectOption('float');
      const softmaxFloat = await activationsOfSoftmax(page);
      assert.deepEqual(softmaxFloat.map((a) => [a.role, a.clipped, a.total]), softmaxInt8.map((a) => [a.role, a.clipped, a.total]));
      await page.getByTestId('op-details').screenshot({ path: path.join(OUTPUT, 'graph-activations.png') });
      // The dynamic-range variant was not calibrated, and says so.
      await page.getByTestId('graph-model').selectOption({ label: 'dynamic' });
      await graph(page).locator('[data-op-index][aria-label^="SOFTMAX #"]').click();
      await page.getByTestId('activation-none').getByText(/not calibrated \(dynamic range keeps activations in float\)/).waitFor();
      assert.equal(await page.getByTestId('activation-histogram').count(), 0);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a model with two subgraphs: the diff covers the subgraph shown', { timeout: 240_000 }, async () => {
    const page = await context.newPage();
    const problems = watchProblems(page);
    try {
      await page.goto(baseURL);
      await page.getByTestId('file-input').setInputFiles(path.join(SHARED, 'models', 'ops', 'weight_sharing_fcs.tflite'));
      // The MNIST session of the test before is restored with its variants: open this model in a new session.
      const summary = page.locator('[data-testid="summary"][data-file-name="weight_sharing_fcs.tflite"]');
      await summary.or(page.getByTestId('open-new-session')).first().waitFor({ timeout: 60_000 });
      if (await page.getByTestId('open-new-session').isVisible()) await page.getByTestId('open-new-session').click();
      await summary.waitFor({ timeout: 60_000 });
      await page.getByTestId('workbench').waitFor();
      await page.getByTestId('add-technique').selectOption('float16');
      await page.getByTestId('add-variant').click();
      await page.locator('[data-testid="variant"][data-label="float16"]').getByTestId('run-variant').click();
      await page.locator('[data-testid="variant"][data-label="float16"][data-status="done"]').waitFor({ timeout: 150_000 });
      // Subgraph 1 ("sig2"): its FULLY_CONNECTED now reads float16 weights through an inserted DEQUANTIZE.
      await page.getByTestId('graph-subgraph').selectOption('1');
      await page.waitForFunction(() => document.querySelector('[data-testid="graph-status"]')?.getAttribute('data-op-count') === '1');
      await page.getByTestId('graph-diff-toggle').check();
      const diff = page.locator('[data-testid="graph-diff"][data-subgraph="1"]');
      await diff.waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="graph-diff"]')?.getAttribute('data-inserted') !== '');
      const counts = await diff.evaluate((el) => ({ inserted: Number(el.dataset.inserted), dtype: Number(el.dataset.dtype), removed: Number(el.dataset.removed), same: Number(el.dataset.same) }));
      console.log(`# diff of subgraph 1, float vs float16: ${JSON.stringify(counts)}; ${await page.getByTestId('diff-summary').textContent()}`);
      assert.deepEqual(counts, { inserted: 1, dtype: 1, removed: 0, same: 0 });
      await page.getByTestId('diff-variant').locator('[data-op-index]').nth(1).waitFor();
      assert.equal(await page.getByTestId('diff-float').locator('[data-op-index]').count(), 1);
      assert.deepEqual(await page.getByTestId('diff-variant').locator('[aria-label*="inserted"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label').split(' #')[0])), ['DEQUANTIZE']);
      // Selecting the FC on one side selects its match on the other, in subgraph 1.
      await page.getByTestId('diff-float').locator('[data-op-index="0"]').click();
      await page.getByTestId('diff-variant').locator('.gnode-selected[aria-label^="FULLY_CONNECTED"]').waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
