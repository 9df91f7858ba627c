/**
 * The integer quantization plan, as AI Edge Quantizer structures it: recipe + calibrated ranges ->
 * plain, JSON-serializable data saying how each op runs (and why one stays float) and every parameter
 * of every tensor that becomes integer. The rewrite passes (apply.ts) only carry it out, so the plan is
 * testable alone, goes into the report, and is where per-op bit widths live.
 *
 * Order of work: op modes and widths (op-modes.ts; group-widths.ts for ops that only move data),
 * activation params with same-scale groups and fixed outputs (scale-groups.ts), weights and biases
 * per op (plan-weights.ts), then the I/O interface.
 */
import type { ModelGraph, Operator } from '../../tflite/graph';
import { builtinCodeOf, opName } from '../../tflite/ops';
import { chooseOpModes, subgraphFacts, type KeepFloat, type PrecisionOf } from './op-modes';
import { settleGroupWidths } from './group-widths';
import type { ActivationBits, WeightParamsHook } from './params';
import { planIo } from './plan-io';
import { biasActivationInput, planBias, planWeights, WEIGHT_BITS, weightBitsOf, type PlanWeightBits } from './plan-weights';
import type { RangeMap } from './ranges';
import type { FloatOp, IoType, OpPlan, FloatOpPlan, QuantizationPlan, QuantizedOpPlan, SubgraphPlan, TensorPlan } from './plan-types';
import { activationParamsOf, FIXED_SCALE_CONFLICT } from './scale-groups';

export type * from './plan-types';

export interface PlanOptions {
  /** The model's activation width; `precision` may ask another per op. */
  activationBits: ActivationBits;
  perChannel: boolean;
  /** Per op with weights, over `perChannel` (recipe granularityByScope). */
  perChannelOf?: (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => boolean;
  io: IoType;
  keepFloat: KeepFloat;
  /** Per op: 'int8', 'int16x8' or 'float' (default: the model's width); keepFloat wins over it. */
  precision?: PrecisionOf;
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
  const facts = subgraphFacts(graph, s, ranges);
  const modes = chooseOpModes(graph, s, facts, options.activationBits, options.keepFloat, options.precision);
  settleGroupWidths(graph, s, facts, modes);
  const activation = activationParamsOf(graph, s, facts, modes);
  const io = new Set([...subgraph.inputs, ...subgraph.outputs]);
  // One entry per tensor and width: the key is `${tensor}:${bits}`.
  const tensors = new Map<string, TensorPlan>();
  const activationPlan = (t: number, bits: ActivationBits): TensorPlan => {
    const key = `${t}:${bits}`;
    const known = tensors.get(key);
    if (known) return known;
    const params = activation(t, bits);
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
    tensors.set(key, plan);
    return plan;
  };

  const ops = subgraph.operators.map((op, o): OpPlan => {
    const mode = modes[o];
    const base = { opIndex: o, op: opName(graph, op) };
    if (!mode.rule) return { ...base, mode: 'float', precision: 'float', reason: mode.reason, activationBits: 32, weightBits: 32 };
    const { rule, bits } = mode;
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const fields = { ...base, mode: 'quantized' as const, weightBits: WEIGHT_BITS, ...(mode.note ? { precisionNote: mode.note } : {}) };
    const plan: QuantizedOpPlan = bits === 8 ? { ...fields, precision: 'int8', activationBits: 8 } : { ...fields, precision: 'int16x8', activationBits: 16 };
    if (rule.weights) {
      const chosen = weightBitsOf(builtin, rule, options.weightBits?.(s, o, op, graph) ?? WEIGHT_BITS, bits);
      plan.weightBits = chosen.bits;
      if (chosen.note) plan.weightBitsNote = chosen.note;
      // int4 weights keep the recipe's granularity: one scale over a whole layer at 15 levels loses too much.
      const perChannel = chosen.bits === 4 ? options.perChannel : (options.perChannelOf?.(s, o, op, graph) ?? options.perChannel);
      plan.weights = planWeights(graph, s, builtin, op.inputs, rule.weights, { ...options, perChannel }, chosen.bits);
    }
    op.inputs.forEach((t, i) => {
      if (!facts.isFloat(t) || i === rule.weights?.input) return;
      if (i !== rule.bias) return void activationPlan(t, bits);
      const input = biasActivationInput(builtin, op.inputs);
      plan.bias = planBias(graph, s, t, i, activationPlan(input, bits).scales[0], plan.weights!, bits);
    });
    for (const t of op.outputs) activationPlan(t, bits);
    return plan;
  });
  // Integer I/O is at the model's width whatever width the ops next to it run at.
  const ioPlan = (t: number) => activationPlan(t, options.activationBits);
  return { index: s, ops, io: planIo(subgraph, s, ops, facts, options.io, ioPlan), tensors: [...tensors.values()] };
}

/**
 * The ops left float, as FloatOps: in op order, except that ops turned float for a fixed-scale
 * conflict (found once every op had its mode) come after the others of their subgraph.
 */
export function floatOpsOf(plan: QuantizationPlan): FloatOp[] {
  return plan.subgraphs.flatMap((sp) => {
    const float = sp.ops.filter((op): op is FloatOpPlan => op.mode === 'float');
    const late = (op: FloatOpPlan) => op.reason === FIXED_SCALE_CONFLICT;
    return [...float.filter((op) => !late(op)), ...float.filter(late)].map((op) => ({ subgraph: sp.index, opIndex: op.opIndex, op: op.op, reason: op.reason }));
  });
}
