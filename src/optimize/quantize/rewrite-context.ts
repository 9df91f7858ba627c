/**
 * The state the rewrite passes of one subgraph share: the plan's tensor parameters, which tensors
 * are integer where they are produced and at which width, new tensors and buffers, and the QUANTIZE / DEQUANTIZE ops to
 * emit right after the op that produces their input (so the op list stays in execution order).
 */
import { plainOperator } from '../../tflite/edit';
import type { ModelGraph, Operator, Quantization, Subgraph, Tensor } from '../../tflite/graph';
import { isConstant, producers } from '../../tflite/queries';
import { BuiltinOperator, QuantizationDetails, TensorType } from '../../tflite/schema/generated/tflite_generated';
import type { ActivationBits } from './params';
import type { PlanDtype, SubgraphPlan, TensorPlan } from './plan-types';

export const TENSOR_TYPES: Record<PlanDtype, TensorType> = {
  int4: TensorType.INT4,
  int8: TensorType.INT8,
  int16: TensorType.INT16,
  int32: TensorType.INT32,
  int64: TensorType.INT64,
  float32: TensorType.FLOAT32,
};

/** TFLite quantization parameters of a planned tensor. */
export function quantizationOf(plan: Pick<TensorPlan, 'scales' | 'zeroPoints' | 'axis'>): Quantization {
  return {
    min: null,
    max: null,
    scale: plan.scales,
    zeroPoint: plan.zeroPoints,
    quantizedDimension: plan.axis ?? 0,
    detailsType: QuantizationDetails.NONE,
    details: null,
  };
}

export class SubgraphRewrite {
  readonly subgraph: Subgraph;
  /**
   * The width (8 or 16) of tensors that are integer where they are produced (quantized ops' outputs
   * at their op's width, integer inputs at the interface's); 0 for tensors float there.
   */
  readonly homeBits: Uint8Array;
  conversions = 0;
  correctedBiases = 0;
  /** Twins made so far: `${tensor}:${bits}` -> integer twin at that width, integer tensor -> float twin. */
  readonly integerTwins = new Map<string, number>();
  readonly floatTwins = new Map<number, number>();
  /** Quantized constants by source buffer and parameters, so shared constants stay shared. */
  readonly constants = new Map<string, number>();
  private readonly activations: Map<string, TensorPlan>;
  private readonly producer: ArrayLike<number>;
  private readonly twinPosition = new Map<number, number>();
  private readonly after = new Map<number, Operator[]>(); // conversions to emit after op o (-1: at the start)

  constructor(
    readonly graph: ModelGraph,
    readonly plan: SubgraphPlan,
    /** The model's activation width (QuantizationPlan.activationBits). */
    readonly modelBits: ActivationBits,
  ) {
    this.subgraph = graph.subgraphs[plan.index];
    this.activations = new Map(plan.tensors.map((t) => [`${t.tensorIndex}:${t.bits}`, t]));
    this.producer = producers(this.subgraph);
    this.homeBits = new Uint8Array(this.subgraph.tensors.length);
    for (const op of plan.ops) if (op.mode === 'quantized') for (const t of this.subgraph.operators[op.opIndex].outputs) this.homeBits[t] = op.activationBits;
    for (const input of plan.io.inputs) if (['int8', 'int16', 'uint8'].includes(input.dtype)) this.homeBits[input.tensorIndex] = input.dtype === 'int16' ? 16 : 8;
  }

  /** Float now: the rewrite retypes tensors as it goes, so this changes while it runs. */
  isFloat(t: number): boolean {
    return t >= 0 && this.subgraph.tensors[t].type === TensorType.FLOAT32;
  }

  constant(t: number): boolean {
    return isConstant(this.graph, this.subgraph.tensors[t]);
  }

  /** Parameters of activation t at a width: by default the one it is written at (else the model's). */
  activation(t: number, bits: ActivationBits = this.defaultBits(t)): TensorPlan {
    const plan = this.activations.get(`${t}:${bits}`);
    if (!plan) throw new Error(`the plan has no ${bits}-bit parameters for tensor ${t} of subgraph ${this.plan.index}`);
    return plan;
  }

  private defaultBits(t: number): ActivationBits {
    const home = this.homeBits[t];
    return home === 8 || home === 16 ? home : this.modelBits;
  }

  addTensor(tensor: Tensor): number {
    this.subgraph.tensors.push(tensor);
    return this.subgraph.tensors.length - 1;
  }

  addBuffer(data: Uint8Array): number {
    this.graph.buffers.push({ data });
    return this.graph.buffers.length - 1;
  }

  /** The op a tensor is written by (a twin: its source's), -1 for inputs and constants. */
  positionOf(t: number): number {
    return t < this.producer.length ? this.producer[t] : this.twinPosition.get(t) ?? -1;
  }

  /** Emit a conversion of `input` into `output` right after `input` is written. */
  convert(builtin: BuiltinOperator, input: number, output: number, version: number, position = this.positionOf(input), first = false): void {
    const list = this.after.get(position) ?? [];
    const op = plainOperator(this.graph, builtin, [input], [output], version);
    // `first`: a conversion whose output the others at this position read (a uint8 input's requantization).
    if (first) list.unshift(op);
    else list.push(op);
    this.after.set(position, list);
    this.twinPosition.set(output, position);
    this.conversions++;
  }

  /** The ops in order with their conversions right after them. */
  emitOps(): void {
    const ordered: Operator[] = [...(this.after.get(-1) ?? [])];
    this.subgraph.operators.forEach((op, o) => ordered.push(op, ...(this.after.get(o) ?? [])));
    this.subgraph.operators = ordered;
  }
}
