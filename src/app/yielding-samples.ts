/** Dataset samples that let the event loop run every few samples, so a cancel message gets through mid-run. */
import type { Dataset } from '../data/dataset';

export const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function* samplesOf(dataset: Dataset, indices: number[]): AsyncGenerator<Float32Array[]> {
  let n = 0;
  for (const i of indices) {
    if (++n % 8 === 0) await yieldToEventLoop();
    yield await dataset.sample(i);
  }
}
