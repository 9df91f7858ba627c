/**
 * What crosses the boundary of the workers (workers/*.worker.ts) and the page: requests, progress
 * and results as plain, structured-cloneable values. Errors come back as ErrorInfo values, never
 * thrown across it.
 */
import type { ErrorInfo } from '../errors';
import type { ComparisonResult } from '../evaluate/compare';
import type { LatencyResult } from '../evaluate/latency';
import type { SizeComparison } from '../evaluate/size';
import type { McuEstimate, TargetIssue } from '../evaluate/target-check';
import type { ActivationSummary } from '../optimize/calibrate/activation-summary';
import type { ChainChecks } from '../optimize/chain';
import type { FloatOp } from '../optimize/quantize/integer';
import type { Recipe } from '../optimize/recipe';
import type { WebGpuCheck } from '../runtime/webgpu-probe';
import type { ModelSummary } from '../tflite/summary-types';
import type { Preprocessing } from '../data/preprocess';
import type { TrainingSummary, TrainingUpdate } from './training-progress';
import type { EvaluatedOn } from './evaluation-set';

// ---------------------------------------------------------------------------------------------
// The model worker (workers/model.worker.ts)

export type SummarizeResult = { ok: true; summary: ModelSummary } | { ok: false; error: ErrorInfo };

// ---------------------------------------------------------------------------------------------
// The optimizer worker (workers/optimizer.worker.ts)

export type RunStage = 'prune' | 'cluster' | 'train' | 'calibrate' | 'round' | 'quantize' | 'write' | 'check' | 'evaluate' | 'latency';
export type ProgressCallback = (stage: RunStage, done: number, total: number | undefined) => void;
export type TrainingCallback = (update: TrainingUpdate) => void;

/** The variant's training settings (finetune / qat chain steps). */
export interface TrainingRequest {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Distillation only: mirror training images at random; the teacher scores the mirror. */
  augment?: 'flip';
}

export interface DataInput {
  /** Picked / dropped files with their paths relative to the dataset root; or one zip. */
  files: { file: File; path: string }[];
}

export interface DatasetInfo {
  /** The dataset as the user named it (zip, folder) and its fingerprint (evaluation-set.ts). */
  name: string | null;
  fingerprint: string | null;
  size: number;
  kind: string;
  labeled: boolean;
  labelSource: string | null;
  classNames: string[] | null;
  notes: string[];
  preprocessing: Preprocessing | null;
  /** A detector's ground-truth boxes from the data's boxes.csv: how many, on how many images. */
  boxLabels?: { name: string; boxes: number; images: number } | null;
  /** A segmenter's ground-truth masks from the data's masks/ folder, on the output grid [height, width]. */
  masks?: { name: string; images: number; scale: number; ignore: number | null; ignoredPixels: number; resized: number; grid: [number, number] } | null;
  /** Why the data's masks/ could not be used (e.g. values that look stored as class x 10), if so. */
  maskProblem?: string | null;
}

export interface PreviewItem {
  name: string;
  label: string | null;
  /** RGBA pixels of the input as the model sees it (de-normalized for display), or null (not an image). */
  rgba: Uint8ClampedArray | null;
  width: number;
  height: number;
  /** Range of the float values fed to the model. */
  min: number;
  max: number;
  top: { index: number; name: string; score: number }[];
}

/** An evaluation input where the variant's top-1 differs from the float model's. */
export interface Disagreement {
  name: string;
  label: string | null;
  rgba: Uint8ClampedArray | null;
  width: number;
  height: number;
  reference: string;
  candidate: string;
}

export interface Split {
  calibration: number;
  evaluation: number;
  /**
   * Training (finetune / qat variants): the calibration samples plus this many more, taken before
   * the evaluation samples, so evaluation images are never trained on. Default 0.
   */
  training?: number;
}

/** What a chain variant's prune / cluster steps left in the result (from the chain's weight report). */
export interface ChainSummary {
  /** The chain string, e.g. "cluster:32:per-channel+int8". */
  text: string;
  /** Fraction of zeros over all weight tensors of the result. */
  sparsity: number;
  /** Most distinct values in one clustered tensor (or channel) of the result. */
  maxDistinct?: number;
  perChannel?: boolean;
  gzipBytes: number;
  checks: ChainChecks;
}

export interface RunResult {
  bytes: Uint8Array;
  label: string;
  recipe: Recipe;
  floatOps: FloatOp[];
  /**
   * Calibrated variants (int8, 16x8, W4A8...): each calibrated activation of the float model as
   * read (keys `${subgraph}:${tensorIndex}` of it), its histogram, the range applied and the share
   * clipped. Absent for variants without calibration, and in results saved before it was kept.
   */
  activations?: ActivationSummary[];
  /**
   * Variants made after cross-layer equalization: the float tensors the variant holds rescaled per
   * channel (OptimizeResult.channelScales), so a re-evaluation's per-layer comparison undoes them too.
   * Absent in results saved before it was kept (their re-evaluations read the rescaling as error).
   */
  channelScales?: Record<string, number[]>;
  /** The same for high-bias absorption's per-channel shifts (OptimizeResult.channelShifts). */
  channelShifts?: Record<string, number[]>;
  notes: string[];
  timings: Record<string, number>;
  comparison: ComparisonResult;
  /** True when the comparison ran on random inputs (no dataset). */
  randomInputs: boolean;
  /** The data set, split and sample count it was measured on (older saved results lack it). */
  evaluatedOn?: EvaluatedOn;
  sizes: SizeComparison;
  latency: LatencyResult;
  referenceLatency: LatencyResult;
  targetIssues: TargetIssue[];
  /** Microcontroller target: flash and tensor arena estimate (else null). */
  mcu?: McuEstimate | null;
  /** Web target: LiteRT.js's WebGPU accelerator tried on the variant (else null). */
  webgpu?: WebGpuCheck | null;
  /** Up to 4 evaluation inputs where the variant and the float model disagree (classifiers). */
  disagreements: Disagreement[];
  /** Chain variants (prune / cluster steps) only. */
  chain?: ChainSummary;
  /** Variants with a finetune / qat step. */
  training?: TrainingSummary;
  reportJson: string;
  reportMarkdown: string;
  overlayJson: string | null;
  aeqRecipeJson: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
