/** Latency, size, the Model Explorer overlay and the report, on real models in LiteRT. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readSharedModel, seededRandom } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { compareModels, type ComparisonResult } from './compare';
import { measureLatency, summarizeTimes } from './latency';
import { modelExplorerGraphIds, modelNodeData, nodeDataFromLayers, nodeDataJson } from './model-explorer';
import { buildReport, parseReport, reportMarkdown, reportToJson } from './report';
import { loadModel } from '../runtime/load';
import { initRuntime } from '../runtime/start';
import { modelSize } from '../tflite/size';
import { compareSizes } from './size';

const FLOAT = readSharedModel('vww_96_float.tflite');
const INT8 = readSharedModel('vww_96_int8.tflite');
let comparison: ComparisonResult;

beforeAll(async () => {
  await initRuntime();
  const random = seededRandom(7);
  const samples = Array.from({ length: 10 }, () => [Float32Array.from({ length: 96 * 96 * 3 }, random)]);
  comparison = await compareModels(FLOAT, INT8, samples, { perLayer: true });
});

describe('latency', () => {
  it('median and p90 of timed runs after warm-up, in LiteRT', async () => {
    const progress: number[] = [];
    const result = await measureLatency(FLOAT, { runs: 20, warmup: 3, onProgress: (done) => progress.push(done) });
    console.log(`vww_96_float latency: median ${result.medianMs.toFixed(2)} ms, p90 ${result.p90Ms.toFixed(2)} ms`);
    expect(progress).toHaveLength(23);
    expect(result.timesMs).toHaveLength(20);
    expect(result.minMs).toBeGreaterThan(0);
    expect(result.minMs).toBeLessThanOrEqual(result.medianMs);
    expect(result.medianMs).toBeLessThanOrEqual(result.p90Ms);
    expect(result.p90Ms).toBeLessThanOrEqual(result.maxMs);
    expect(result.medianMs).toBeLessThan(1000);
    // An already loaded model, with a given input.
    const model = await loadModel(INT8);
    try {
      const again = await measureLatency(model, { runs: 5, warmup: 1, input: [new Float32Array(96 * 96 * 3).fill(0.5)] });
      expect(again.timesMs).toHaveLength(5);
      expect(Number.isFinite(again.medianMs)).toBe(true);
    } finally {
      model.delete();
    }
    await expect(measureLatency(FLOAT, { runs: 0 })).rejects.toMatchObject({ code: 'bad-input' });
  });

  it('summarizeTimes: median (even and odd counts), nearest-rank p90', () => {
    expect(summarizeTimes([5, 1, 3])).toEqual({ medianMs: 3, p90Ms: 5, meanMs: 3, minMs: 1, maxMs: 5 });
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(summarizeTimes(ten)).toMatchObject({ medianMs: 5.5, p90Ms: 9, minMs: 1, maxMs: 10 });
    expect(summarizeTimes(Array.from({ length: 100 }, (_, i) => i + 1)).p90Ms).toBe(90);
  });
});

describe('size', () => {
  it('raw and gzip -9 sizes, and ratios to the float model', () => {
    const float = modelSize(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    expect(float.rawBytes).toBe(1_882_904);
    expect(float.gzipBytes).toBeLessThan(float.rawBytes);
    expect(float.gzipBytes).toBeGreaterThan(float.rawBytes * 0.5); // float weights barely compress
    const sizes = compareSizes(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite'), float);
    expect(sizes.candidate.rawBytes).toBe(508_786);
    expect(sizes.rawRatio).toBeCloseTo(508_786 / 1_882_904, 10);
    expect(sizes.gzipRatio).toBeCloseTo(sizes.candidate.gzipBytes / float.gzipBytes, 10);
    expect(sizes.gzipRatio).toBeLessThan(0.5);
  });
});

describe('Model Explorer node data', () => {
  it('one result per op of the candidate, keyed by node id (op index), colored by SQNR', () => {
    const data = nodeDataFromLayers(comparison.perLayer!);
    expect(Object.keys(data.results)).toEqual(Array.from({ length: 31 }, (_, i) => String(i)));
    comparison.perLayer!.forEach((l) => expect(data.results[String(l.opIndex)].value).toBe(l.sqnrDb));
    expect(data.gradient![0]).toEqual({ stop: 0, bgColor: '#d7191c' });
    expect(data.gradient!.at(-1)).toEqual({ stop: 1, bgColor: '#1a9641' });
    expect(data.name).toBe('Per-layer SQNR (dB)');
    // Errors: green is low.
    expect(nodeDataFromLayers(comparison.perLayer!, { metric: 'mse' }).gradient![0].bgColor).toBe('#1a9641');
    // Infinite SQNR (exact) is capped; the JSON parses back.
    const exact = nodeDataFromLayers([{ ...comparison.perLayer![0], sqnrDb: Infinity }], { maxDb: 120 });
    expect(exact.results['0'].value).toBe(120);
    expect(JSON.parse(nodeDataJson(data))).toEqual(data);
  });

  it('graph ids as the .tflite adapter names subgraphs', () => {
    expect(modelExplorerGraphIds(readModel(INT8))).toEqual(['main']); // named "main" in the file
    expect(modelExplorerGraphIds(readModel(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite')))).toEqual(['main']);
    const noName = readModel(readSharedModel('mnist_conv_fc_int8.tflite'));
    noName.subgraphs[0].name = '';
    expect(modelExplorerGraphIds(noName)).toEqual(['serving_default', 'main']);
    const multi = modelNodeData(noName, comparison.perLayer!.slice(0, 6));
    expect(Object.keys(multi)).toEqual(['serving_default', 'main']);
    expect(multi.main.results['5']).toBeDefined();
  });
});

describe('report', () => {
  it('bundles the parts, round-trips through JSON (Infinity included), reads as Markdown', () => {
    const exact: ComparisonResult = { ...comparison, perLayer: [{ ...comparison.perLayer![0], sqnrDb: Infinity }, ...comparison.perLayer!.slice(1)] };
    const report = buildReport({
      model: { name: 'vww_96_int8.tflite', reference: 'vww_96_float.tflite' },
      recipe: { technique: 'int8', calibration: 'mse' },
      sizes: compareSizes(INT8, FLOAT),
      comparison: exact,
      latency: { candidate: { runs: 3, warmup: 1, medianMs: 2, p90Ms: 3, meanMs: 2.2, minMs: 1.5, maxMs: 3, timesMs: [1.5, 2, 3] } },
      floatOps: [{ opIndex: 30, op: 'SOFTMAX', reason: 'kept in float by the recipe' }],
      environment: { runtime: 'LiteRT.js 2.5.3 (WASM, XNNPACK)' },
      createdAt: '2025-01-01T00:00:00Z',
    });
    expect(report.format).toBe('tflite-workbench/report');
    expect(report.metrics!.samples).toBe(10);
    expect(report.perLayer).toHaveLength(31);
    const json = reportToJson(report);
    expect(json).toContain('"sqnrDb": "Infinity"');
    const parsed = parseReport(json);
    expect(parsed.perLayer![0].sqnrDb).toBe(Infinity);
    expect(parsed).toEqual(report);
    expect(() => parseReport('{"format":"something else"}')).toThrow(/not a tflite-workbench/);

    const markdown = reportMarkdown(report);
    expect(markdown).toMatch(/^# vww_96_int8\.tflite vs vww_96_float\.tflite/);
    // Decimal units, as the UI shows them (866,284 bytes = 866 KB there too).
    expect(markdown).toContain(`| raw | 866 KB | 333 KB | ${(333_288 / 866_284).toFixed(3)} |`);
    expect(markdown).toContain('Top-1 agreement with the reference: ');
    expect(markdown).toMatch(/\| Identity \| \d+\.\d dB \|/);
    expect(markdown).toContain('| median | - | 2.00 ms |');
    expect(markdown).toContain('## Layers with the largest error');
    expect(markdown).toContain('{"opIndex":30,"op":"SOFTMAX","reason":"kept in float by the recipe"}');
    // The worst layer is listed first.
    const worst = [...comparison.perLayer!].sort((a, b) => a.sqnrDb - b.sqnrDb)[0];
    expect(markdown.split('## Layers with the largest error')[1].split('\n')[4]).toContain(`#${worst.opIndex} ${worst.op}`);
  });
});

describe('one report shape', () => {
  it('a refused chain run: its steps, the failure and the notes; parts it has not are left out', () => {
    const report = buildReport({
      model: { name: 'out.tflite', reference: 'in.tflite' },
      output: null,
      chain: { steps: { text: 'prune:0.5+int8', prune: { sparsity: 0.5 } } },
      failure: 'the result is larger than the input',
      hint: 'rerun with --allow-float-fallback',
      floatOps: [],
      target: { name: 'mcu', issues: [{ kind: 'unsupported-op', message: 'SOFTMAX has no kernel' }] },
      notes: ['a note'],
    });
    expect(Object.keys(report)).toEqual(['format', 'version', 'model', 'output', 'chain', 'failure', 'hint', 'floatOps', 'target', 'notes']);
    expect(report.chain).toEqual({ text: 'prune:0.5+int8', steps: { prune: { sparsity: 0.5 }, cluster: undefined, train: undefined, quantize: undefined } });
    const markdown = reportMarkdown(report);
    expect(markdown).toContain('**Refused:** the result is larger than the input (rerun with --allow-float-fallback)');
    expect(markdown).toContain('Chain: `prune:0.5+int8`.');
    expect(markdown).toContain('## Target: mcu');
    expect(markdown).toContain('- SOFTMAX has no kernel');
    expect(markdown).toContain('- a note');
  });
});
