/**
 * Full-integer quantization (int8, or int16 activations with int8 weights: "16x8").
 *
 * Plan, then rewrite:
 * 1. choose the ops that run quantized (an integer kernel exists, the user did not keep them in
 *    float, every float tensor they touch has a range);
 * 2. give every float tensor those ops touch its parameters: weights symmetric per channel, bias
 *    at input_scale * weight_scale, activations asymmetric from their calibrated range, fixed
 *    parameters for softmax/logistic/tanh outputs, one shared scale across ops that only move data;
 * 3. rewrite: quantized producers write integer tensors; a float consumer of one gets a DEQUANTIZE'd
 *    twin, a quantized consumer of a float tensor a QUANTIZE'd twin; I/O becomes float, int8 or uint8.
 * Every op left in float is reported with the reason.
 */
import { WorkbenchError } from '../../errors';
import { cloneGraph, newTensor, opcodeIndex, plainOperator } from '../../tflite/edit';
import type { ModelGraph, Operator, Quantization, Subgraph, Tensor } from '../../tflite/graph';
import { builtinCodeOf, opName } from '../../tflite/ops';
import { isConstant, producers } from '../../tflite/queries';
import {
  BuiltinOperator,
  QuantizationDetails,
  TensorType,
} from '../../tflite/schema/generated/tflite_generated';
import { correctBias, dequantizedWeights } from './bias-correction';
import { constantAsFloat32, dropUnused, foldConstantDequantize } from './fold-dequantize';
import {
  activationParams,
  bytesOf,
  quantizeBias,
  quantizeInt16,
  quantizeInt8,
  symmetricWeightParams,
  perChannelPays,
  type ActivationBits,
  type QuantParams,
  type WeightParamsHook,
} from './params';
import { ruleFor, sameScaleInputs, type OpRule } from './rules';

export type IoType = 'float' | 'int8' | 'uint8';

export interface TensorRange {
  min: number;
  max: number;
}

/** Calibrated ranges by `${subgraph}:${tensor}` of the float model. */
export type RangeMap = Map<string, TensorRange>;

export const rangeKey = (subgraph: number, tensor: number) => `${subgraph}:${tensor}`;

export interface IntegerOptions {
  activationBits: ActivationBits;
  perChannel: boolean;
  io: IoType;
  integerOnly: boolean;
  /**
   * Per-channel (last axis) means of float activations from calibration, by rangeKey: when given,
   * biases absorb the mean shift that rounding the weights causes (empirical bias correction).
   */
  channelMeans?: Map<string, Float64Array>;
  /**
   * The weights before earlier steps of a chain (pruning, clustering) changed them, by tensor name:
   * bias correction then removes the mean shift of those steps too, not only of int8 rounding.
   */
  referenceWeights?: Map<string, Float32Array>;
  /** True for ops the user keeps in float (by op type or tensor name). */
  keepFloat: (subgraph: number, opIndex: number, op: Operator, graph: ModelGraph) => boolean;
  /** Optional: weight parameters from the caller (clustered weights); null or absent = the default. */
  weightParams?: WeightParamsHook;
}

export interface FloatOp {
  subgraph: number;
  opIndex: number;
  op: string;
  reason: string;
}

export interface IntegerResult {
  graph: ModelGraph;
  quantizedOps: number;
  /** Biases corrected for the weights' rounding shift. */
  correctedBiases: number;
  floatOps: FloatOp[];
  /** QUANTIZE/DEQUANTIZE ops added at float/integer boundaries (I/O included). */
  conversions: number;
}

const FLOAT_TYPES = new Set([TensorType.FLOAT32]);

export function quantizeInteger(source: ModelGraph, ranges: RangeMap, options: IntegerOptions): IntegerResult {
  const graph = cloneGraph(source);
  foldConstantDequantize(graph);
  const result: IntegerResult = { graph, quantizedOps: 0, correctedBiases: 0, floatOps: [], conversions: 0 };
  graph.subgraphs.forEach((_, s) => quantizeSubgraph(graph, s, ranges, options, result));
  dropUnused(graph);
  if (options.integerOnly) {
    const computeFloat = result.floatOps.filter((f) => f.reason !== 'no float tensors');
    if (computeFloat.length) {
      throw new WorkbenchError(
        'unsupported',
        `integer-only quantization is impossible: ${computeFloat.length} op(s) would stay float: ${computeFloat
          .map((f) => `#${f.opIndex} ${f.op} (${f.reason})`)
          .join('; ')}`,
        computeFloat[0].opIndex,
      );
    }
  }
  return result;
}

/** Union-find over tensor indices, for groups that must share one scale. */
class Groups {
  private parent: Int32Array;
  constructor(size: number) {
    this.parent = Int32Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]];
      i = this.parent[i];
    }
    return i;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

function quantizeSubgraph(graph: ModelGraph, s: number, ranges: RangeMap, options: IntegerOptions, result: IntegerResult): void {
  const subgraph = graph.subgraphs[s];
  const bits = options.activationBits;
  const tensorCount = subgraph.tensors.length;
  const isFloat = (t: number) => t >= 0 && FLOAT_TYPES.has(subgraph.tensors[t].type);
  const constant = (t: number) => isConstant(graph, subgraph.tensors[t]);
  const rangeOf = (t: number): TensorRange | undefined => {
    if (constant(t)) {
      const values = constantAsFloat32(graph, s, t);
      let min = 0;
      let max = 0;
      for (let i = 0; i < values.length; i++) {
        if (values[i] < min) min = values[i];
        if (values[i] > max) max = values[i];
      }
      return { min, max };
    }
    return ranges.get(rangeKey(s, t));
  };

  // 1. Which ops run quantized.
  const rules: (OpRule | null)[] = subgraph.operators.map((op, o) => {
    const name = opName(graph, op);
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const floatTensors = [...op.inputs, ...op.outputs].filter(isFloat);
    const floatOp = (reason: string) => {
      result.floatOps.push({ subgraph: s, opIndex: o, op: name, reason });
      return null;
    };
    if (floatTensors.length === 0) return floatOp('no float tensors');
    const rule = ruleFor(builtin);
    if (!rule || !(bits === 8 ? rule.int8 : rule.int16)) {
      return floatOp(bits === 8 ? 'no int8 kernel' : 'no int16x8 kernel');
    }
    if (options.keepFloat(s, o, op, graph)) return floatOp('kept in float by the recipe');
    if (op.outputs.some((t) => !isFloat(t))) return floatOp('has non-float outputs');
    if (rule.weights) {
      const w = op.inputs[rule.weights.input];
      if (w === undefined || w < 0 || !constant(w) || !isFloat(w)) return floatOp('weights are not a float constant');
    }
    const missing = floatTensors.find((t) => !rangeOf(t));
    if (missing !== undefined) return floatOp(`no calibration range for tensor "${subgraph.tensors[missing].name}"`);
    return rule;
  });

  // 2. Parameters. Same-scale groups first.
  const groups = new Groups(tensorCount);
  subgraph.operators.forEach((op, o) => {
    const rule = rules[o];
    if (!rule) return;
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const members = sameScaleInputs(builtin, op.inputs.length).map((i) => op.inputs[i]).filter((t) => t !== undefined && isFloat(t));
    if (!members.length) return;
    for (const t of [...members, ...op.outputs]) groups.union(t, op.outputs[0]);
  });
  const fixed = new Map<number, { scale: number; zeroPoint: number; op: number }>();
  subgraph.operators.forEach((op, o) => {
    const rule = rules[o];
    if (!rule?.fixedOutput) return;
    const value = bits === 8 ? rule.fixedOutput.int8 : rule.fixedOutput.int16;
    const root = groups.find(op.outputs[0]);
    const existing = fixed.get(root);
    if (existing && (existing.scale !== value.scale || existing.zeroPoint !== value.zeroPoint)) {
      // Two fixed-parameter outputs forced into one scale: keep the later op in float.
      rules[o] = null;
      result.floatOps.push({ subgraph: s, opIndex: o, op: opName(graph, op), reason: 'its fixed output scale conflicts with another' });
      return;
    }
    fixed.set(root, { ...value, op: o });
  });
  const groupRange = new Map<number, TensorRange>();
  for (let t = 0; t < tensorCount; t++) {
    if (!isFloat(t) || constant(t)) continue;
    const range = rangeOf(t);
    if (!range) continue;
    const root = groups.find(t);
    const current = groupRange.get(root);
    groupRange.set(root, current ? { min: Math.min(current.min, range.min), max: Math.max(current.max, range.max) } : { ...range });
  }
  const paramCache = new Map<number, QuantParams>();
  /** Activation parameters of tensor t (shared across its group). */
  const activation = (t: number): QuantParams => {
    const root = groups.find(t);
    const cached = paramCache.get(root);
    if (cached) return cached;
    const f = fixed.get(root);
    let params: QuantParams;
    if (f) params = { scale: [f.scale], zeroPoint: [f.zeroPoint], axis: 0 };
    else {
      const range = groupRange.get(root) ?? rangeOf(t);
      if (!range) throw new Error(`no range for tensor ${t}`);
      params = activationParams(range.min, range.max, bits);
    }
    paramCache.set(root, params);
    return params;
  };

  // 3. Rewrite.
  const activationType = bits === 8 ? TensorType.INT8 : TensorType.INT16;
  const quantOf = (params: QuantParams, quantizedDimension = 0): Quantization => ({
    min: null,
    max: null,
    scale: params.scale,
    zeroPoint: params.zeroPoint,
    quantizedDimension,
    detailsType: QuantizationDetails.NONE,
    details: null,
  });
  const producer = producers(subgraph);
  const twinPosition = new Map<number, number>(); // twins are written right after their source's producer
  const positionOf = (t: number) => (t < producer.length ? producer[t] : twinPosition.get(t) ?? -1);
  const quantizedTensor = new Map<number, number>(); // float tensor -> its integer twin
  const floatTensor = new Map<number, number>(); // integer tensor -> its float twin
  const constantCache = new Map<string, number>();
  const after = new Map<number, Operator[]>(); // conversions to emit after op o (-1: at the start)
  const emitAfter = (o: number, op: Operator) => {
    const list = after.get(o) ?? [];
    list.push(op);
    after.set(o, list);
    result.conversions++;
  };
  const conversionOp = (builtin: BuiltinOperator, input: number, output: number, version: number): Operator =>
    plainOperator(graph, builtin, [input], [output], version);
  const addTensor = (tensor: Tensor) => {
    subgraph.tensors.push(tensor);
    return subgraph.tensors.length - 1;
  };
  const homeIsQuantized = new Uint8Array(tensorCount);
  subgraph.operators.forEach((op, o) => {
    if (rules[o]) for (const t of op.outputs) homeIsQuantized[t] = 1;
  });
  if (options.io !== 'float' && s === 0) {
    // Integer I/O: an input feeding quantized ops is itself integer (float consumers dequantize it).
    for (const t of subgraph.inputs) if (isFloat(t) && rangeOf(t)) homeIsQuantized[t] = 1;
  }

  /** An integer version of activation tensor t, for quantized consumers. */
  const integerActivation = (t: number): number => {
    if (homeIsQuantized[t]) return t;
    const existing = quantizedTensor.get(t);
    if (existing !== undefined) return existing;
    const source = subgraph.tensors[t];
    const twin = addTensor(
      newTensor({
        name: `${source.name}_${bits === 8 ? 'int8' : 'int16'}`,
        type: activationType,
        shape: [...source.shape],
        shapeSignature: source.shapeSignature ? [...source.shapeSignature] : null,
        quantization: quantOf(activation(t)),
      }),
    );
    emitAfter(positionOf(t), conversionOp(BuiltinOperator.QUANTIZE, t, twin, bits === 8 ? 1 : 3));
    twinPosition.set(twin, positionOf(t));
    quantizedTensor.set(t, twin);
    return twin;
  };
  /** A float version of integer tensor t, for float consumers and float outputs. */
  const floatActivation = (t: number): number => {
    if (!homeIsQuantized[t]) return t;
    const existing = floatTensor.get(t);
    if (existing !== undefined) return existing;
    const source = subgraph.tensors[t];
    const twin = addTensor(
      newTensor({
        name: `${source.name}_float`,
        type: TensorType.FLOAT32,
        shape: [...source.shape],
        shapeSignature: source.shapeSignature ? [...source.shapeSignature] : null,
      }),
    );
    emitAfter(positionOf(t), conversionOp(BuiltinOperator.DEQUANTIZE, t, twin, 2));
    twinPosition.set(twin, positionOf(t));
    floatTensor.set(t, twin);
    return twin;
  };
  /** A quantized copy of a float constant, cached so shared weights stay shared. */
  const integerConstant = (t: number, kind: string, make: () => { tensor: Omit<Tensor, 'buffer'>; data: Uint8Array }): number => {
    const key = `${subgraph.tensors[t].buffer}:${kind}`;
    const cached = constantCache.get(key);
    if (cached !== undefined) return cached;
    const { tensor, data } = make();
    graph.buffers.push({ data });
    const index = addTensor({ ...tensor, buffer: graph.buffers.length - 1 });
    constantCache.set(key, index);
    return index;
  };
  const constantTensorBase = (t: number, type: TensorType, q: Quantization): Omit<Tensor, 'buffer'> => {
    const source = subgraph.tensors[t];
    return { ...newTensor({ name: source.name, type, shape: [...source.shape] }), quantization: q, hasRank: source.hasRank };
  };
  const activationConstant = (t: number): number => {
    const params = activation(t);
    return integerConstant(t, `act:${params.scale[0]}:${params.zeroPoint[0]}:${bits}`, () => {
      const values = constantAsFloat32(graph, s, t);
      const shape = subgraph.tensors[t].shape;
      const data = bits === 8 ? bytesOf(quantizeInt8(values, shape, params)) : bytesOf(quantizeInt16(values, shape, params));
      return { tensor: constantTensorBase(t, activationType, quantOf(params)), data };
    });
  };

  const weightParams = new Map<number, QuantParams>(); // op index -> its weight params
  const weightValues = new Map<number, { values: Float32Array; rounded: Float32Array; shape: number[] }>();
  subgraph.operators.forEach((op, o) => {
    const rule = rules[o];
    if (!rule) {
      // Float op: its inputs must be float.
      op.inputs = op.inputs.map((t) => (t >= 0 ? floatActivation(t) : t));
      return;
    }
    const builtin = builtinCodeOf(graph.operatorCodes[op.opcodeIndex]);
    const inputs = [...op.inputs];
    if (rule.weights) {
      const w = inputs[rule.weights.input];
      const axis = rule.weights.axis;
      const values = constantAsFloat32(graph, s, w);
      const shape = subgraph.tensors[w].shape;
      const perChannel =
        rule.weights.perChannel && options.perChannel && (builtin !== BuiltinOperator.FULLY_CONNECTED || perChannelPays(values, shape, axis));
      const custom = options.weightParams?.(values, shape, axis, perChannel) ?? null;
      const params = custom ?? symmetricWeightParams(values, shape, axis, perChannel);
      const channelwise = custom ? params.scale.length > 1 : perChannel;
      weightParams.set(o, params);
      const quantized = quantizeInt8(values, shape, params, true);
      const reference = options.referenceWeights?.get(subgraph.tensors[w].name);
      weightValues.set(o, { values: reference && reference.length === values.length ? reference : values, rounded: dequantizedWeights(quantized, shape, params), shape });
      inputs[rule.weights.input] = integerConstant(w, `w:${axis}:${perChannel}`, () => ({
        tensor: constantTensorBase(w, TensorType.INT8, quantOf(params, channelwise ? axis : 0)),
        data: bytesOf(quantized),
      }));
    }
    inputs.forEach((t, i) => {
      if (t < 0 || !isFloat(t) || (rule.weights && i === rule.weights.input)) return;
      if (rule.bias !== undefined && i === rule.bias) {
        const activationInput = builtin === BuiltinOperator.TRANSPOSE_CONV ? op.inputs[2] : op.inputs[0];
        const inputScale = activation(activationInput).scale[0];
        const w = weightParams.get(o)!;
        const biasBits = bits === 8 ? 32 : 64;
        let bias = constantAsFloat32(graph, s, t);
        const means = options.channelMeans?.get(rangeKey(s, activationInput));
        const weightsUsed = weightValues.get(o);
        let corrected = false;
        if (means && weightsUsed) {
          const better = correctBias(builtin, weightsUsed.values, weightsUsed.rounded, weightsUsed.shape, bias, means);
          if (better) {
            bias = better;
            corrected = true;
            result.correctedBiases++;
          }
        }
        inputs[i] = integerConstant(t, `b:${inputScale}:${w.scale.join(',')}:${biasBits}:${corrected ? o : ''}`, () => {
          const { data, params } = quantizeBias(bias, inputScale, w.scale, biasBits);
          return { tensor: constantTensorBase(t, biasBits === 32 ? TensorType.INT32 : TensorType.INT64, quantOf(params)), data: bytesOf(data) };
        });
        return;
      }
      inputs[i] = constant(t) ? activationConstant(t) : integerActivation(t);
    });
    op.inputs = inputs;
    for (const t of op.outputs) {
      const tensor = subgraph.tensors[t];
      tensor.type = activationType;
      tensor.quantization = quantOf(activation(t));
    }
    const version = bits === 8 ? rule.version?.int8 : rule.version?.int16;
    if (version !== undefined) {
      const code = graph.operatorCodes[op.opcodeIndex];
      op.opcodeIndex = opcodeIndex(graph, builtinCodeOf(code), Math.max(version, code.version), code.customCode);
    }
    result.quantizedOps++;
  });

  // I/O of the main subgraph (other subgraphs are called by ops and keep the float interface).
  const mainIo = s === 0 ? options.io : 'float';
  const oldInputs = [...subgraph.inputs];
  const oldOutputs = [...subgraph.outputs];
  subgraph.inputs = subgraph.inputs.map((t) => {
    if (!homeIsQuantized[t] || mainIo === 'float') return t;
    const tensor = subgraph.tensors[t];
    const params = activation(t);
    tensor.type = activationType;
    tensor.quantization = quantOf(params);
    if (mainIo === 'int8' || bits === 16) return t;
    // uint8 input: the graph takes uint8 (zero point + 128) and requantizes to int8 at once.
    const input = addTensor(
      newTensor({
        name: `${tensor.name}_uint8`,
        type: TensorType.UINT8,
        shape: [...tensor.shape],
        shapeSignature: tensor.shapeSignature ? [...tensor.shapeSignature] : null,
        quantization: quantOf({ scale: params.scale, zeroPoint: [params.zeroPoint[0] + 128], axis: 0 }),
      }),
    );
    emitAfter(-1, conversionOp(BuiltinOperator.QUANTIZE, input, t, 2));
    return input;
  });
  subgraph.outputs = subgraph.outputs.map((t) => {
    if (mainIo === 'float' || !isFloat(t) && !homeIsQuantized[t]) return floatActivation(t);
    const integer = homeIsQuantized[t] ? t : rangeOf(t) ? integerActivation(t) : t;
    if (integer === t && !homeIsQuantized[t]) return t;
    return mainIo === 'uint8' && bits === 8 ? uint8Output(integer, t) : integer;
  });
  function uint8Output(t: number, source: number): number {
    const params = activation(source);
    const out = addTensor(
      newTensor({
        name: `${subgraph.tensors[t].name}_uint8`,
        type: TensorType.UINT8,
        shape: [...subgraph.tensors[t].shape],
        shapeSignature: subgraph.tensors[t].shapeSignature ? [...subgraph.tensors[t].shapeSignature!] : null,
        quantization: quantOf({ scale: params.scale, zeroPoint: [params.zeroPoint[0] + 128], axis: 0 }),
      }),
    );
    emitAfter(positionOf(t), conversionOp(BuiltinOperator.QUANTIZE, t, out, 2));
    return out;
  }
  keepIoNames(subgraph, oldInputs, subgraph.inputs);
  keepIoNames(subgraph, oldOutputs, subgraph.outputs);
  retargetSignatures(graph, s, oldInputs, subgraph.inputs, oldOutputs, subgraph.outputs);

  // Emit ops in order with their conversions right after them.
  const ordered: Operator[] = [...(after.get(-1) ?? [])];
  subgraph.operators.forEach((op, o) => ordered.push(op, ...(after.get(o) ?? [])));
  subgraph.operators = ordered;
}

/**
 * The tensors at the model's edges keep the names users and signatures know them by; the
 * internal tensor they were converted from takes the suffixed name instead.
 */
function keepIoNames(subgraph: Subgraph, before: number[], now: number[]): void {
  before.forEach((old, i) => {
    const current = now[i];
    if (current === old) return;
    const outer = subgraph.tensors[current];
    const inner = subgraph.tensors[old];
    const suffix = outer.name.startsWith(inner.name) ? outer.name.slice(inner.name.length) : '_internal';
    outer.name = inner.name;
    inner.name = `${inner.name}${suffix}`;
  });
}

/** Signature defs name subgraph I/O by tensor index; point them at the rewritten I/O tensors. */
function retargetSignatures(graph: ModelGraph, s: number, oldInputs: number[], inputs: number[], oldOutputs: number[], outputs: number[]): void {
  const moved = new Map<number, number>();
  oldInputs.forEach((t, i) => moved.set(t, inputs[i]));
  oldOutputs.forEach((t, i) => moved.set(t, outputs[i]));
  for (const signature of graph.signatureDefs) {
    if (signature.subgraphIndex !== s) continue;
    for (const map of [...signature.inputs, ...signature.outputs]) map.tensorIndex = moved.get(map.tensorIndex) ?? map.tensorIndex;
  }
}
