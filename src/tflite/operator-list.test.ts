/** The summary's per-op list: execution order, activation / output / weight dtypes, plain JSON. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarizeModel } from './summary';

const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models');
const summary = (name: string) => summarizeModel(new Uint8Array(readFileSync(path.join(shared, name))));

describe('ModelSummary.operatorList', () => {
  it('lists every op of the float MNIST model in order, float in and out, with float weights', () => {
    const s = summary('mnist_conv_fc_float.tflite');
    expect(s.operatorList.length).toBe(s.opCount);
    expect(s.operatorList.map((o) => o.index)).toEqual(s.operatorList.map((_, i) => i));
    const conv = s.operatorList.find((o) => o.op === 'CONV_2D')!;
    expect(conv.inputDtypes).toEqual(['FLOAT32']);
    expect(conv.outputDtypes).toEqual(['FLOAT32']);
    expect(conv.weightDtypes).toEqual(['FLOAT32', 'FLOAT32']);
    // Plain data: survives JSON (worker boundary, `tflite-opt inspect --json`).
    expect(JSON.parse(JSON.stringify(s.operatorList))).toEqual(s.operatorList);
  });

  it('shows where an int8 model changes dtype (QUANTIZE float -> int8, int8 weights, int32 bias)', () => {
    const s = summary('mnist_conv_fc_int8.tflite');
    const ops = s.operatorList;
    const conv = ops.find((o) => o.op === 'CONV_2D')!;
    expect(conv.inputDtypes).toEqual(['INT8']);
    expect(conv.weightDtypes).toEqual(['INT8', 'INT32']);
    const counts = Object.entries(s.ops).map(([op, n]) => [op, ops.filter((o) => o.op === op).length]);
    expect(Object.fromEntries(counts)).toEqual(s.ops);
    const quantize = ops.filter((o) => o.op === 'QUANTIZE');
    for (const q of quantize) expect(q.weightDtypes).toEqual([]);
    console.log(`# mnist_conv_fc_int8 ops: ${ops.map((o) => `${o.index} ${o.op} ${o.inputDtypes.join(',')}->${o.outputDtypes.join(',')}${o.weightDtypes.length ? ` w:${o.weightDtypes.join(',')}` : ''}`).join(' | ')}`);
  });
});
