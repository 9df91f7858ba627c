/**
 * Model size as stored (raw bytes) and as downloaded with compression (gzip, level 9, fflate),
 * which rewards what quantization and pruning/clustering leave behind: fewer distinct byte values
 * and runs of zeros compress well even when the raw size does not change.
 */
import { gzipSync } from 'fflate';

export interface ModelSize {
  rawBytes: number;
  gzipBytes: number;
}

export interface SizeComparison {
  candidate: ModelSize;
  reference: ModelSize;
  /** candidate / reference, raw and gzip (0.25 = four times smaller). */
  rawRatio: number;
  gzipRatio: number;
}

export function modelSize(bytes: Uint8Array): ModelSize {
  return { rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

/** Sizes of a candidate and of its (float) reference, and their ratios. */
export function compareSizes(candidate: Uint8Array | ModelSize, reference: Uint8Array | ModelSize): SizeComparison {
  const c = candidate instanceof Uint8Array ? modelSize(candidate) : candidate;
  const r = reference instanceof Uint8Array ? modelSize(reference) : reference;
  return { candidate: c, reference: r, rawRatio: c.rawBytes / r.rawBytes, gzipRatio: c.gzipBytes / r.gzipBytes };
}
