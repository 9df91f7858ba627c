/**
 * The integer quantization plan, as AI Edge Quantizer structures it: recipe + calibrated ranges ->
 * plain, JSON-serializable data saying how each op runs (and why one stays float) and every parameter
 * of every tensor that becomes integer. The rewrite passes (apply.ts) only carry it out, so the plan is
 * testable alone, goes into the report, and is where per-op bit widths live.
 *
 * Order of work: op modes (op-modes.ts), activation params with same-scale groups and fixed outputs
 * (scale-groups.ts), weights and biases per op (plan-weights.ts), then the I/O interface.
 */
import type { ModelGraph, Operator } from '../../tflite/graph';
import { builtinCodeOf, opName } from '../../tflite/ops';
import { chooseOpModes, subgraphFacts, type KeepFloat } from './op-modes';
import type { ActivationBits, WeightParamsHook } from './params';
import { planIo } from './plan-io';
import { biasActivationInput, planBias, planWeights, WEIGHT_BITS, weightBitsOf, type PlanWeightBits } from './plan-weights';
import type { RangeMap } from './ranges';
import type { FloatOp, IoType, OpPlan, QuantizationPlan, SubgraphPlan, TensorPlan } from './plan-types';
import { activationParamsOf, FIXED_SCALE_CONFLICT } from './scale-groups';

export type * from './plan-types';

export interface PlanOptions {
  activationBits: ActivationBits;
  perChannel: boolean;
  io: IoType;
  keepFloat: KeepFloat;
  weightParams?: WeightParamsHook;
  /** int4 weight scales from the caller (QAT's learned steps), by weight tensor name; see planWeights. */
  int4Scales?: Map<string, number[]>;
  /** Weight bits the recipe asks of an op with weights (default 8); the plan may keep 8 (weightBitsOf). */
  weightBits?: (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => PlanWeightBits;
}

/** Plan a graph whose constant DEQUANTIZE ops are folded already (quantizeInteger folds a copy first). */
export function planQuantization(graph: ModelGraph, ranges: RangeMap, options: PlanOptions): QuantizationPlan {
  return {
    activationBits: options.activationBits,
    perChannel: options.perChannel,
    io: options.io,
    subgraphs: graph.subgraphs.map((_, s) => planSubgraph(graph, s, ranges, options)),
  };
}

function planSubgraph(graph: ModelGraph, s: number, ranges: RangeMap, options: PlanOptions): SubgraphPlan {
  const subgraph = graph.subgraphs[s];
  const bits = options.activationBits;
  const facts = subgraphFacts(graph, s, ranges);
  const modes = chooseOpModes(graph, s, facts, bits, options.keepFloat);
  const activation = activationParamsOf(graph, s, facts, modes, bits);
  const io = new Set([...subgraph.inputs, ...subgraph.outputs]);
  const tensors = new Map<number, TensorPlan>();
  const activationPlan = (t: number): TensorPlan => {
    const known = tensors.get(t);
    if (known) return known;
    const params = activation(t);
    const plan: TensorPlan = {
      tensorIndex: t,
      name: subgraph.tensors[t].name,
      role: io.has(t) ? 'io' : 'activation',
      dtype: bits === 8 ? 'int8' : 'int16',
      bits,
      granularity: 'per-tensor',
      scales: params.scale,
      zeroPoints: params.zeroPoint,
    };
    tensors.set(t, plan);
    return plan;
  };

  const ops = subgraph.operators.map((op, o): OpPlan => {
    const { rule, reason } = modes[o];
    const base = { opIndex: o, op: opName(graph, op) };
    if (!rule) return { ...base, mode: 'float', reason, activationBits: 32, weightBits: 32 };
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const plan: OpPlan = { ...base, mode: 'quantized', activationBits: bits, weightBits: WEIGHT_BITS };
    if (rule.weights) {
      const chosen = weightBitsOf(builtin, rule, options.weightBits?.(s, o, op, graph) ?? WEIGHT_BITS, bits);
      plan.weightBits = chosen.bits;
      if (chosen.note) plan.weightBitsNote = chosen.note;
      plan.weights = planWeights(graph, s, builtin, op.inputs, rule.weights, options, chosen.bits);
    }
    op.inputs.forEach((t, i) => {
      if (!facts.isFloat(t) || i === rule.weights?.input) return;
      if (i !== rule.bias) return void activationPlan(t);
      const input = biasActivationInput(builtin, op.inputs);
      plan.bias = planBias(graph, s, t, i, activationPlan(input).scales[0], plan.weights!, bits);
    });
    op.outputs.forEach(activationPlan);
    return plan;
  });
  return { index: s, ops, io: planIo(subgraph, s, ops, facts, options.io, activationPlan), tensors: [...tensors.values()] };
}

/**
 * The ops left float, as FloatOps: in op order, except that ops turned float for a fixed-scale
 * conflict (found once every op had its mode) come after the others of their subgraph.
 */
export function floatOpsOf(plan: QuantizationPlan): FloatOp[] {
  return plan.subgraphs.flatMap((sp) => {
    const float = sp.ops.filter((op) => op.mode === 'float');
    const late = (op: OpPlan) => op.reason === FIXED_SCALE_CONFLICT;
    return [...float.filter((op) => !late(op)), ...float.filter(late)].map((op) => ({ subgraph: sp.index, opIndex: op.opIndex, op: op.op, reason: op.reason! }));
  });
}
