/** The output grid a segmentation model's label masks are scored on (data/mask-labels.ts). */
import type { MaskGrid } from '../data/mask-labels';
import type { ModelGraph } from '../tflite/graph';
import { inferTask } from './quality';

/** Height, width and classes of a segmenter's [1, H, W, C] output (C = 1: a probability mask, 2 classes); null for other tasks. */
export function segmentationGrid(graph: ModelGraph): MaskGrid | null {
  const task = inferTask(graph);
  if (task.kind !== 'segmentation') return null;
  const subgraph = graph.subgraphs[0];
  const shape = subgraph.tensors[subgraph.outputs[task.output]].shape;
  return { height: shape[1], width: shape[2], classes: task.classes };
}
