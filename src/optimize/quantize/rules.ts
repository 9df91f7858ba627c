/**
 * Per-op constraints of the TFLite quantization spec, and which ops have integer kernels.
 *
 * One table, one row per op: which inputs are weights (and their channel axis) or bias, whether
 * the output must share the input's scale (ops that only move or select data), whether the output
 * has fixed parameters (softmax, logistic, tanh...), and whether int8 and int16x8 kernels exist.
 * Ops missing from the table stay float, with QUANTIZE/DEQUANTIZE around them.
 */
import { BuiltinOperator as Op } from '../../tflite/schema/generated/tflite_generated';

export interface FixedOutput {
  scale: number;
  zeroPoint: number;
}

export interface OpRule {
  int8: boolean;
  int16: boolean;
  /** Input index of the weight tensor and the axis of its output channels. */
  weights?: { input: number; axis: number; perChannel: boolean };
  /** Input index of the bias (int32, int64 in 16x8). */
  bias?: number;
  /** Inputs (by index) that must share one scale with the outputs: the op only moves data. */
  sameScale?: number[];
  fixedOutput?: { int8: FixedOutput; int16: FixedOutput };
  /** Opcode version the converter gives the int8 / int16x8 kernel (absent: keep the file's). */
  version?: { int8?: number; int16?: number };
  /**
   * Packed INT4 weights with int8 / int16 activations: the opcode version to write, present only
   * for forms LiteRT.js runs (measured, see INT4_KERNELS); other forms keep int8 weights.
   */
  int4?: { int8?: number; int16?: number };
}

/**
 * Packed INT4 weights under integer activations, as LiteRT.js 2.5.3 runs them: against the float
 * model holding the same rounded weights, conv / depthwise 39-57 dB, FC 23-28 dB (activation-limited),
 * checked in w4a8.test.ts. W4A8 versions are op_version.cc's (CONV_2D / DEPTHWISE_CONV_2D 7,
 * FULLY_CONNECTED 10). op_version.cc has no int16 x int4 case; W4A16 gets the same versions, the ones
 * that brought int4 filters, so a runtime too old to read INT4 refuses the model instead of misreading
 * it. DEPTHWISE_CONV_2D W4A16 loads but computes wrong outputs (-11 dB against the same-weights model,
 * one-off probe on 2026-12-06): it keeps int8 weights.
 */
const INT4_KERNELS = {
  CONV_2D: { int8: 7, int16: 7 },
  DEPTHWISE_CONV_2D: { int8: 7 },
  FULLY_CONNECTED: { int8: 10, int16: 10 },
};

const MOVE = (inputs: number[], int16 = true, versions?: OpRule['version']): OpRule => ({
  int8: true,
  int16,
  sameScale: inputs,
  version: versions,
});
const FREE = (int16: boolean, versions?: OpRule['version']): OpRule => ({ int8: true, int16, version: versions });

const SOFTMAX_LIKE = { int8: { scale: 1 / 256, zeroPoint: -128 }, int16: { scale: 1 / 32768, zeroPoint: 0 } };
const TANH_LIKE = { int8: { scale: 1 / 128, zeroPoint: 0 }, int16: { scale: 1 / 32768, zeroPoint: 0 } };

export const OP_RULES: Partial<Record<Op, OpRule>> = {
  [Op.CONV_2D]: { int8: true, int16: true, weights: { input: 1, axis: 0, perChannel: true }, bias: 2, version: { int8: 3, int16: 4 }, int4: INT4_KERNELS.CONV_2D },
  [Op.DEPTHWISE_CONV_2D]: { int8: true, int16: true, weights: { input: 1, axis: 3, perChannel: true }, bias: 2, version: { int8: 3, int16: 5 }, int4: INT4_KERNELS.DEPTHWISE_CONV_2D },
  [Op.FULLY_CONNECTED]: { int8: true, int16: true, weights: { input: 1, axis: 0, perChannel: true }, bias: 2, version: { int8: 4, int16: 7 }, int4: INT4_KERNELS.FULLY_CONNECTED },
  // TRANSPOSE_CONV inputs: output_shape, weights [out, h, w, in], input, bias.
  [Op.TRANSPOSE_CONV]: { int8: true, int16: true, weights: { input: 1, axis: 0, perChannel: true }, bias: 3, version: { int8: 3, int16: 3 } },
  [Op.ADD]: FREE(true, { int8: 2, int16: 3 }),
  [Op.SUB]: FREE(true, { int8: 2, int16: 3 }),
  [Op.MUL]: FREE(true, { int8: 2, int16: 4 }),
  [Op.SQUARED_DIFFERENCE]: FREE(false, { int8: 2 }),
  [Op.BATCH_MATMUL]: FREE(true, { int8: 2, int16: 3 }),
  [Op.MEAN]: FREE(true, { int8: 2, int16: 3 }),
  [Op.SUM]: FREE(true, { int8: 2 }),
  [Op.RELU]: FREE(true, { int8: 2, int16: 3 }),
  [Op.RELU6]: FREE(true, { int8: 2, int16: 3 }),
  [Op.RELU_N1_TO_1]: FREE(false, { int8: 2 }),
  [Op.LEAKY_RELU]: FREE(true, { int8: 2, int16: 2 }),
  [Op.PRELU]: FREE(false),
  [Op.HARD_SWISH]: FREE(false),
  [Op.ABS]: FREE(true, { int8: 2, int16: 3 }),
  [Op.RSQRT]: FREE(false, { int8: 2 }),
  [Op.ELU]: FREE(false, { int8: 2 }),
  [Op.SOFTMAX]: { int8: true, int16: true, fixedOutput: SOFTMAX_LIKE, version: { int8: 2, int16: 3 } },
  [Op.LOGISTIC]: { int8: true, int16: true, fixedOutput: SOFTMAX_LIKE, version: { int8: 2, int16: 3 } },
  [Op.TANH]: { int8: true, int16: true, fixedOutput: TANH_LIKE, version: { int8: 2, int16: 3 } },
  [Op.LOG_SOFTMAX]: { int8: true, int16: false, fixedOutput: { int8: { scale: 16 / 256, zeroPoint: 127 }, int16: { scale: 16 / 256, zeroPoint: 0 } }, version: { int8: 2 } },
  [Op.L2_NORMALIZATION]: { int8: true, int16: false, fixedOutput: { int8: { scale: 1 / 128, zeroPoint: 0 }, int16: { scale: 1 / 32768, zeroPoint: 0 } }, version: { int8: 2 } },
  [Op.AVERAGE_POOL_2D]: MOVE([0], true, { int8: 2, int16: 3 }),
  [Op.MAX_POOL_2D]: MOVE([0], true, { int8: 2, int16: 3 }),
  [Op.RESHAPE]: MOVE([0]),
  [Op.SQUEEZE]: MOVE([0]),
  [Op.EXPAND_DIMS]: MOVE([0]),
  [Op.TRANSPOSE]: MOVE([0], true, { int8: 2, int16: 5 }),
  [Op.PAD]: MOVE([0], true, { int8: 2, int16: 4 }),
  [Op.PADV2]: MOVE([0, 2], true, { int8: 2, int16: 4 }),
  [Op.SLICE]: MOVE([0], true, { int8: 2, int16: 4 }),
  [Op.STRIDED_SLICE]: MOVE([0], true, { int8: 2, int16: 4 }),
  [Op.GATHER]: MOVE([0], true, { int8: 2, int16: 4 }),
  [Op.SPLIT]: MOVE([1], true, { int8: 2, int16: 4 }),
  [Op.SPLIT_V]: MOVE([0], true, { int8: 2 }),
  [Op.PACK]: MOVE([], true, { int8: 2 }), // every input, filled in by sameScaleInputs
  [Op.UNPACK]: MOVE([0], true, { int8: 2 }),
  [Op.CONCATENATION]: MOVE([], true, { int8: 2, int16: 3 }),
  [Op.DEPTH_TO_SPACE]: MOVE([0], false, { int8: 2 }),
  [Op.SPACE_TO_DEPTH]: MOVE([0], false, { int8: 2 }),
  [Op.BATCH_TO_SPACE_ND]: MOVE([0], false, { int8: 2 }),
  [Op.SPACE_TO_BATCH_ND]: MOVE([0], false, { int8: 2 }),
  [Op.RESIZE_BILINEAR]: MOVE([0], true, { int8: 3 }),
  [Op.RESIZE_NEAREST_NEIGHBOR]: MOVE([0], true, { int8: 2 }),
  [Op.REDUCE_MAX]: MOVE([0], true, { int8: 2 }),
  [Op.REDUCE_MIN]: MOVE([0], true, { int8: 2 }),
  [Op.MAXIMUM]: MOVE([0, 1], true, { int8: 2 }),
  [Op.MINIMUM]: MOVE([0, 1], true, { int8: 2 }),
  [Op.TILE]: MOVE([0], false),
  [Op.BROADCAST_TO]: MOVE([0], false),
  [Op.SELECT_V2]: MOVE([1, 2], false),
};

/** Ops whose every input moves into the output unchanged (variadic). */
const ALL_INPUTS_SAME_SCALE = new Set<Op>([Op.CONCATENATION, Op.PACK]);

export function sameScaleInputs(op: Op, inputCount: number): number[] {
  if (ALL_INPUTS_SAME_SCALE.has(op)) return Array.from({ length: inputCount }, (_, i) => i);
  return OP_RULES[op]?.sameScale ?? [];
}

export function ruleFor(op: Op): OpRule | undefined {
  return OP_RULES[op];
}
