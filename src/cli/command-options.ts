/**
 * Each command's option groups and the options type its handler receives. Apart from the command
 * table (commands.ts), which imports the handlers, so a handler can name its options type without an
 * import circle through the table.
 */
import {
  boxLabelOptions,
  maskLabelOptions,
  calibrationOptions,
  chainEvaluationOptions,
  comparisonOptions,
  datasetOptions,
  evaluationDataOptions,
  jsonOptions,
  rawDetectionOptions,
  recipeOptions,
  reportOptions,
  resultOptions,
  runInputOptions,
  searchOptions,
  trainingOptions,
} from './option-groups';
import type { GroupValues, OptionGroup } from './option-spec';

/** Parsed options, with the required ones known to be there. */
export type Options<G extends readonly OptionGroup[], R extends string> = GroupValues<G> & { [K in R]: string };

export const inspectGroups = [jsonOptions] as const;
export const optimizeGroups = [resultOptions, recipeOptions, calibrationOptions, datasetOptions, chainEvaluationOptions, trainingOptions, reportOptions] as const;
export const runGroups = [runInputOptions, jsonOptions] as const;
export const evalGroups = [evaluationDataOptions, comparisonOptions, rawDetectionOptions, boxLabelOptions, maskLabelOptions, datasetOptions, jsonOptions, reportOptions] as const;

export const searchGroups = [searchOptions, recipeOptions, calibrationOptions, datasetOptions, rawDetectionOptions, boxLabelOptions, maskLabelOptions, reportOptions] as const;

export type InspectOptions = Options<typeof inspectGroups, never>;
export type OptimizeOptions = Options<typeof optimizeGroups, 'output'>;
export type RunOptions = Options<typeof runGroups, never>;
export type EvalOptions = Options<typeof evalGroups, 'data'>;
export type SearchOptions = Options<typeof searchGroups, 'output' | 'budget' | 'calib'>;
