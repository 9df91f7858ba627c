/**
 * Making a variant from the float model: a plain recipe through the quantization pipeline, or a
 * chain (prune / cluster / train, then quantize) through runChain. The chain arrives as data (a
 * Chain), never as text to parse again. Calibration and training samples come from the split.
 */
import type { Dataset } from '../data/dataset';
import type { EngineInfo } from '../engine/backend';
import { WorkbenchError } from '../errors';
import { runChain, type Chain, type ChainResult } from '../optimize/chain';
import { optimizeModel, type OptimizeResult } from '../optimize/pipeline';
import { needsCalibration, type Recipe } from '../optimize/recipe';
import type { SplitIndices } from './split';
import type { TrainingSummary } from './training-progress';
import { chainRunLabel } from './variant-chain';
import { variantTraining } from './variant-training';
import type { ChainSummary, ProgressCallback, RunStage, TrainingCallback, TrainingRequest } from './worker-protocol';
import { samplesOf } from './yielding-samples';

/** What to make: a recipe, and the chain of steps before its quantization when there are any. */
export interface VariantSpec {
  recipe: Recipe;
  chain?: Chain | null;
  /** Settings of the chain's finetune / qat step. */
  training?: TrainingRequest | null;
}

export interface MakeVariantRequest {
  model: Uint8Array;
  spec: VariantSpec;
  dataset: Dataset | null;
  indices: SplitIndices | null;
  signal?: AbortSignal;
  /** Stops a training step only (the best weights go on). */
  stopTraining?: AbortSignal;
  /** True while the chain trains (a cancel then stops training rather than the run). */
  onTrainingState?: (training: boolean) => void;
  onProgress: ProgressCallback;
  onTraining?: TrainingCallback;
  /** Starts the engine a training step runs on (browser or Node backend). */
  initEngine?: () => Promise<EngineInfo>;
}

export interface MadeVariant extends Pick<OptimizeResult, 'bytes' | 'label' | 'recipe' | 'floatOps' | 'notes' | 'timings'> {
  verdict?: OptimizeResult['verdict'];
  chain?: { steps: Chain; result: ChainResult; summary: ChainSummary };
  training?: TrainingSummary;
}

export async function makeVariant(request: MakeVariantRequest): Promise<MadeVariant> {
  const { spec, dataset: d, indices } = request;
  const chain = spec.chain ?? null;
  const calibrated = chain ? !!chain.quantize && needsCalibration(chain.quantize) : needsCalibration(spec.recipe);
  if (calibrated && (!d || !indices || indices.calibration.length === 0)) {
    throw new WorkbenchError('bad-input', `${spec.recipe.technique} needs representative data for calibration: drop a folder of images, a zip or .npy files in the Data panel.`);
  }
  const calibration = d && indices && calibrated ? samplesOf(d, indices.calibration) : undefined;
  const calibrationCount = indices?.calibration.length;
  const onProgress = (stage: string, done: number, total?: number) => {
    if (stage !== 'read') request.onProgress(stage as RunStage, done, total);
  };
  if (!chain) return optimizeModel({ model: request.model, recipe: spec.recipe, calibration, calibrationCount, signal: request.signal, onProgress });
  return makeChainVariant(request, chain, { calibration, calibrationCount, onProgress });
}

async function makeChainVariant(
  request: MakeVariantRequest,
  chain: Chain,
  common: { calibration?: AsyncIterable<Float32Array[]>; calibrationCount?: number; onProgress: (stage: string, done: number, total?: number) => void },
): Promise<MadeVariant> {
  const { dataset: d, indices, signal } = request;
  let training: Awaited<ReturnType<typeof variantTraining>> | undefined;
  if (chain.train) {
    if (!d || !indices || indices.training.length < 2) {
      throw new WorkbenchError('bad-input', `${chain.train.mode === 'qat' ? 'Quantization-aware training' : 'Fine-tuning'} needs training data: drop a folder of images, a zip or .npy files in the Data panel (labels optional: without them the float model teaches).`);
    }
    if (!request.initEngine) throw new WorkbenchError('runtime', 'A training step needs an engine to train on.');
    training = await variantTraining({
      mode: chain.train.mode,
      dataset: d,
      indices: indices.training,
      settings: request.spec.training,
      stop: request.stopTraining ?? new AbortController().signal,
      initEngine: request.initEngine,
      onProgress: request.onProgress,
      onTraining: request.onTraining,
    });
  }
  const onProgress = (stage: string, done: number, total?: number) => {
    // The chain's own train marks (0/1, 1/1) frame training; the steps come from the training progress.
    if (stage === 'train') request.onTrainingState?.(done === 0);
    else common.onProgress(stage, done, total);
  };
  const c = await runChain({ model: request.model, chain, ...common, signal, onProgress, training: training?.chainTraining });
  request.onTrainingState?.(false);
  training?.flush();
  if (signal?.aborted) throw new WorkbenchError('cancelled', 'Cancelled.');
  let trainingSummary: TrainingSummary | undefined;
  if (c.trained && training) {
    trainingSummary = training.summary(c.trained);
    request.onProgress('train', 1, 1);
  }
  const summary: ChainSummary = {
    text: chain.text,
    sparsity: c.report.sparsity,
    maxDistinct: c.checks.maxDistinctClustered,
    perChannel: chain.cluster?.perChannel,
    gzipBytes: c.report.size.gzipBytes,
    checks: c.checks,
  };
  return {
    bytes: c.bytes,
    label: chainRunLabel(chain),
    recipe: request.spec.recipe,
    floatOps: c.quantized?.floatOps ?? [],
    notes: c.notes,
    timings: c.quantized?.timings ?? {},
    verdict: c.quantized?.verdict,
    chain: { steps: chain, result: c, summary },
    training: trainingSummary,
  };
}
