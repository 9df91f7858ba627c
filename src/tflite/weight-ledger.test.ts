/**
 * The weight ledger counts what is alive: the bytes a graph was read from (its buffers are views,
 * not copies), each written file until it is dropped, LiteRT's held copies until released, and
 * nothing for a file written into memory the caller gave.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { readSharedModel } from '../test-support/shared';
import { readModel } from './read';
import { holdWeightCopy, startWeightLedger, stopWeightLedger } from './weight-ledger';
import { writeModel } from './write';

setFlagsFromString('--expose-gc');
setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
const gc = runInNewContext('gc') as () => void;
const registry = runInNewContext('FinalizationRegistry') as typeof FinalizationRegistry;

afterEach(() => stopWeightLedger());

describe('weight ledger', () => {
  it('counts reachable copies by kind', () => {
    const ledger = startWeightLedger({ collect: gc, registry });
    const bytes = readSharedModel('mobilenet_v1_0.25_224_float.tflite');
    const graph = readModel(bytes);
    let file: Uint8Array | null = writeModel(graph);
    let now = ledger.measure('written');
    expect(now.byKind.get('model bytes')).toBe(bytes.buffer.byteLength);
    // The graph's buffers view the bytes read: no 'graph buffers' of their own.
    expect(now.byKind.get('graph buffers') ?? 0).toBe(0);
    expect(now.byKind.get('serialized')).toBe(file.length);

    const size = file.length;
    const release = holdWeightCopy('LiteRT heap', size);
    file = null;
    now = ledger.measure('dropped');
    expect(now.byKind.get('serialized') ?? 0).toBe(0);
    expect(now.byKind.get('LiteRT heap')).toBe(size);
    release();
    expect(ledger.measure('released').byKind.get('LiteRT heap') ?? 0).toBe(0);
    expect(ledger.peak!.total).toBe(bytes.buffer.byteLength + 2 * size);

    const target = new Uint8Array(size);
    writeModel(graph, (size) => target.subarray(0, size));
    expect(ledger.measure('into a target').byKind.get('serialized') ?? 0).toBe(0);
  });
});
