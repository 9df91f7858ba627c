/**
 * Training straight from a .tflite: fine-tuning after pruning / clustering, and quantization-aware
 * training (QAT), on the engine (src/engine).
 *
 * planTraining (training-plan.ts) decides everything first, as plain data: which float weights and
 * biases become variables (engine/trainable.ts keeps pruned zeros at zero and clustered weights tied
 * to their centroids), the loss (cross-entropy on labels, or, when the data has no labels or
 * `loss: 'distillation'`, cross-entropy against the float teacher's output distribution, so QAT and
 * fine-tuning work without labels; mean squared error for outputs that are not a class
 * distribution), the batch, the split. The steps below carry it out: build the trainables
 * (training-weights.ts), run the epochs (training-loop.ts), export the best weights.
 *
 * QAT fake-quantizes, in the forward pass, every weight as the int8 path will store it (symmetric
 * per channel for convolutions, per tensor for the rest) and every float activation to an int8 range
 * that starts from a calibration pass and then tracks the batches (training-qat.ts), with
 * straight-through gradients. The result is a float graph with trained weights: the int8 path
 * (pipeline.ts) then quantizes it as it would any float model.
 *
 * QAT from a quantized starting point (options.learnedSteps, e.g. a dequantized W4A8 PTQ model and
 * its int4 scales) trains those weights' quantization steps with them (LSQ, engine/lsq.ts) at their
 * bits (int4: -8..7); the learned steps come back in learnedSteps for the writer (int4Scales).
 *
 * A share of the data is held out for validation; after every epoch the best weights so far (by
 * validation accuracy, else loss; by loss when distilling) are kept, and they are what is returned, also when training stops
 * early (cancel, NaN loss).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from '../seeded-random';
import { GraphExecutor } from '../engine/executor';
import type { ModelGraph } from '../tflite/graph';
import { batchLoader } from './training-batches';
import { trainEpochs } from './training-loop';
import { planFeatures } from './training-features';
import { planTraining, trainingGraph } from './training-plan';
import { activationSteps, fakeQuantizeActivations, initialRanges, learnedActivations, rangeOfStep, type ActivationRanges, type ActivationSteps } from './training-qat';
import type { FinetuneOptions, FinetuneResult, TrainingData, TrainingProgress } from './training-types';
import { buildSteps, buildTrainables, exportWeights, readSteps, weightValues } from './training-weights';

export type * from './training-types';
export type { TrainingPlan } from './training-plan-types';
export { fitBatch, gradientBlockers, planTraining } from './training-plan';

export async function finetune(source: ModelGraph, data: TrainingData, options: FinetuneOptions): Promise<FinetuneResult> {
  const started = performance.now();
  const plan = planTraining(source, data, options);
  const graph = trainingGraph(source);
  // Training sums FULLY_CONNECTED in matMul's transposeB order throughout (executor.ts reorderConstants).
  const executor = new GraphExecutor(graph, { simulateQuantization: false, reorderConstants: false });
  const teacherExecutor = plan.loss.kind === 'distillation' ? new GraphExecutor(options.teacher ?? source, { simulateQuantization: false, reorderConstants: false }) : null;
  // Inner tensors fit the teacher's only when distilling: labels give nothing to match inside.
  const features = options.features && plan.loss.kind === 'distillation' ? planFeatures(graph, options.teacher ?? source, options.features) : null;
  const weights = buildTrainables(graph, plan, options.learnedSteps, options.weightStepRate);
  const steps = buildSteps(plan, options.learnedSteps);
  const aSteps: ActivationSteps = new Map();
  try {
    const subgraph = graph.subgraphs[0];
    const inputShapes = subgraph.inputs.map((t) => subgraph.tensors[t].shape.slice(1));
    const report = (p: Omit<TrainingProgress, 'epochs' | 'stepsPerEpoch'>) => options.onProgress?.({ ...p, epochs: plan.epochs, stepsPerEpoch: plan.stepsPerEpoch });
    const weightMap = () => weightValues(plan, weights, steps);

    let ranges: ActivationRanges | undefined;
    if (plan.activations) {
      const samples = plan.split.train.slice(0, plan.activations.calibrationSamples);
      ranges = await initialRanges(executor, data, samples, plan.batch.size, inputShapes, plan.activations.tensors, weightMap, options.signal);
      report({ phase: 'calibrate', epoch: 0, step: 0, loss: NaN, accuracy: null });
    }
    // QAT: the activations as computed, before fake quantization (what the ranges track).
    const observed = new Map<number, tf.Tensor>();
    // From a quantized start the activation steps learn too (LSQ); otherwise the ranges track the batches.
    const learnActivations = !!ranges && (options.learnActivationSteps ?? !!options.learnedSteps);
    if (learnActivations) {
      const shapeOf = (t: number) => subgraph.tensors[t].shape.slice(1).reduce((n, d) => n * Math.max(1, d), 1);
      for (const [t, a] of activationSteps(ranges!, shapeOf, plan.activations!.sharedScale)) aSteps.set(t, a);
    }
    const transform = learnActivations ? learnedActivations(aSteps) : ranges ? fakeQuantizeActivations(ranges, observed, plan.activations!.sharedScale) : undefined;
    // Tensors on the loss path besides the outputs: the logits of a softmax classifier.
    const lossTaps = [...(plan.loss.head.logits === null ? [] : [plan.loss.head.logits]), ...(features?.pairs.map((p) => p.student) ?? [])];
    const forward = (inputs: tf.Tensor[]) => {
      observed.clear();
      return { ...executor.run(inputs, { weights: weightMap(), transform, taps: lossTaps }), observed };
    };

    const { history, best, stopped } = await trainEpochs({ plan, weights, forward, batchOf: batchLoader(plan, data, inputShapes, teacherExecutor, options.augment ? { kind: options.augment, random: seededRandom(plan.seed + 1) } : undefined, features), features, ranges, steps, activationSteps: new Map([...aSteps].map(([t, a]) => [t, a.step])), report, signal: options.signal, profile: options.profile });
    const trained = exportWeights(graph, weights, best.values);
    const notes = [...plan.notes];
    if (options.features && !features) notes.push('feature distillation skipped: it needs the distillation loss (the data has labels and the loss is cross-entropy)');
    if (features) notes.push(`feature distillation: ${features.pairs.length} inner tensor(s) fit to the teacher's (relative squared error x ${features.weight}) beside the output loss`);
    if (stopped) notes.push(stopped.message);
    const { train, validation } = plan.split;
    const loss = plan.loss.kind;
    notes.push(
      `${options.mode === 'qat' ? 'quantization-aware training' : 'fine-tuning'} by ${loss}${loss === 'distillation' ? ' from the float model' : ''}: ${history.length - (history[0]?.epoch === 0 ? 1 : 0)} epoch(s) of ${plan.stepsPerEpoch} step(s), batch ${plan.batch.size}, Adam lr ${plan.optimizer.learningRate}, ${train.length} training / ${validation.length} validation samples; kept epoch ${best.epoch}`,
    );
    const learnedSteps = steps.size ? await readSteps(plan, steps, best.steps) : undefined;
    if (learnedSteps) notes.push(`${steps.size} weight tensor(s) trained with learned quantization steps (LSQ) from the given scales`);
    const learnedActivationRanges = aSteps.size
      ? new Map([...aSteps].map(([t, a]) => [subgraph.tensors[t].name, rangeOfStep(best.activationSteps.get(t)![0], a.zeroPoint)]))
      : undefined;
    if (learnedActivationRanges) notes.push(`${new Set([...aSteps.values()].map((a) => a.step)).size} activation step(s) learned for ${aSteps.size} tensor(s) (LSQ, int8, zero points fixed from the measured ranges; tensors TFLite keeps on one scale share one step)`);
    return { graph: trained, learnedSteps, learnedActivationRanges, loss, batchSize: plan.batch.size, history, bestEpoch: best.epoch, stopped, activationRanges: ranges, plan, notes, elapsedMs: performance.now() - started };
  } finally {
    weights.forEach((w) => w.dispose());
    steps.forEach((v) => v.dispose());
    new Set([...aSteps.values()].map((a) => a.step)).forEach((v) => v.dispose());
    executor.dispose();
    teacherExecutor?.dispose();
  }
}
