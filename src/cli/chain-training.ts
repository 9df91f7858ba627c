/** The training step of a chain (finetune, qat) from --train and its settings, with progress on stderr. */
import { subset } from '../data/dataset';
import { initNodeEngine } from '../engine/backend-node';
import { WorkbenchError } from '../errors';
import type { ChainRequest } from '../optimize/chain';
import type { TrainingLoss, TrainingProgress } from '../optimize/finetune';
import type { ModelGraph } from '../tflite/graph';
import type { OptimizeOptions } from './command-options';
import { positiveInteger } from './count-option';
import { dataFlags, openDataFlags } from './data-options';
import { UsageError } from './usage-error';

export async function chainTraining(graph: ModelGraph, options: OptimizeOptions): Promise<ChainRequest['training']> {
  if (!options.train) throw new WorkbenchError('bad-input', 'finetune and qat need training data: pass --train DIR|FILE.npy (labels optional: without them the float model teaches)');
  const dataset = await openDataFlags(graph, dataFlags(options.train, options));
  const count = Math.min(positiveInteger(options.trainCount, '--train-count') ?? dataset.size, dataset.size);
  const data = count === dataset.size ? dataset : subset(dataset, Array.from({ length: count }, (_, i) => i));
  const lr = options.lr === undefined ? undefined : Number(options.lr);
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new UsageError(`--lr takes a positive number, got "${options.lr}"`);
  if (options.loss !== undefined && options.loss !== 'cross-entropy' && options.loss !== 'distillation') throw new UsageError(`--loss is cross-entropy or distillation, got "${options.loss}"`);
  if (options.augment !== undefined && options.augment !== 'none' && options.augment !== 'flip') throw new UsageError(`--augment is none or flip, got "${options.augment}"`);
  const temperature = options.temperature === undefined ? undefined : Number(options.temperature);
  if (temperature !== undefined && !(temperature > 0 && Number.isFinite(temperature))) throw new UsageError(`--temperature takes a positive number, got "${options.temperature}"`);
  for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  await initNodeEngine();
  return {
    data,
    options: {
      epochs: positiveInteger(options.epochs, '--epochs'),
      batchSize: positiveInteger(options.batch, '--batch'),
      learningRate: lr,
      loss: options.loss as TrainingLoss | undefined,
      ...(options.augment === 'flip' ? { augment: 'flip' as const } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      onProgress: trainingProgressPrinter(),
    },
  };
}

/** A line per epoch (losses, accuracies), and one every 2 s within an epoch so a long one shows it moves. */
function trainingProgressPrinter(): (p: TrainingProgress) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (p.phase === 'validate') {
      const v = p.validation;
      process.stderr.write(`epoch ${p.epoch}/${p.epochs}: ${p.epoch ? `train loss ${p.loss.toFixed(4)}${p.accuracy === null ? '' : `, accuracy ${(p.accuracy * 100).toFixed(1)}%`}; ` : 'before training: '}${v ? `validation loss ${v.loss.toFixed(4)}${v.accuracy === null ? '' : `, accuracy ${(v.accuracy * 100).toFixed(1)}%`}` : 'no validation split'}\n`);
    } else if (p.phase === 'train' && (now - last > 2000 || p.step === p.stepsPerEpoch)) {
      last = now;
      process.stderr.write(`  epoch ${p.epoch} step ${p.step}/${p.stepsPerEpoch}: loss ${p.loss.toFixed(4)}\n`);
    }
  };
}
