/**
 * The page's anchors for a detector with a raw head: whether the model looks like one (two outputs
 * with one row per anchor, no TFLite_Detection_PostProcess), and the anchors file the user gives,
 * checked against the model before any run uses it (a wrong count is refused naming the right one).
 */
import { parseAnchorsCsv } from '../evaluate/anchors';
import { BOX_CODER_PRESETS, type BoxCoder } from '../evaluate/box-decoding';
import { inferTask } from '../evaluate/quality';
import { rawDetectionTask } from '../evaluate/raw-detection-task';
import type { ModelGraph } from '../tflite/graph';
import type { Session } from './session';

export interface RawHead {
  /** Rows (anchors) of the two outputs, and their shapes. */
  anchors: number;
  shapes: number[][];
}

export interface RawDetectionInfo {
  fileName: string;
  anchors: number;
  coder: BoxCoder;
  boxesShape: number[];
  scoresShape: number[];
}

/** A possible raw detection head: at least two outputs sharing a row count > 1, and no post-processing op. */
export function rawHeadOf(graph: ModelGraph): RawHead | null {
  if (inferTask(graph).kind === 'detection') return null;
  const subgraph = graph.subgraphs[0];
  const shapes = subgraph.outputs.map((t) => subgraph.tensors[t].shape);
  const rows = shapes.map((s) => (s.length >= 2 ? s.slice(0, -1).reduce((a, b) => a * b, 1) : 0));
  for (const r of rows) {
    const same = shapes.filter((_, k) => rows[k] === r);
    if (r > 1 && same.length >= 2 && same.some((s) => s[s.length - 1] >= 4)) return { anchors: r, shapes: same.map((s) => [...s]) };
  }
  return null;
}

/** Sets (or with null text clears) the session's anchors; throws a WorkbenchError when they do not fit the model. */
export function setRawDetection(session: Session, text: string | null, fileName: string, coder: BoxCoder): RawDetectionInfo | null {
  if (text === null) {
    session.rawDetection = null;
    return null;
  }
  const { graph } = session.requireModel();
  const spec = { anchors: parseAnchorsCsv(text, fileName), decoding: BOX_CODER_PRESETS[coder] };
  const task = rawDetectionTask(graph, spec);
  session.rawDetection = spec;
  const shapeOf = (output: number) => [...graph.subgraphs[0].tensors[graph.subgraphs[0].outputs[output]].shape];
  return { fileName, anchors: spec.anchors.count, coder, boxesShape: shapeOf(task.boxes), scoresShape: shapeOf(task.scores) };
}
