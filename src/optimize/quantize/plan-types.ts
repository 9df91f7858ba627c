/**
 * The shapes of a QuantizationPlan (plan.ts makes one): plain data only, so a plan survives
 * JSON.stringify / JSON.parse unchanged and can go into a report as it is.
 */
import type { ActivationBits } from './params';

export type IoType = 'float' | 'int8' | 'uint8';

/** An op left in float, and why. */
export interface FloatOp {
  subgraph: number;
  opIndex: number;
  op: string;
  reason: string;
}

/** 'int4': packed two per byte (TensorType INT4), weights only. */
export type PlanDtype = 'int4' | 'int8' | 'int16' | 'int32' | 'int64' | 'float32';

/** Parameters of one tensor that becomes integer: real = scale * (q - zero_point). */
export interface TensorPlan {
  tensorIndex: number;
  name: string;
  /** 'io': an activation that is also a subgraph input or output. */
  role: 'activation' | 'weight' | 'bias' | 'io';
  dtype: PlanDtype;
  bits: number;
  granularity: 'per-tensor' | 'per-channel';
  /** The channel axis (quantized_dimension) of per-channel parameters. */
  axis?: number;
  scales: number[];
  zeroPoints: number[];
}

/** Weights are planned per op (a shared weight tensor may serve ops of different kinds). */
export interface WeightPlan extends TensorPlan {
  /** Position among the op's inputs. */
  input: number;
}

export interface BiasPlan extends WeightPlan {
  /** Scale of the activation input: the bias scales are inputScale * weight scales. */
  inputScale: number;
}

export interface OpPlan {
  opIndex: number;
  op: string;
  mode: 'quantized' | 'float';
  /** Why the op stays float. */
  reason?: string;
  /** Width of its activations (8 or 16) and weights (8 or 4); 32 for an op left float. */
  activationBits: number;
  weightBits: number;
  /** Why the weights have other bits than the recipe asked (e.g. no int4 kernel in LiteRT.js for this form). */
  weightBitsNote?: string;
  weights?: WeightPlan;
  bias?: BiasPlan;
}

/** What a subgraph input or output becomes: 'unchanged' for tensors that were not float to begin with. */
export interface IoTensorPlan {
  tensorIndex: number;
  name: string;
  dtype: 'float32' | 'int8' | 'int16' | 'uint8' | 'unchanged';
}

export interface SubgraphPlan {
  index: number;
  ops: OpPlan[];
  /** Activation parameters (one entry per tensor that becomes integer), in the order they were first needed. */
  tensors: TensorPlan[];
  /** Only the main subgraph takes integer I/O; called subgraphs keep their float interface. */
  io: { type: IoType; inputs: IoTensorPlan[]; outputs: IoTensorPlan[] };
}

export interface QuantizationPlan {
  activationBits: ActivationBits;
  /** How the weights' integers were chosen for their scales (set by the pipeline; rounding/). */
  weightRounding?: 'nearest' | 'gptq' | 'adaround';
  perChannel: boolean;
  io: IoType;
  /** Set by the pipeline when the ops left in float store their constants as float16 (recipe floatWeights). */
  floatWeights?: 'float16';
  subgraphs: SubgraphPlan[];
}

