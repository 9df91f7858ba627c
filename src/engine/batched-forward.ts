/**
 * Runs N samples of a graph through the engine at once: stacked inputs [N, ...the file's input shape]
 * in, stacked outputs [N, ...the file's output shape] out, whatever the file's shapes say about a batch.
 *
 * The graph is run as addBatchAxis rewrote it (one executor run for all N samples) when that is exact;
 * otherwise one sample at a time on the file's graph, as before, with `reason` saying which op stopped
 * it (e.g. a convolution over a tensor whose dimension 0 is not a batch).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelGraph } from '../tflite/graph';
import { addBatchAxis, type BatchAxisPlan, type BatchState } from './batch-axis';
import { GraphExecutor, type ExecutorOptions, type RunOptions } from './executor';

export class BatchedForward {
  readonly plan: BatchAxisPlan;
  /** Runs `plan.graph` when the plan has one, else the file's graph. */
  readonly executor: GraphExecutor;
  private readonly inputShapes: number[][];
  private readonly outputShapes: number[][];

  constructor(graph: ModelGraph, options: ExecutorOptions = {}) {
    const index = options.subgraph ?? 0;
    this.plan = addBatchAxis(graph, index);
    this.executor = new GraphExecutor(this.plan.graph ?? graph, options);
    const subgraph = graph.subgraphs[index];
    this.inputShapes = subgraph.inputs.map((t) => subgraph.tensors[t].shape);
    this.outputShapes = subgraph.outputs.map((t) => subgraph.tensors[t].shape);
  }

  /** True when N samples run as one executor run. */
  get batched(): boolean {
    return this.plan.graph !== null;
  }

  /** Why samples run one at a time (undefined when batched). */
  get reason(): string | undefined {
    return this.plan.reason;
  }

  /** The executor's feeds for stacked inputs (batched plans only): a native input drops its leading 1. */
  feeds(stacked: readonly tf.Tensor[]): tf.Tensor[] {
    return stacked.map((x, i) => (this.plan.inputs[i] === 'native' ? tf.reshape(x, [x.shape[0], ...this.inputShapes[i].slice(1)]) : x));
  }

  /** Stacked inputs -> stacked outputs. Taps are not offered: their shapes would depend on the path taken. */
  run(stacked: readonly tf.Tensor[], options: Omit<RunOptions, 'taps'> = {}): tf.Tensor[] {
    const n = stacked[0]?.shape[0] ?? 0;
    if (this.batched) {
      const outputs = this.executor.run(this.feeds(stacked), options).outputs;
      return outputs.map((y, o) => restack(y, n, this.outputShapes[o], this.plan.outputs[o]));
    }
    const perSample: tf.Tensor[][] = [];
    for (let s = 0; s < n; s++) {
      const inputs = stacked.map((x, i) => tf.reshape(tf.slice(x, s, 1), this.inputShapes[i]));
      perSample.push(this.executor.run(inputs, options).outputs);
    }
    return this.outputShapes.map((_, o) => tf.stack(perSample.map((outs) => outs[o])));
  }

  dispose(): void {
    this.executor.dispose();
  }
}

/** A batched run's output as [N, ...S]: lifted ones already are; native ones regain the file's leading 1. */
function restack(y: tf.Tensor, n: number, shape: number[], state: BatchState): tf.Tensor {
  return state === 'native' ? tf.reshape(y, [n, ...shape]) : y;
}
