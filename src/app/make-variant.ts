/**
 * Making a variant from the float model: a plain recipe through the quantization pipeline, or a
 * chain (prune / cluster / train, then quantize) through runChain. The chain arrives as data (a
 * Chain), never as text to parse again. Calibration and training samples come from the split, or
 * from the caller (the CLI draws its own from --calib and prepares --train), so that the worker and
 * the CLI make a variant the same way.
 */
import type { Dataset } from '../data/dataset';
import type { EngineInfo } from '../engine/backend';
import { WorkbenchError } from '../errors';
import { runChain, type Chain, type ChainRequest, type ChainResult } from '../optimize/chain';
import { optimizeModel, type OptimizeResult } from '../optimize/pipeline';
import { needsCalibration, type Recipe } from '../optimize/recipe';
import type { Samples } from '../runtime/samples';
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
  /** The page's per-variant choice to keep a result that left ops in float (as the request's, which the CLI sets). */
  allowFloatFallback?: boolean;
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
  onProgress?: ProgressCallback;
  /** Every stage of the pipeline and the chain, 'read' and the chain's train marks included (the CLI prints them). */
  onStage?: (stage: string, done: number, total?: number) => void;
  onTraining?: TrainingCallback;
  /** Starts the engine a training step runs on (browser or Node backend). */
  initEngine?: () => Promise<EngineInfo>;
  /** Calibration the caller chose, used as given instead of the split's (the CLI's seeded draw from --calib). */
  calibration?: { samples?: Samples; count?: number };
  /** A chain's training step the caller prepared, instead of one on the training split (the CLI's --train). */
  chainTraining?: ChainRequest['training'];
  /** Hand back a result that left ops in float (see OptimizeRequest.allowFloatFallback). */
  allowFloatFallback?: boolean;
  /** Keep a summary of each calibrated activation (see OptimizeRequest.activationSummaries). */
  activationSummaries?: boolean;
}

export interface MadeVariant extends Pick<OptimizeResult, 'bytes' | 'label' | 'recipe' | 'floatOps' | 'notes' | 'timings' | 'plan' | 'activations' | 'channelScales' | 'channelShifts'> {
  verdict?: OptimizeResult['verdict'];
  chain?: { steps: Chain; result: ChainResult; summary: ChainSummary };
  training?: TrainingSummary;
}

export async function makeVariant(request: MakeVariantRequest): Promise<MadeVariant> {
  const { spec, dataset: d, indices } = request;
  const chain = spec.chain ?? null;
  const calibrated = chain ? !!chain.quantize && needsCalibration(chain.quantize) : needsCalibration(spec.recipe);
  const own = request.calibration;
  if (calibrated && (own ? !own.samples : !d || !indices || indices.calibration.length === 0)) {
    throw new WorkbenchError('bad-input', `${spec.recipe.technique} needs representative data for calibration: drop a folder of images, a zip or .npy files in the Data panel.`);
  }
  const calibration = own ? own.samples : d && indices && calibrated ? samplesOf(d, indices.calibration) : undefined;
  const calibrationCount = own ? own.count : indices?.calibration.length;
  const onProgress = (stage: string, done: number, total?: number) => {
    request.onStage?.(stage, done, total);
    if (stage !== 'read') request.onProgress?.(stage as RunStage, done, total);
  };
  const allowFloatFallback = request.allowFloatFallback || spec.allowFloatFallback;
  const { activationSummaries } = request;
  if (!chain) return optimizeModel({ model: request.model, recipe: spec.recipe, calibration, calibrationCount, signal: request.signal, onProgress, allowFloatFallback, activationSummaries });
  return makeChainVariant(request, chain, { calibration, calibrationCount, onProgress });
}

async function makeChainVariant(
  request: MakeVariantRequest,
  chain: Chain,
  common: { calibration?: Samples; calibrationCount?: number; onProgress: (stage: string, done: number, total?: number) => void },
): Promise<MadeVariant> {
  const { dataset: d, indices, signal } = request;
  let training: Awaited<ReturnType<typeof variantTraining>> | undefined;
  if (chain.train && !request.chainTraining) {
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
      onProgress: request.onProgress ?? (() => {}),
      onTraining: request.onTraining,
    });
  }
  const onProgress = (stage: string, done: number, total?: number) => {
    // The chain's own train marks (0/1, 1/1) frame training; the steps come from the training progress.
    if (stage === 'train') {
      request.onStage?.(stage, done, total);
      request.onTrainingState?.(done === 0);
    } else common.onProgress(stage, done, total);
  };
  const chainTraining = request.chainTraining ?? training?.chainTraining;
  const allowFloatFallback = request.allowFloatFallback || request.spec.allowFloatFallback;
  const { activationSummaries } = request;
  const c = await runChain({ model: request.model, chain, ...common, signal, onProgress, training: chainTraining, allowFloatFallback, activationSummaries });
  request.onTrainingState?.(false);
  training?.flush();
  if (signal?.aborted) throw new WorkbenchError('cancelled', 'Cancelled.');
  let trainingSummary: TrainingSummary | undefined;
  if (c.trained && training) {
    trainingSummary = training.summary(c.trained, c.lsq);
    request.onProgress?.('train', 1, 1);
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
    plan: c.quantized?.plan,
    activations: c.quantized?.activations,
    channelScales: c.quantized?.channelScales,
    channelShifts: c.quantized?.channelShifts,
    chain: { steps: chain, result: c, summary },
    training: trainingSummary,
  };
}
