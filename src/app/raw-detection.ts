/**
 * The page's anchors for a detector with a raw head: whether the model looks like one (two outputs
 * with one row per anchor, no TFLite_Detection_PostProcess), and the anchors file the user gives,
 * checked against the model before any run uses it (a wrong count is refused naming the right one).
 */
import { parseAnchorsCsv } from '../evaluate/anchors';
import { BOX_CODER_PRESETS, type BoxCoder } from '../evaluate/box-decoding';
import { rawDetectionTask } from '../evaluate/raw-detection-task';
import type { Session } from './session';

export { rawHeadOf, type RawHead } from '../evaluate/raw-detection-task';

export interface RawDetectionInfo {
  fileName: string;
  anchors: number;
  coder: BoxCoder;
  boxesShape: number[];
  scoresShape: number[];
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
