/**
 * The shapes finetune() takes and returns (training-plan-types.ts has the plan's). Apart from
 * finetune.ts so the plan and the steps that carry it out can share them without a circle.
 */
import type { ModelGraph } from '../tflite/graph';
import type { FeatureDistillation } from './training-features';
import type { TrainingLoss, TrainingPlan } from './training-plan-types';

export type { TrainingLoss };

export interface TrainingData {
  size: number;
  /** Class index per sample, or null when unlabeled. */
  labels: readonly (number | null)[];
  /** Sample i: one real-valued Float32Array per model input. */
  sample(i: number): Promise<Float32Array[]>;
}

export interface TrainingProgress {
  phase: 'calibrate' | 'train' | 'validate';
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  /** Loss and accuracy (vs labels, or agreement with the teacher) of the last batch. */
  loss: number;
  accuracy: number | null;
  /** After each epoch (and before the first, epoch 0): on the held-out split. */
  validation?: { loss: number; accuracy: number | null };
}

export interface FinetuneOptions {
  mode: 'finetune' | 'qat';
  /** The float model the candidate came from, for distillation; default: the graph itself. */
  teacher?: ModelGraph;
  /** Default: cross-entropy when every training sample has a label, else distillation. */
  loss?: TrainingLoss;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Share of the data held out to pick the best epoch (default 0.15; none below 20 samples). */
  validationFraction?: number;
  /** Keep zero weights at zero (the model was pruned). Default: true when any weight is zero. */
  keepZeros?: boolean;
  /** Weight tensors (by tensor index) that were clustered, tied to their centroids. */
  clustered?: { tensors: number[]; perChannel: boolean };
  /** QAT: weights fake-quantized per channel (convolutions, as the int8 path does by default) or per tensor. */
  weightGranularity?: 'per-channel' | 'per-tensor';
  /**
   * QAT from a quantized starting point: weight tensors (by name) whose quantization steps train
   * with them (LSQ), each started from the given scales (one per output channel, or one) at the
   * given bits. The others keep int8 max|w| / 127 fake quantization. The learned steps come back in
   * FinetuneResult.learnedSteps, for the writer (OptimizeRequest.int4Scales).
   */
  learnedSteps?: Map<string, { bits: 4 | 8; scales: number[] }>;
  /**
   * With learnedSteps: each of those weights moves by about this share of its starting step per
   * optimizer update (training-weights.ts buildTrainables), the learning rate then being the
   * biases' and steps'. Default: the learning rate for all.
   */
  weightStepRate?: number;
  /**
   * QAT: learn each int8 activation's step (LSQ, zero point fixed from the measured range) instead
   * of tracking its range by a moving average. Default: on when learnedSteps are given. The learned
   * ranges come back in FinetuneResult.learnedActivationRanges, for the writer.
   */
  learnActivationSteps?: boolean;
  /**
   * Distillation only: 'flip' mirrors each training image left-right with even odds (seeded), and the
   * teacher scores the mirrored image, so a few images give twice the inputs to match the float model
   * on. Validation batches are never mirrored. Inputs that are not [H, W, C] images stay as they are.
   */
  augment?: 'flip';
  /**
   * Distillation of a softmax classifier: the student's logits and the teacher's distribution both
   * at temperature T (softmax(z / T); the teacher's probabilities p^(1/T), renormalized), the loss
   * times T^2 (Hinton et al. 2015), so the small probabilities (what else the teacher thinks an image
   * resembles) carry signal from every image. Default 1; other losses ignore it (a note says so).
   */
  temperature?: number;
  /**
   * Distillation only: inner tensors (by name) the student also fits to the teacher's
   * (training-features.ts); the teacher runs on every training batch then, uncached.
   */
  features?: FeatureDistillation;
  /** Memory allowed for activations and their gradients; the batch shrinks to fit (default 1 GiB). */
  memoryBudgetBytes?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TrainingProgress) => void;
  /** Filled with the milliseconds each part of the training epochs took (a bench's profile). */
  profile?: TrainingProfile;
}

/**
 * Where the epochs' time went, in ms: batch = loading samples (decode, preprocess, teacher outputs),
 * forward = the graph with fake quantization, loss, rangeTracking = QAT's batch min / max (computed
 * and read back), backward = gradients, optimizer = Adam's update, readback = loss values to
 * JavaScript, dispose, validation = the held-out pass after each epoch, other = the rest.
 */
export type TrainingProfile = Partial<Record<'batch' | 'forward' | 'loss' | 'rangeTracking' | 'backward' | 'optimizer' | 'readback' | 'dispose' | 'validation' | 'other', number>>;

export interface EpochSummary {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number | null;
  validationLoss: number | null;
  validationAccuracy: number | null;
}

export interface FinetuneResult {
  /** Float graph holding the best weights. */
  graph: ModelGraph;
  loss: TrainingLoss;
  batchSize: number;
  history: EpochSummary[];
  /** Epoch whose weights were kept (0 = the weights before training). */
  bestEpoch: number;
  /** Set when training ended before its last epoch. */
  stopped?: { reason: 'cancelled' | 'nan'; message: string };
  /** QAT: the activation ranges reached, by tensor index. */
  activationRanges?: Map<number, { min: number; max: number }>;
  /** The steps of options.learnedSteps at the kept epoch, by weight tensor name. */
  learnedSteps?: Map<string, { bits: 4 | 8; scales: number[] }>;
  /** Learned activation steps as int8 ranges (min, max give back the step and zero point), by tensor name. */
  learnedActivationRanges?: Map<string, { min: number; max: number }>;
  /** What was trained and how (planTraining), as plain data. */
  plan: TrainingPlan;
  notes: string[];
  elapsedMs: number;
}
