/** Stale results, intervals and the CSV, on result values shaped as the worker returns them. */
import { describe, expect, it } from 'vitest';
import { evaluationKey, type EvaluatedOn } from '../../app/evaluation-set';
import type { RunResult } from '../../app/worker-protocol';
import { wilsonInterval } from '../../evaluate/confidence';
import { currentKey, intervalText, isStale, qualityOf, resultsCsv, taskQualityName, taskQualityOf, taskReferenceOf, type ResultEntry } from './results-model';

const SPLIT = { calibration: 100, evaluation: 500, training: 0 };

/** A finished result: `right` of `n` labeled samples correct (the float model: `refRight`). */
function result(label: string, on: Partial<EvaluatedOn> & { fingerprint: string }, right: number, n: number, refRight: number): RunResult {
  const evaluatedOn: EvaluatedOn = { dataset: 'digits.zip', samples: n, random: false, split: SPLIT, key: evaluationKey(on.fingerprint, on.split ?? SPLIT), finishedAt: 0, ...on };
  return {
    label,
    evaluatedOn,
    randomInputs: false,
    comparison: { samples: n, outputs: [{ name: 'out', candidateName: 'out', shape: [1, 10], sqnrDb: 20.5 }], classification: { count: n, agreement: (n - 1) / n, accuracy: { labeled: n, reference: { top1: refRight / n, top5: 1 }, candidate: { top1: right / n, top5: 1 } } }, elapsedMs: 1 },
    sizes: { reference: { rawBytes: 200_000, gzipBytes: 180_000 }, candidate: { rawBytes: 54_000, gzipBytes: 40_000 } },
    latency: { medianMs: 0.25 },
    referenceLatency: { medianMs: 0.5 },
    floatOps: [],
  } as unknown as RunResult;
}

const entry = (r: RunResult, id = r.label): ResultEntry => ({ id, result: r, rerunning: false });

describe('results measured on other data', () => {
  const old200 = result('int8', { fingerprint: 'aaaa', samples: 200, split: { ...SPLIT, evaluation: 200 }, finishedAt: 1 }, 197, 200, 196);
  const new5000 = result('float16', { fingerprint: 'bbbb', samples: 5000, finishedAt: 2 }, 4815, 5000, 4815);

  it('are stale against the loaded dataset and split; the ones measured on it are not', () => {
    const key = currentKey({ status: 'ready', info: { fingerprint: 'bbbb' } }, SPLIT, [entry(old200), entry(new5000)]);
    expect(key).toBe(evaluationKey('bbbb', SPLIT));
    expect(isStale(old200, key)).toBe(true);
    expect(isStale(new5000, key)).toBe(false);
    // Another split of the same data picks other evaluation samples: stale too.
    expect(isStale(new5000, currentKey({ status: 'ready', info: { fingerprint: 'bbbb' } }, { ...SPLIT, calibration: 50 }, []))).toBe(true);
  });

  it('without data loaded, the newest result decides (restored results stay comparable with each other)', () => {
    expect(currentKey({ status: 'none' }, SPLIT, [entry(old200), entry(new5000)])).toBe(new5000.evaluatedOn!.key);
    expect(currentKey({ status: 'none' }, SPLIT, [])).toBeNull();
  });

  it('quality carries its sample count and Wilson interval', () => {
    expect(qualityOf(old200, true)).toEqual(wilsonInterval(197, 200));
    expect(qualityOf(old200, false)).toEqual(wilsonInterval(199, 200));
    expect(intervalText(qualityOf(old200, true))).toBe('98.5% (95% CI 95.7–99.5%, n = 200)');
  });
});

describe("a detector's mAP", () => {
  const detector = (against: 'labels' | 'reference') => {
    const r = result('dynamic', { fingerprint: 'cccc' }, 0, 25, 0);
    const quality = { task: 'detection', metric: 'map', against, value: 0.95, interval: [0.9, 0.99], samples: 25, ...(against === 'labels' ? { referenceValue: 0.97, referenceInterval: [0.93, 1] } : {}) };
    return { ...r, comparison: { ...r.comparison, classification: { count: 25, agreement: 0 }, quality } } as unknown as RunResult;
  };

  it('is headed by what it was measured against; against box labels the float model has its own value and interval', () => {
    const labels = taskQualityOf(detector('labels'))!;
    expect(labels).toEqual({ metric: 'map', against: 'labels', rate: 0.95, low: 0.9, high: 0.99, n: 25 });
    expect(taskQualityName(labels)).toBe('mAP@0.5 vs labels');
    expect(taskReferenceOf(detector('labels'))).toEqual({ rate: 0.97, low: 0.93, high: 1, n: 25 });
    expect(taskQualityName(taskQualityOf(detector('reference'))!)).toBe('mAP@0.5 vs float');
    expect(taskReferenceOf(detector('reference'))).toBeNull();
  });
});

describe('resultsCsv', () => {
  it('has a header, the float row measured on the current samples, then one row per result with exact values', () => {
    const a = result('int8', { fingerprint: 'aaaa', finishedAt: 1 }, 480, 500, 485);
    const b = result('dynamic, "fast"', { fingerprint: 'old', finishedAt: 2 }, 190, 200, 195);
    const key = evaluationKey('aaaa', SPLIT);
    const csv = resultsCsv([entry(b), entry(a)], key);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[0].split(',')[0]).toBe('variant');
    // The float row uses a's (current) measurement, not b's (stale, listed first).
    expect(lines[1]).toBe(`float model,false,"digits.zip, 500 samples, split 100/0/500",500,0.97,${wilsonInterval(485, 500).low},${wilsonInterval(485, 500).high},1,,,inf,200000,180000,0.5,all`);
    expect(lines[2].startsWith('"dynamic, ""fast""",true,"digits.zip, 200 samples')).toBe(true);
    expect(lines[3]).toBe(`int8,false,"digits.zip, 500 samples, split 100/0/500",500,0.96,${wilsonInterval(480, 500).low},${wilsonInterval(480, 500).high},0.998,${wilsonInterval(499, 500).low},${wilsonInterval(499, 500).high},20.5,54000,40000,0.25,0`);
  });
});
