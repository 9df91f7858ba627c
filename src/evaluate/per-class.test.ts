/**
 * Per-class figures: a hand-worked 3-class case, a brute-force dense count on random pairs, then
 * MNIST in LiteRT (float vs the AI Edge Quantizer int8 model) against the labels read from the IDX
 * file independently.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dataDir, readSharedModel, seededRandom } from '../test-support/shared';
import { compareModels } from './compare';
import { wilsonInterval } from './confidence';
import { className, MATRIX_CLASS_LIMIT, newPerClassCounter, worstClasses } from './per-class';

describe('per-class counts', () => {
  it('by hand: 3 classes, 8 samples', () => {
    const counter = newPerClassCounter(3, 'labels');
    const pairs = [[0, 0], [0, 0], [0, 1], [1, 1], [2, 1], [2, 2], [2, 2], [2, 0]];
    for (const [t, p] of pairs) counter.add(t, p);
    const s = counter.summary(['zero', 'one', 'two']);
    expect(s.samples).toBe(8);
    // Truth 0: 3 samples, 2 right; predicted 0 three times (two 0s and a 2): precision 2/3.
    expect(s.perClass[0]).toMatchObject({ classId: 0, name: 'zero', samples: 3, correct: 2, predicted: 3 });
    expect(s.perClass[0].recall).toBeCloseTo(2 / 3, 12);
    expect(s.perClass[0].precision).toBeCloseTo(2 / 3, 12);
    expect(s.perClass[0].recallLow).toBeCloseTo(wilsonInterval(2, 3).low, 12);
    // Truth 1: its only sample right, but predicted 1 three times: precision 1/3.
    expect(s.perClass[1]).toMatchObject({ samples: 1, correct: 1, recall: 1, predicted: 3 });
    expect(s.perClass[1].precision).toBeCloseTo(1 / 3, 12);
    // Truth 2: 4 samples, 2 right, predicted 2 twice, both right.
    expect(s.perClass[2]).toMatchObject({ samples: 4, correct: 2, recall: 0.5, predicted: 2, precision: 1 });
    expect(s.topConfusions).toEqual([
      { truth: 0, predicted: 1, count: 1 },
      { truth: 2, predicted: 0, count: 1 },
      { truth: 2, predicted: 1, count: 1 },
    ]);
    expect(s.matrix).toEqual([[0, 0, 2], [0, 1, 1], [1, 1, 1], [2, 0, 1], [2, 1, 1], [2, 2, 2]]);
    expect(worstClasses(s, 2).map((c) => c.classId)).toEqual([2, 0]);
    expect(className(s, 2)).toBe('two (2)');
  });

  it('brute force: random pairs over 50 classes against a dense matrix; no matrix above the limit', () => {
    const random = seededRandom(7);
    const classes = 50;
    const dense = new Uint32Array(classes * classes);
    const counter = newPerClassCounter(classes, 'reference');
    for (let i = 0; i < 3000; i++) {
      const t = Math.floor(random() * classes);
      // Mostly right, sometimes a neighbour: a few confusions stand out.
      const p = random() < 0.7 ? t : random() < 0.5 ? (t + 1) % classes : Math.floor(random() * classes);
      dense[t * classes + p]++;
      counter.add(t, p);
    }
    const s = counter.summary();
    for (const c of s.perClass) {
      let row = 0;
      let column = 0;
      for (let k = 0; k < classes; k++) {
        row += dense[c.classId * classes + k];
        column += dense[k * classes + c.classId];
      }
      expect(c.samples).toBe(row);
      expect(c.predicted).toBe(column);
      expect(c.correct).toBe(dense[c.classId * classes + c.classId]);
    }
    const cells = s.matrix!;
    expect(cells.length).toBe(dense.filter((n) => n > 0).length);
    for (const [t, p, n] of cells) expect(n).toBe(dense[t * classes + p]);
    const offDiagonal = [...dense.entries()].filter(([k, n]) => n > 0 && Math.floor(k / classes) !== k % classes).map(([, n]) => n).sort((a, b) => b - a);
    expect(s.topConfusions.map((c) => c.count)).toEqual(offDiagonal.slice(0, 10));
    const big = newPerClassCounter(MATRIX_CLASS_LIMIT + 1, 'labels');
    big.add(1000, 3);
    expect(big.summary().matrix).toBeUndefined();
    expect(big.summary().topConfusions).toEqual([{ truth: 1000, predicted: 3, count: 1 }]);
    expect(() => big.add(1001, 0)).toThrow(/outside the model's 1001 classes/);
  });
});

describe('per-class figures of MNIST in LiteRT', () => {
  it('float vs int8 on 300 labeled digits: per-class samples are the label counts, correct sums to top-1', async () => {
    const images = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-images-idx3-ubyte.gz')));
    const labelBytes = gunzipSync(readFileSync(join(dataDir, 'mnist_t10k', 't10k-labels-idx1-ubyte.gz')));
    const count = 300;
    const samples = Array.from({ length: count }, (_, i) => [Float32Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784), (p) => p / 255)]);
    const labels = labelBytes.subarray(8, 8 + count);
    const names = Array.from({ length: 10 }, (_, i) => `digit ${i}`);
    const float = readSharedModel('mnist_conv_fc_float.tflite');
    const result = await compareModels(float, readSharedModel('mnist_conv_fc_int8.tflite'), samples, { labels, perClass: { classNames: names } });
    const s = result.perClass!;
    expect(s).toMatchObject({ against: 'labels', classes: 10, samples: count });
    const labelCounts = Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    expect(s.perClass.map((c) => c.samples)).toEqual(labelCounts);
    expect(s.perClass[3].name).toBe('digit 3');
    const correct = s.perClass.reduce((n, c) => n + c.correct, 0);
    expect(correct / count).toBeCloseTo(result.classification.accuracy!.candidate.top1, 12);
    console.log(`mnist int8 per class (recall): ${s.perClass.map((c) => `${c.classId}: ${c.correct}/${c.samples}`).join(', ')}; confusions ${s.topConfusions.map((c) => `${c.truth}->${c.predicted}: ${c.count}`).join(', ')}`);
    // Without labels the truth is the float model's top-1: correct sums to the agreement.
    const unlabeled = await compareModels(float, readSharedModel('mnist_conv_fc_int8.tflite'), samples, { perClass: {} });
    const agreeing = unlabeled.perClass!.perClass.reduce((n, c) => n + c.correct, 0);
    expect(unlabeled.perClass!.against).toBe('reference');
    expect(agreeing / count).toBeCloseTo(unlabeled.classification.agreement, 12);
    // Not a classifier: no per-class figures.
    const sine = readSharedModel('hello_world_sine_float.tflite');
    expect((await compareModels(sine, sine, [[Float32Array.of(1)]], { perClass: {} })).perClass).toBeUndefined();
  }, 120_000);
});
