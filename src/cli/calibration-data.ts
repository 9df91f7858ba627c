/** Calibration samples from --calib and --calib-count, for a recipe that needs them (int8, int16x8). */
import { randomIndices } from '../data/dataset';
import { WorkbenchError } from '../errors';
import type { Samples } from '../runtime/samples';
import { needsCalibration, type Recipe } from '../optimize/recipe';
import type { ModelGraph } from '../tflite/graph';
import type { OptimizeOptions } from './command-options';
import { positiveInteger } from './count-option';
import { dataFlags, datasetSamples, openDataFlags } from './data-options';

export interface CalibrationData {
  calibration?: Samples;
  calibrationCount?: number;
}

export async function calibrationData(graph: ModelGraph, recipe: Recipe | undefined, options: OptimizeOptions): Promise<CalibrationData> {
  if (!recipe || !needsCalibration(recipe)) return {};
  // Training data are representative by definition: a chain that trains needs no second data set.
  const source = options.calib ?? options.train;
  if (!source) throw new WorkbenchError('bad-input', `${recipe.technique} needs calibration data: pass --calib DIR|FILE.npy (or --train DIR|FILE.npy, which it then calibrates on)`);
  const dataset = await openDataFlags(graph, dataFlags(source, options));
  const count = positiveInteger(options.calibCount, '--calib-count') ?? recipe.calibration.samples;
  // From --train: only the samples trained on (the first --train-count), so that --eval on the rest
  // of the same folder stays unseen.
  const pool = options.calib ? dataset.size : Math.min(dataset.size, positiveInteger(options.trainCount, '--train-count') ?? dataset.size);
  // A seeded random draw, not the first N: in class folders those would all be one class.
  const indices = randomIndices(pool, count, 0);
  for (const note of dataset.notes) process.stderr.write(`note: ${note}\n`);
  if (!options.calib) process.stderr.write(`note: calibrating on ${indices.length} samples drawn from the --train data${pool < dataset.size ? ` (its first ${pool}, those trained on)` : ''} (no --calib given)\n`);
  return { calibration: datasetSamples(dataset, indices), calibrationCount: indices.length };
}
