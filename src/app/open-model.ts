/**
 * Opening a model: its graph, the preprocessing its inputs suggest and the class names its
 * metadata carries. Neither guess is required: a model without them still opens.
 */
import { defaultPreprocessing, type PreprocessingChoice } from '../data/default-preprocessing';
import { readModelMetadata } from '../tflite/metadata/read-metadata';
import { readModel } from '../tflite/read';
import type { ModelGraph } from '../tflite/graph';

export interface OpenedModel {
  bytes: Uint8Array;
  name: string;
  graph: ModelGraph;
  preprocessing: PreprocessingChoice | null;
  classNames: string[] | undefined;
}

export function openModel(bytes: Uint8Array, name: string): OpenedModel {
  const graph = readModel(bytes);
  return { bytes, name, graph, preprocessing: guess(() => defaultPreprocessing(graph, 0)) ?? null, classNames: guess(() => readModelMetadata(graph)?.labels) };
}

function guess<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
