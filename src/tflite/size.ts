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

export function modelSize(bytes: Uint8Array): ModelSize {
  return { rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}
