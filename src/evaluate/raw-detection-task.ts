/**
 * A detector without TFLite_Detection_PostProcess, given the anchors its head was trained with: its
 * two outputs with one row per anchor are the box regressions and the scores. Which is which: the
 * one four wide (SSD), else the wider one (BlazeFace: 16 = a box and 6 keypoints, against 1 score),
 * so the scores are the other. `rawHeadOf` tells, before any anchors are given, that a model looks like one.
 */
import { WorkbenchError } from '../errors';
import type { ModelGraph } from '../tflite/graph';
import type { RawDetectionSpec } from './box-decoding';
import { inferTask, type Task } from './quality';

export function rawDetectionTask(graph: ModelGraph, spec: RawDetectionSpec): Extract<Task, { kind: 'detection' }> {
  const subgraph = graph.subgraphs[0];
  const outputs = subgraph.outputs.map((t, index) => {
    const shape = subgraph.tensors[t].shape;
    const width = shape[shape.length - 1] ?? 1;
    const rows = shape.length >= 2 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 0;
    return { index, shape, width, rows };
  });
  const matching = outputs.filter((o) => o.rows === spec.anchors.count);
  if (matching.length < 2) {
    const shapes = outputs.map((o) => `[${o.shape.join(', ')}]`).join(', ');
    const counts = [...new Set(outputs.map((o) => o.rows).filter((r) => r > 1 && outputs.filter((o) => o.rows === r).length >= 2))];
    const expected = counts.length ? `; its raw head has ${counts.join(' or ')} rows, so the anchors file must list ${counts.join(' or ')} anchors` : '';
    throw new WorkbenchError('bad-input', `The anchors file lists ${spec.anchors.count} anchors, but the model has no box and score outputs with one row per anchor (outputs ${shapes})${expected}.`);
  }
  const four = matching.find((o) => o.width === 4);
  const sorted = [...matching].sort((a, b) => b.width - a.width);
  const boxes = four ?? sorted[0];
  if (boxes.width < 4) throw new WorkbenchError('bad-input', `No output with one row per anchor is at least 4 wide (a box): ${matching.map((o) => `[${o.shape.join(', ')}]`).join(', ')}.`);
  const scores = four ? (matching.filter((o) => o !== four).sort((a, b) => b.width - a.width)[0] ?? four) : sorted[sorted.length - 1];
  return { kind: 'detection', boxes: boxes.index, scores: scores.index, classes: -1, count: -1, raw: spec };
}

export interface RawHead {
  /** Rows (anchors) of the two outputs, and their shapes. */
  anchors: number;
  shapes: number[][];
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

/** A detector: a TFLite_Detection_PostProcess op, or a raw head whose anchors the user can give. */
export function isDetector(graph: ModelGraph): boolean {
  return inferTask(graph).kind === 'detection' || rawHeadOf(graph) !== null;
}
