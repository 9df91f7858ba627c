/**
 * Mutated real models (truncations, bit flips, byte runs) must each end in a parse or a clean
 * WorkbenchError, quickly: never a hang, a crash of another kind or an out-of-memory.
 */
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { readSharedModel, seededRandom } from '../test-support/shared';
import { readModel } from './read';
import { summarizeGraph } from './summary';
import { writeModel } from './write';

const MODELS = [
  'hello_world_sine_float.tflite',
  'ops/two_signatures.tflite',
  'ops/branching_conv_fc.tflite',
  'kws_dscnn_int8.tflite',
  'mnist_conv_fc_weight_only_int8.tflite',
  'mobilenet_v1_0.25_224_quant_uint8.tflite',
];
const CASES_PER_MODEL = 400;
/** A generous bound: a healthy case takes about a millisecond; a hang would take forever. */
const MAX_CASE_MS = 3000;

/** Byte ranges that hold flatbuffer structure rather than weights (mutating weights proves little). */
function structureRanges(bytes: Uint8Array): [number, number][] {
  const graph = readModel(bytes);
  const data = graph.buffers
    .filter((b) => b.data.length > 64)
    .map((b) => [b.data.byteOffset, b.data.byteOffset + b.data.length] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  const ranges: [number, number][] = [];
  let at = 0;
  for (const [start, end] of data) {
    if (start > at) ranges.push([at, start]);
    at = Math.max(at, end);
  }
  if (at < bytes.length) ranges.push([at, bytes.length]);
  return ranges;
}

function mutate(original: Uint8Array, ranges: [number, number][], random: () => number): Uint8Array {
  const pick = () => {
    const [start, end] = ranges[Math.floor(random() * ranges.length)];
    return start + Math.floor(random() * (end - start));
  };
  const kind = random();
  if (kind < 0.2) return original.slice(0, Math.floor(random() * original.length));
  const bytes = original.slice();
  if (kind < 0.6) {
    const flips = 1 + Math.floor(random() * 8);
    for (let i = 0; i < flips; i++) bytes[pick()] ^= 1 << Math.floor(random() * 8);
  } else {
    const at = pick();
    const length = 1 + Math.floor(random() * 64);
    const fill = random();
    for (let i = at; i < Math.min(at + length, bytes.length); i++) {
      bytes[i] = fill < 0.33 ? 0 : fill < 0.66 ? 0xff : Math.floor(random() * 256);
    }
  }
  return bytes;
}

describe('fuzzing the reader and writer with mutated real models', () => {
  for (const [m, name] of MODELS.entries()) {
    it(`${CASES_PER_MODEL} mutations of ${name}`, () => {
      const original = readSharedModel(name);
      const ranges = structureRanges(original);
      const random = seededRandom(1000 + m);
      const outcomes = { parsed: 0, refused: 0 };
      let slowest = 0;
      for (let i = 0; i < CASES_PER_MODEL; i++) {
        const bytes = mutate(original, ranges, random);
        const started = performance.now();
        try {
          const graph = readModel(bytes);
          // Whatever parses must also summarize, write and read back.
          if (bytes.length < 100_000) summarizeGraph(graph, bytes);
          readModel(writeModel(graph));
          outcomes.parsed++;
        } catch (error) {
          if (!(error instanceof WorkbenchError)) {
            throw new Error(`case ${i} of ${name} threw a raw ${(error as Error)?.name}: ${(error as Error)?.message}`);
          }
          expect(error.message.length).toBeGreaterThan(10);
          outcomes.refused++;
        }
        slowest = Math.max(slowest, performance.now() - started);
      }
      console.log(`${name}: ${outcomes.parsed} parsed, ${outcomes.refused} refused, slowest ${slowest.toFixed(1)} ms`);
      expect(slowest).toBeLessThan(MAX_CASE_MS);
      expect(outcomes.parsed + outcomes.refused).toBe(CASES_PER_MODEL);
      // Both paths must be exercised, or the mutations are not reaching the structure.
      expect(outcomes.refused).toBeGreaterThan(CASES_PER_MODEL / 10);
      expect(outcomes.parsed).toBeGreaterThan(0);
    });
  }
});
