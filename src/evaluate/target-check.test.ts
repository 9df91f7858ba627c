import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../tflite/read';
import { BuiltinOperator } from '../tflite/schema/generated/tflite_generated';
import { estimateMcuMemory, isBlocking, targetCheck, TFLM_BUILTIN_OPS } from './target-check';

const models = join(__dirname, '../../../shared/models');
const load = (name: string) => {
  const bytes = new Uint8Array(readFileSync(join(models, name)));
  return { bytes, graph: readModel(bytes) };
};

describe('microcontroller (TFLite Micro) check', () => {
  for (const [name, min, max] of [
    ['vww_96_int8.tflite', 40_000, 160_000],
    ['kws_dscnn_int8.tflite', 8_000, 60_000],
    ['mnist_conv_fc_int8.tflite', 1_000, 60_000],
  ] as const) {
    it(`${name}: runs on TFLM, arena in a plausible range`, () => {
      const { bytes, graph } = load(name);
      const check = targetCheck(graph, 'mcu', bytes.length);
      const mcu = check.mcu!;
      console.log(`# ${name}: flash ${mcu.flashBytes} B, arena ${mcu.arenaBytes} B (peak live ${mcu.peakLiveBytes} B at op #${mcu.peakOpIndex}, ${mcu.activationTensors} activation tensors); issues: ${check.issues.map((i) => i.message).join(' | ') || 'none'}`);
      expect(check.issues.filter(isBlocking)).toEqual([]);
      expect(mcu.flashBytes).toBe(bytes.length);
      expect(mcu.arenaBytes).toBeGreaterThanOrEqual(mcu.peakLiveBytes);
      expect(mcu.arenaBytes).toBeLessThan(mcu.peakLiveBytes * 1.5);
      expect(mcu.arenaBytes).toBeGreaterThan(min);
      expect(mcu.arenaBytes).toBeLessThan(max);
    });
  }

  it('flags float tensors as a warning and ops TFLM lacks as errors', () => {
    const { bytes, graph } = load('mnist_conv_fc_float.tflite');
    const issues = targetCheck(graph, 'mcu', bytes.length).issues;
    expect(issues.filter(isBlocking)).toEqual([]);
    expect(issues.some((i) => i.kind === 'warning' && /FLOAT32/.test(i.message))).toBe(true);
    // Pretend CONV_2D were missing: rename its opcode to one TFLM lacks.
    const g = readModel(bytes);
    const conv = g.operatorCodes.find((c) => Math.max(c.builtinCode, c.deprecatedBuiltinCode) === BuiltinOperator.CONV_2D)!;
    conv.builtinCode = BuiltinOperator.CONV_3D;
    conv.deprecatedBuiltinCode = BuiltinOperator.CONV_3D;
    const blocking = targetCheck(g, 'mcu', bytes.length).issues.filter(isBlocking);
    expect(blocking.map((i) => i.message)).toEqual([expect.stringMatching(/^CONV_3D/)]);
    expect(blocking[0].kind).toBe('unsupported-op');
    expect(blocking[0].message).toMatch(/TFLite Micro has no kernel/);
  });

  it('the op list covers the MLPerf Tiny models and excludes ops TFLM lacks', () => {
    for (const op of ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'SOFTMAX', 'AVERAGE_POOL_2D', 'RESHAPE', 'ADD']) expect(TFLM_BUILTIN_OPS.has(op)).toBe(true);
    for (const op of ['LSTM', 'NON_MAX_SUPPRESSION_V4', 'TOPK_V2', 'CONV_3D', 'BIDIRECTIONAL_SEQUENCE_LSTM']) expect(TFLM_BUILTIN_OPS.has(op)).toBe(false);
  });

  it('plans a chain: peak is the largest producer/consumer pair', () => {
    // A tiny synthetic graph built from MNIST: the estimate equals the max of (in + out) over a chain
    // only when every tensor dies right after its consumer; check the plan never exceeds the sum of all.
    const { bytes, graph } = load('mnist_conv_fc_int8.tflite');
    const e = estimateMcuMemory(graph, bytes.length);
    const main = graph.subgraphs[0];
    const total = main.tensors.reduce((s, t) => s + (graph.buffers[t.buffer]?.data.length ? 0 : t.shape.reduce((n, d) => n * Math.max(d, 1), 1)), 0);
    expect(e.arenaBytes).toBeLessThanOrEqual(total + 16 * main.tensors.length);
    expect(e.notes.some((n) => /few KB/.test(n))).toBe(true);
  });
});
