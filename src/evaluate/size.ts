/** A variant's size next to its reference's (raw and gzip, tflite/size.ts), and the ratios. */
import { modelSize, type ModelSize } from '../tflite/size';

export interface SizeComparison {
  candidate: ModelSize;
  reference: ModelSize;
  /** candidate / reference, raw and gzip (0.25 = four times smaller). */
  rawRatio: number;
  gzipRatio: number;
}

/** Sizes of a candidate and of its (float) reference, and their ratios. */
export function compareSizes(candidate: Uint8Array | ModelSize, reference: Uint8Array | ModelSize): SizeComparison {
  const c = candidate instanceof Uint8Array ? modelSize(candidate) : candidate;
  const r = reference instanceof Uint8Array ? modelSize(reference) : reference;
  return { candidate: c, reference: r, rawRatio: c.rawBytes / r.rawBytes, gzipRatio: c.gzipBytes / r.gzipBytes };
}
