/** Evaluation inputs whose top-1 class differs between the float model and a variant (classifiers). */
import type { Dataset } from '../data/dataset';
import { argmax } from '../evaluate/metrics';
import { loadModel } from '../runtime/load';
import { toModelInput } from '../runtime/samples';
import { thumbnail } from './thumbnail';
import type { Disagreement } from './worker-protocol';
import { yieldToEventLoop } from './yielding-samples';

/** Samples scanned at most, and disagreements kept. */
const SCAN = 500;
const KEEP = 4;

export async function findDisagreements(
  reference: Uint8Array,
  candidate: Uint8Array,
  d: Dataset,
  indices: number[],
  className: (index: number) => string,
  signal?: AbortSignal,
): Promise<Disagreement[]> {
  const ref = await loadModel(reference);
  const cand = await loadModel(candidate);
  const found: Disagreement[] = [];
  try {
    let n = 0;
    for (const i of indices.slice(0, SCAN)) {
      if (signal?.aborted || found.length >= KEEP) break;
      if (++n % 8 === 0) await yieldToEventLoop();
      const floats = await d.sample(i);
      const a = argmax((await ref.run(floats.map((f, j) => toModelInput(f, d.inputs[j]))))[0].data);
      const b = argmax((await cand.run(floats.map((f, j) => toModelInput(f, cand.inputs[j]))))[0].data);
      if (a === b) continue;
      const label = d.labels[i];
      const { rgba, width, height } = thumbnail(floats[0], d.preprocessing[0] ?? null);
      found.push({ name: d.names[i], label: label === null ? null : className(label), rgba, width, height, reference: className(a), candidate: className(b) });
    }
  } finally {
    ref.delete();
    cand.delete();
  }
  return found;
}
