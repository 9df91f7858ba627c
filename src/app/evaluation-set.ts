/**
 * What a result was measured on, so results measured on different data are never compared as if
 * they were not: the dataset's fingerprint (its sample names, labels, file sizes and preprocessing),
 * the split that chose the evaluation samples, and their count. Two results are comparable when
 * their evaluation keys are equal: same dataset, same seeded split, hence the same samples.
 */
import type { Preprocessing } from '../data/preprocess';

/** The split's counts (worker-protocol's Split, restated here: that file imports EvaluatedOn). */
export interface SplitCounts {
  calibration: number;
  evaluation: number;
  training?: number;
}

export interface EvaluatedOn {
  /** The dataset as the user knows it ("mnist-digits.zip", "digits/", "random inputs"). */
  dataset: string;
  /** datasetFingerprint of the data, or 'random' for seeded random inputs. */
  fingerprint: string;
  /** Samples the variant was evaluated on. */
  samples: number;
  random: boolean;
  /** The split used (null on random inputs). */
  split: SplitCounts | null;
  /** evaluationKey(fingerprint, split): equal keys, same evaluation samples. */
  key: string;
  /** When the evaluation finished (ms since 1970), to tell the newest result. */
  finishedAt: number;
}

/** 64-bit FNV-1a over the string's UTF-8 bytes, as 16 hex digits. */
export function fnv1a64(text: string): string {
  // The 64-bit offset basis in 16-bit limbs (low first); exact integer arithmetic, no BigInt.
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  for (const byte of new TextEncoder().encode(text)) {
    h0 ^= byte;
    [h0, h1, h2, h3] = mulPrime(h0, h1, h2, h3);
  }
  return [h3, h2, h1, h0].map((x) => x.toString(16).padStart(4, '0')).join('');
}

/** (h * 0x100000001b3) mod 2^64 on 16-bit limbs (low first). */
function mulPrime(h0: number, h1: number, h2: number, h3: number): [number, number, number, number] {
  // prime = 2^40 + 0x1b3: h * 0x1b3 + (h << 40).
  let t0 = h0 * 0x1b3;
  let t1 = h1 * 0x1b3;
  let t2 = h2 * 0x1b3;
  let t3 = h3 * 0x1b3;
  t2 += h0 << 8; // h0 * 2^40 = (h0 << 8) * 2^32
  t3 += h1 << 8;
  t1 += t0 >>> 16;
  t2 += t1 >>> 16;
  t3 += t2 >>> 16;
  return [t0 & 0xffff, t1 & 0xffff, t2 & 0xffff, t3 & 0xffff];
}

export interface FingerprintInput {
  names: readonly string[];
  labels: readonly (number | null)[];
  preprocessing: readonly (Preprocessing | null)[];
  /** A segmenter's masks: how their values were read is part of what was measured. */
  maskLabels?: { scale: number; ignore: number | null } | null;
}

/** Same files, labels and preprocessing: same fingerprint, on any machine and after a reload. */
export function datasetFingerprint(dataset: FingerprintInput, files: readonly { path: string; size: number }[]): string {
  const fileList = [...files].map((f) => `${f.path}\u0000${f.size}`).sort();
  const masks = dataset.maskLabels ? { masks: [dataset.maskLabels.scale, dataset.maskLabels.ignore] } : {};
  const text = JSON.stringify({ names: dataset.names, labels: dataset.labels, preprocessing: dataset.preprocessing, files: fileList, ...masks });
  return fnv1a64(text);
}

/** The key equal for evaluations on the same samples: dataset fingerprint and split (or random inputs). */
export function evaluationKey(fingerprint: string | null, split: SplitCounts | null): string {
  if (fingerprint === null || fingerprint === 'random' || !split) return 'random';
  return `${fingerprint}/c${split.calibration}/t${split.training ?? 0}/e${split.evaluation}`;
}

/** A short name for picked files: the zip, the common top folder, or the count. */
export function datasetName(files: readonly { path: string }[]): string {
  if (files.length === 0) return 'no files';
  if (files.length === 1) return files[0].path.split('/').pop()!;
  const tops = new Set(files.map((f) => (f.path.includes('/') ? f.path.split('/')[0] : '')));
  const [top] = tops;
  return tops.size === 1 && top ? `${top}/ (${files.length} files)` : `${files.length} files`;
}
