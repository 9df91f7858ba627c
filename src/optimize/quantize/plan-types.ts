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

/**
 * How one op runs: int8 activations (W8A8), int16 activations with int8 weights ("16x8": symmetric
 * int16, zero point 0, int64 bias), or float. A model may mix them: the rewrite joins ops of different
 * widths with QUANTIZE (int8 <-> int16) and float ops with QUANTIZE / DEQUANTIZE.
 */
export type OpPrecision = 'int8' | 'int16x8' | 'float';
export type IntegerPrecision = Exclude<OpPrecision, 'float'>;

export const PRECISION_BITS = { int8: 8, int16x8: 16 } as const satisfies Record<IntegerPrecision, ActivationBits>;

interface OpPlanBase {
  opIndex: number;
  op: string;
}

/**
 * A quantized op: `precision` and `activationBits` say the same (8 = int8, 16 = int16x8), one for
 * people and one for arithmetic; the union ties them so a plan cannot hold int8 with 16 bits.
 */
interface QuantizedOpFields extends OpPlanBase {
  mode: 'quantized';
  /** Width of its weights (8 or 4). */
  weightBits: number;
  /** Why the weights have other bits than the recipe asked (e.g. no int4 kernel in LiteRT.js for this form). */
  weightBitsNote?: string;
  /** Why the op runs at another width than the recipe asked (it shares one scale with ops of that width). */
  precisionNote?: string;
  weights?: WeightPlan;
  bias?: BiasPlan;
}
export type Int8OpPlan = QuantizedOpFields & { precision: 'int8'; activationBits: 8 };
export type Int16x8OpPlan = QuantizedOpFields & { precision: 'int16x8'; activationBits: 16 };
export type QuantizedOpPlan = Int8OpPlan | Int16x8OpPlan;

export interface FloatOpPlan extends OpPlanBase {
  mode: 'float';
  precision: 'float';
  /** Why the op stays float. */
  reason: string;
  activationBits: 32;
  weightBits: 32;
  weightBitsNote?: undefined;
  precisionNote?: undefined;
  weights?: undefined;
  bias?: undefined;
}

export type OpPlan = QuantizedOpPlan | FloatOpPlan;

/** What a subgraph input or output becomes: 'unchanged' for tensors that were not float to begin with. */
export interface IoTensorPlan {
  tensorIndex: number;
  name: string;
  dtype: 'float32' | 'int8' | 'int16' | 'uint8' | 'unchanged';
}

export interface SubgraphPlan {
  index: number;
  ops: OpPlan[];
  /**
   * Activation parameters, one entry per tensor that becomes integer and width it is read or written
   * at, in the order they were first needed: a tensor between an int8 op and a 16x8 op has two, both
   * from the same calibrated range (its producer writes one, a QUANTIZE makes the other).
   */
  tensors: TensorPlan[];
  /** Only the main subgraph takes integer I/O; called subgraphs keep their float interface. */
  io: { type: IoType; inputs: IoTensorPlan[]; outputs: IoTensorPlan[] };
}

export interface QuantizationPlan {
  /** The model's activation width: ops run at it unless the recipe asks otherwise per op (OpPlan.precision). */
  activationBits: ActivationBits;
  /** How the weights' integers were chosen for their scales (set by the pipeline; rounding/). */
  weightRounding?: 'nearest' | 'gptq' | 'adaround';
  perChannel: boolean;
  io: IoType;
  /** Set by the pipeline when the ops left in float store their constants as float16 (recipe floatWeights). */
  floatWeights?: 'float16';
  subgraphs: SubgraphPlan[];
}

