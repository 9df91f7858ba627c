/**
 * The shapes of a TrainingPlan (training-plan.ts makes one): plain data only, so a plan survives
 * JSON.stringify / JSON.parse unchanged and can go into a report as it is. Tensor indices refer to
 * the graph that trains: trainingGraph(source), which folds float16 weights into float32 ones.
 */
/** Cross-entropy on labels, or distillation from the float teacher's outputs. */
export type TrainingLoss = 'cross-entropy' | 'distillation';

/** How a weight is held while it trains (engine/trainable.ts). */
export type PlannedConstraint = 'free' | 'mask' | 'clusters';

export interface PlannedWeight {
  tensorIndex: number;
  name: string;
  shape: number[];
  /** Weights are what QAT fake-quantizes; biases stay float (int32 in the int8 model). */
  role: 'weight' | 'bias';
  /** The op that reads it first, by name (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED...). */
  op: string;
  /** Output-channel axis (per-channel clusters and fake-quant); null for per-tensor and biases. */
  axis: number | null;
  constraint: PlannedConstraint;
  /** Pruned zeros held at zero (constraint 'mask', or 'clusters' with a masked zero cluster). */
  keepZeros: boolean;
  zeros: number;
  /** Clustered: values tied within a channel (true) or across the tensor. */
  clusters?: { perChannel: boolean };
  /** QAT weights: how the forward pass fake-quantizes it. */
  fakeQuant?: PlannedFakeQuant;
}

/**
 * Symmetric weight fake quantization: int8 with scale max|w| / 127 recomputed at every step (as the
 * int8 path stores it), or, with `learned`, a trained step per channel / tensor (LSQ, engine/lsq.ts)
 * started from the caller's scales, at 8 bits (-127..127) or 4 (-8..7, as int4.ts stores them).
 */
export interface PlannedFakeQuant {
  granularity: 'per-channel' | 'per-tensor';
  axis: number | null;
  bits: 4 | 8;
  learned?: true;
}

/** A weight left as it is, and why. */
export interface SkippedWeight {
  tensorIndex: number;
  name: string;
  reason: string;
}

export interface PlannedLoss {
  kind: TrainingLoss;
  reason: string;
  /**
   * What the loss compares: 'softmax-cross-entropy' on the logits feeding a softmax output (labels
   * one-hot, or the teacher's distribution), 'cross-entropy' on an output that is already
   * probabilities, or 'mean-squared-error' against the teacher's output.
   */
  form: 'softmax-cross-entropy' | 'cross-entropy' | 'mean-squared-error';
  /** The output the loss reads and, for softmax classifiers, the logits tensor and softmax beta. */
  head: { output: number; logits: number | null; beta: number };
  /** Distillation on logits: the temperature both distributions are compared at (1 otherwise). */
  temperature: number;
}

export interface TrainingPlan {
  mode: 'finetune' | 'qat';
  /** The model came with float16 weights behind DEQUANTIZE ops; they are folded to float32 to train. */
  foldsFloat16: boolean;
  weights: PlannedWeight[];
  skipped: SkippedWeight[];
  loss: PlannedLoss;
  /** QAT: the float activations fake-quantized to int8, their ranges first measured on up to `calibrationSamples` samples and then tracked with `momentum`. */
  activations: {
    tensors: number[];
    /**
     * Tensors that TFLite keeps on one scale (a pooling / RESHAPE / CONCATENATION... output and its
     * inputs), as groups of two or more: QAT fake-quantizes each group in one range (one learned step),
     * the range the written model gives them all.
     */
    sharedScale: number[][];
    calibrationSamples: number;
    momentum: number;
  } | null;
  epochs: number;
  batch: { wanted: number; size: number; budgetBytes: number };
  stepsPerEpoch: number;
  optimizer: { name: 'adam'; learningRate: number };
  /** Sample indices: the training ones in the (seeded) order calibration reads them, the held-out ones sorted. */
  split: { train: number[]; validation: number[] };
  /** Seeds the order of the batches in each epoch. */
  seed: number;
  notes: string[];
}
