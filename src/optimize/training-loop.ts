/**
 * The epochs of a training plan: Adam steps over seeded batch orders, a validation pass before the
 * first epoch and after each, and the best weights so far (by validation accuracy, else loss; by loss when distilling) kept
 * as a snapshot, so a cancel or a NaN loss stops training and still returns them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../errors';
import type { TrainableWeight } from '../engine/trainable';
import { seededRandom } from '../seeded-random';
import type { BatchLoader } from './training-batches';
import { disposeFeatures, featureLoss, type PlannedFeatures } from './training-features';
import { batchLoss, hits as hitsOf } from './training-loss';
import type { TrainingPlan } from './training-plan-types';
import { batchMinMax as minMaxOf, trackRanges, type ActivationRanges } from './training-qat';
import { shuffle } from './training-shuffle';
import type { EpochSummary, FinetuneResult, TrainingProfile, TrainingProgress } from './training-types';
import { snapshot, type StepVariables } from './training-weights';

export interface TrainingRun {
  plan: TrainingPlan;
  weights: TrainableWeight[];
  /**
   * A forward pass with the current weights, tapping the loss path; QAT: `observed` holds each
   * fake-quantized activation as computed, before fake quantization (valid until the next pass).
   */
  forward: (inputs: tf.Tensor[]) => { outputs: tf.Tensor[]; taps: Map<number, tf.Tensor>; observed?: ReadonlyMap<number, tf.Tensor> };
  batchOf: BatchLoader;
  /** QAT: the activation ranges, updated in place as batches go by. */
  ranges?: ActivationRanges;
  /** QAT from a quantized start: the learned weight steps (LSQ), trained with the weights. */
  steps?: StepVariables;
  /** ...and the learned activation steps, by tensor index. */
  activationSteps?: Map<number, tf.Variable>;
  report: (p: Omit<TrainingProgress, 'epochs' | 'stepsPerEpoch'>) => void;
  signal?: AbortSignal;
  /** Filled with milliseconds per part of the epochs, when given (bench/qat-epoch.ts). */
  profile?: TrainingProfile;
  /** Intermediate tensors fit to the teacher's while training (forward taps them); validation scores the output loss only. */
  features?: PlannedFeatures | null;
}

export interface TrainingOutcome {
  history: EpochSummary[];
  best: { epoch: number; values: Float32Array[]; steps: Map<number, Float32Array>; activationSteps: Map<number, Float32Array> };
  stopped?: FinetuneResult['stopped'];
}

export async function trainEpochs(run: TrainingRun): Promise<TrainingOutcome> {
  const { plan, weights, forward, batchOf, ranges, report, signal } = run;
  const steps = run.steps ?? new Map<number, tf.Variable>();
  const activationSteps = run.activationSteps ?? new Map<number, tf.Variable>();
  const { epochs, stepsPerEpoch } = plan;
  const batchSize = plan.batch.size;
  const { train, validation } = plan.split;
  const qatTensors = plan.activations?.tensors ?? [];
  const evaluate = () => validate(run, validation, batchSize);

  const optimizer = tf.train.adam(plan.optimizer.learningRate);
  // A shared-scale group's members hold one step variable: each trains once.
  const variables = [...new Set([...weights.map((w) => w.variable), ...steps.values(), ...activationSteps.values()])];
  const read = async (m: Map<number, tf.Variable>) => new Map(await Promise.all([...m].map(async ([i, v]) => [i, ((await v.data()) as Float32Array).slice()] as const)));
  const snapshotSteps = async () => ({ steps: await read(steps), activationSteps: await read(activationSteps) });
  const history: EpochSummary[] = [];
  let best = { epoch: 0, accuracy: -Infinity, loss: Infinity, values: await snapshot(weights), ...(await snapshotSteps()) };
  let stopped: FinetuneResult['stopped'];
  const random = seededRandom(plan.seed);
  // Profile: wall time since the previous lap goes to `phase` (tfjs' WASM kernels run synchronously,
  // so the JavaScript call that launches a kernel is where its time is spent).
  let last = performance.now();
  const lap = (phase: keyof TrainingProfile) => {
    if (!run.profile) return;
    const now = performance.now();
    run.profile[phase] = (run.profile[phase] ?? 0) + now - last;
    last = now;
  };
  try {
    const before = await evaluate();
    lap('validation');
    if (before) {
      best = { ...best, accuracy: before.accuracy ?? -Infinity, loss: before.loss };
      history.push({ epoch: 0, trainLoss: NaN, trainAccuracy: null, validationLoss: before.loss, validationAccuracy: before.accuracy });
      report({ phase: 'validate', epoch: 0, step: 0, loss: before.loss, accuracy: before.accuracy, validation: before });
    }
    training: for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = shuffle(train, random);
      let lossSum = 0;
      let correct = 0;
      let compared = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        if (signal?.aborted) {
          stopped = { reason: 'cancelled', message: `Training was cancelled at epoch ${epoch}, step ${step + 1}; the best weights so far (epoch ${best.epoch}) are kept.` };
          break training;
        }
        const indices = order.slice(step * batchSize, (step + 1) * batchSize);
        lap('other');
        const { inputs, target, features } = await batchOf(indices, true);
        lap('batch');
        let hits: tf.Tensor | null = null;
        let batchMinMax: tf.Tensor | null = null;
        // optimizer.minimize spelled out (the same calls), so a profile can tell the parts apart.
        const { value, grads } = withGradientErrors(() =>
          optimizer.computeGradients(() => {
            lap('backward');
            const result = forward(inputs);
            lap('forward');
            const l = batchLoss(plan.loss, result, target, indices.length);
            if (l.reference) hits = tf.keep(hitsOf(l));
            const total = features && run.features ? tf.add(l.loss, featureLoss(run.features, result.taps, features)) : l.loss;
            lap('loss');
            // Learned activation steps (LSQ) replace the tracked ranges: nothing to track then.
            if (ranges && activationSteps.size === 0) batchMinMax = tf.keep(minMaxOf(qatTensors, result.observed ?? new Map()));
            lap('rangeTracking');
            return total as tf.Scalar;
          }, variables),
        );
        lap('backward');
        optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        tf.dispose(grads);
        lap('optimizer');
        const [lossValue] = (await value.data()) as Float32Array;
        const hitValue = hits ? ((await (hits as tf.Tensor).data()) as Float32Array)[0] : null;
        lap('readback');
        if (batchMinMax) trackRanges(ranges!, qatTensors, (await (batchMinMax as tf.Tensor).data()) as Float32Array, plan.activations!.momentum);
        lap('rangeTracking');
        tf.dispose([value, ...inputs, target, ...(hits ? [hits] : []), ...(batchMinMax ? [batchMinMax] : [])]);
        disposeFeatures(features);
        lap('dispose');
        if (!Number.isFinite(lossValue)) {
          stopped = {
            reason: 'nan',
            message: `The loss became ${lossValue} at epoch ${epoch}, step ${step + 1} (learning rate ${plan.optimizer.learningRate} may be too high); training stopped and the best weights so far (epoch ${best.epoch}) are kept.`,
          };
          break training;
        }
        lossSum += lossValue * indices.length;
        if (hitValue !== null) {
          correct += hitValue;
          compared += indices.length;
        }
        report({ phase: 'train', epoch, step: step + 1, loss: lossValue, accuracy: hitValue === null ? null : hitValue / indices.length });
        await new Promise((resolve) => setTimeout(resolve, 0)); // let a cancel (worker message) arrive
        lap('other');
      }
      const val = await evaluate();
      lap('validation');
      history.push({ epoch, trainLoss: lossSum / train.length, trainAccuracy: compared ? correct / compared : null, validationLoss: val?.loss ?? null, validationAccuracy: val?.accuracy ?? null });
      report({ phase: 'validate', epoch, step: stepsPerEpoch, loss: lossSum / train.length, accuracy: compared ? correct / compared : null, validation: val ?? undefined });
      // Distillation picks by the loss: agreement with the teacher on a few held-out samples moves
      // in steps of one sample (bench:qat-int4 on 15 images kept the untrained start while the loss
      // fell every epoch); the loss measures the whole distribution on every sample.
      const byLoss = plan.loss.kind === 'distillation';
      const better = !val || (byLoss ? val.loss < best.loss : (val.accuracy ?? -Infinity) > best.accuracy || ((val.accuracy ?? -Infinity) === best.accuracy && val.loss < best.loss));
      if (better) best = { epoch, accuracy: val?.accuracy ?? -Infinity, loss: val?.loss ?? Infinity, values: await snapshot(weights), ...(await snapshotSteps()) };
    }
    return { history, best, stopped };
  } finally {
    optimizer.dispose();
  }
}

/** Loss and accuracy on the held-out samples with the current weights; null when none are held out. */
async function validate(run: TrainingRun, validation: number[], batchSize: number): Promise<{ loss: number; accuracy: number | null } | null> {
  if (!validation.length) return null;
  let total = 0;
  let correct = 0;
  let compared = 0;
  for (let start = 0; start < validation.length; start += batchSize) {
    const indices = validation.slice(start, start + batchSize);
    const { inputs, target } = await run.batchOf(indices);
    const r = tf.tidy(() => {
      const l = batchLoss(run.plan.loss, run.forward(inputs), target, indices.length);
      return [l.loss, l.reference ? hitsOf(l) : tf.scalar(-1)];
    });
    const [lv, cv] = await Promise.all(r.map((t) => t.data()));
    total += lv[0] * indices.length;
    if (cv[0] >= 0) {
      correct += cv[0];
      compared += indices.length;
    }
    tf.dispose([...r, ...inputs, target]);
  }
  return { loss: total / validation.length, accuracy: compared ? correct / compared : null };
}

/** tfjs' "gradient function not found for X" as a WorkbenchError that says what to do. */
function withGradientErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const missing = /gradient function not found for (\w+)/.exec(message) ?? /Kernel '(\w+)' not registered/.exec(message);
    if (missing) throw new WorkbenchError('unsupported', `The engine cannot train this model: tfjs has no gradient kernel "${missing[1]}" on this backend (${message}).`);
    throw e;
  }
}
