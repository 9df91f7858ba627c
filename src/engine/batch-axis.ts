/**
 * Gives a graph a batch axis the engine can run N samples through at once.
 *
 * The engine batches by making dimension 0 free (executor.ts, KernelArgs.batched), which is exact
 * when dimension 0 is a batch all through the graph. Models whose input has no batch axis (audio_event:
 * one [5360] waveform, reshaped and gathered inside) cannot be fed that way, and ran one sample at a
 * time, with per-op overhead dominating on their small tensors. This pass follows every tensor's batch
 * state from the inputs (batch-axis-rules.ts), rewrites the ops that need it (RESHAPE targets and
 * GATHER / PAD / reduction axes gain the leading axis...) and returns a copy whose every per-sample
 * tensor has dimension 0 as its batch, so the executor's batching applies unchanged. Tensor and op
 * indices stay as they were (new shape constants are appended), so trainable weights and taps keep
 * their indices. When one op cannot carry the batch exactly, the plan says which and why, and callers
 * run one sample at a time (batched-forward.ts).
 */
import type { ModelGraph, Tensor } from '../tflite/graph';
import { addInt32Constant, cloneGraph } from '../tflite/edit';
import { opName } from '../tflite/ops';
import { isConstant } from '../tflite/queries';
import { constantValues } from './constants';
import { BATCH_RULES, type BatchRuleContext, type BatchState } from './batch-axis-rules';

export type { BatchState } from './batch-axis-rules';

export interface BatchAxisPlan {
  /** The copy to run batched, or null when the graph cannot carry a batch axis exactly. */
  graph: ModelGraph | null;
  /** Why not (with the op), when graph is null. */
  reason?: string;
  opIndex?: number;
  /** Per subgraph input / output: lifted (runs as [N, ...S]) or native (S = [1, ...], runs as [N, ...S[1:]]). */
  inputs: BatchState[];
  outputs: BatchState[];
}

/**
 * Kernels that size dimension 0 of their output from the run's batch when the run is batched
 * (concat.ts' BROADCAST_TO), right only for per-sample values, and with no rule for those here.
 */
const SIZED_BY_THE_RUN = new Set(['BROADCAST_TO']);

/** The state a graph input starts in: a leading 1 is taken for the batch the engine has always assumed. */
function inputState(tensor: Tensor): BatchState {
  return tensor.shape.length > 0 && tensor.shape[0] === 1 ? 'native' : 'lifted';
}

function liftTensor(tensor: Tensor): void {
  tensor.shape = [1, ...tensor.shape];
  if (tensor.shapeSignature) tensor.shapeSignature = [1, ...tensor.shapeSignature];
  const q = tensor.quantization;
  if (q && (q.scale?.length ?? 0) > 1) q.quantizedDimension += 1;
}

export function addBatchAxis(graph: ModelGraph, subgraphIndex = 0): BatchAxisPlan {
  const original = graph.subgraphs[subgraphIndex];
  const copy = cloneGraph(graph);
  const subgraph = copy.subgraphs[subgraphIndex];
  const states: (BatchState | undefined)[] = original.tensors.map((t) => (isConstant(graph, t) ? 'shared' : undefined));
  const inputs = original.inputs.map((t) => inputState(original.tensors[t]));
  original.inputs.forEach((t, i) => {
    states[t] = inputs[i];
    if (inputs[i] === 'lifted') liftTensor(subgraph.tensors[t]);
  });
  const refuse = (reason: string, opIndex?: number): BatchAxisPlan => ({ graph: null, reason, opIndex, inputs, outputs: [] });

  for (let opIndex = 0; opIndex < subgraph.operators.length; opIndex++) {
    const op = subgraph.operators[opIndex];
    const name = opName(copy, op);
    const inStates: BatchState[] = [];
    for (const t of op.inputs) {
      const state = t < 0 ? 'shared' : states[t];
      if (!state) return refuse(`op ${opIndex} (${name}) reads tensor ${t} before it is computed`, opIndex);
      inStates.push(state);
    }
    let outStates: BatchState[];
    if (inStates.every((s) => s === 'shared')) {
      if (SIZED_BY_THE_RUN.has(name)) return refuse(`op ${opIndex} (${name}) on a shared value would take the run's batch`, opIndex);
      outStates = op.outputs.map(() => 'shared');
    } else {
      const rule = BATCH_RULES[name];
      if (!rule) return refuse(`op ${opIndex} (${name}) has no batch-axis rule`, opIndex);
      const context: BatchRuleContext = {
        name,
        options: op.builtinOptions,
        states: inStates,
        inputShapes: op.inputs.map((t) => (t >= 0 ? original.tensors[t].shape : null)),
        outputShapes: op.outputs.map((t) => original.tensors[t].shape),
        ints: (i) => {
          const t = op.inputs[i];
          const c = t >= 0 ? constantValues(graph, original.tensors[t]) : null;
          return c && c.dtype === 'int32' ? Array.from(c.values as ArrayLike<number>, Number) : null;
        },
        setInts: (i, values, shape) => {
          op.inputs[i] = addInt32Constant(copy, subgraph, `${original.tensors[op.inputs[i]]?.name ?? name}/batched_${opIndex}`, values);
          if (shape) subgraph.tensors[op.inputs[i]].shape = shape;
        },
      };
      const result = BATCH_RULES[name](context);
      if (typeof result === 'string') return refuse(`op ${opIndex} (${name}): ${result}`, opIndex);
      outStates = result;
    }
    op.outputs.forEach((t, i) => {
      states[t] = outStates[i];
      if (outStates[i] === 'lifted') liftTensor(subgraph.tensors[t]);
    });
  }

  const outputs: BatchState[] = [];
  for (const t of original.outputs) {
    const state = states[t];
    if (!state || state === 'shared') return refuse(`output "${original.tensors[t].name}" is the same for every sample`);
    outputs.push(state);
  }
  return { graph: copy, inputs, outputs };
}
