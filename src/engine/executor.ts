/**
 * Runs a ModelGraph's subgraph with tfjs ops.
 *
 * Values are real numbers throughout: constants are dequantized once, and when the graph is quantized
 * the output of every integer tensor is fake-quantized to its own scale and zero point, so the same
 * executor runs a float model exactly and simulates an int8/int16 model. Hooks let training swap
 * constants for variables and fake-quantize activations of a float graph (QAT). Any batch size works:
 * dimension 0 of the inputs is free (when it is a batch: batched-forward.ts gives graphs without one,
 * such as audio_event's bare waveform, a batch axis first).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelGraph, Subgraph, Tensor } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { ActivationFunctionType, TensorType } from '../tflite/schema/generated/tflite_generated';
import { WorkbenchError } from '../errors';
import { constantValues, isQuantizedTensor, type ConstantValues } from './constants';
import { fakeQuantize, integerRange, type FakeQuantParams } from './fake-quant';
import type { KernelArgs } from './kernel';
import { KERNELS } from './kernels';

export interface ExecutorOptions {
  subgraph?: number;
  /** Fake-quantize the outputs of integer tensors, simulating a quantized model (default true). */
  simulateQuantization?: boolean;
  /**
   * Let kernels keep a constant weight in another summation order (FULLY_CONNECTED's transposed
   * weights, KernelArgs.cached; default true). False: every weight in the order trainable weights
   * use, for training's executors (student, frozen weights, distillation teacher), so training
   * computes what it did (training-unchanged.test.ts).
   */
  reorderConstants?: boolean;
}

export interface RunOptions {
  /** Tensor indices whose values are returned beside the outputs. */
  taps?: Iterable<number>;
  /** Values that replace constants, by tensor index (trainable weights). */
  weights?: ReadonlyMap<number, tf.Tensor>;
  /** Sees every computed tensor (graph inputs too) and returns what downstream ops read (QAT). */
  transform?: (tensorIndex: number, value: tf.Tensor) => tf.Tensor;
  /** Dispose intermediates once no later op reads them: inference only, gradients need them. */
  freeIntermediates?: boolean;
}

export interface RunResult {
  outputs: tf.Tensor[];
  taps: Map<number, tf.Tensor>;
}

/**
 * Ops whose integer kernel in LiteRT rounds its output half away from zero on the raw integers
 * instead of XNNPACK's half-to-even requantization: the int8/uint8 AVERAGE_POOL_2D (TFLite's own
 * kernel, (sum +- count / 2) / count; 2x2 pools hit ties on ~1 in 8 outputs).
 */
const HALF_AWAY_OUTPUTS = new Set(['AVERAGE_POOL_2D']);

/** Op names in a subgraph that the engine has no kernel for (empty when it can run it). */
export function unsupportedOps(graph: ModelGraph, subgraphIndex = 0): string[] {
  const missing = new Set<string>();
  for (const op of graph.subgraphs[subgraphIndex]?.operators ?? []) {
    const name = opName(graph, op);
    if (!KERNELS[name]) missing.add(name);
  }
  return [...missing].sort();
}

/** The fake-quantization a quantized tensor implies, or null for float tensors. */
export function tensorFakeQuant(tensor: Tensor): FakeQuantParams | null {
  if (!isQuantizedTensor(tensor)) return null;
  const q = tensor.quantization!;
  const type = tensor.type === TensorType.INT8 ? 'int8' : tensor.type === TensorType.UINT8 ? 'uint8' : tensor.type === TensorType.INT16 ? 'int16' : null;
  if (!type) return null;
  return { scale: q.scale!, zeroPoint: q.zeroPoint ?? [0], axis: q.quantizedDimension, ...integerRange(type) };
}

export class GraphExecutor {
  readonly subgraph: Subgraph;
  readonly inputIndices: readonly number[];
  readonly outputIndices: readonly number[];
  private readonly constants = new Map<number, tf.Tensor>();
  /** Tensors kernels derive from constants (KernelArgs.derived), by `${tensor index}:${key}`. */
  private readonly derivedConstants = new Map<string, tf.Tensor>();
  private readonly constantCache = new Map<number, ConstantValues | null>();
  private readonly lastUse: Int32Array;
  private readonly simulate: boolean;
  private readonly reorder: boolean;

  constructor(
    readonly graph: ModelGraph,
    options: ExecutorOptions = {},
  ) {
    const index = options.subgraph ?? 0;
    const subgraph = graph.subgraphs[index];
    if (!subgraph) throw new WorkbenchError('malformed', `the model has no subgraph ${index}`);
    const missing = unsupportedOps(graph, index);
    if (missing.length) {
      throw new WorkbenchError('unsupported', `the engine has no kernel for ${missing.join(', ')}; it cannot run or train this model`);
    }
    for (const op of subgraph.operators) {
      for (const t of op.inputs) {
        const tensor = subgraph.tensors[t];
        if (tensor?.isVariable) throw new WorkbenchError('unsupported', `the engine cannot run variable (state) tensors such as "${tensor.name}"`);
      }
    }
    this.subgraph = subgraph;
    this.inputIndices = subgraph.inputs;
    this.outputIndices = subgraph.outputs;
    this.simulate = options.simulateQuantization ?? true;
    this.reorder = options.reorderConstants ?? true;
    this.lastUse = new Int32Array(subgraph.tensors.length).fill(-1);
    subgraph.operators.forEach((op, i) => op.inputs.forEach((t) => t >= 0 && (this.lastUse[t] = i)));
  }

  /** The file's value of a constant tensor (cached), or null when the tensor is computed. */
  constantOf(tensorIndex: number): ConstantValues | null {
    if (!this.constantCache.has(tensorIndex)) {
      const tensor = this.subgraph.tensors[tensorIndex];
      this.constantCache.set(tensorIndex, tensor ? constantValues(this.graph, tensor) : null);
    }
    return this.constantCache.get(tensorIndex)!;
  }

  private constantTensor(tensorIndex: number): tf.Tensor | null {
    let value = this.constants.get(tensorIndex);
    if (value) return value;
    const c = this.constantOf(tensorIndex);
    if (!c) return null;
    const shape = this.subgraph.tensors[tensorIndex].shape;
    value = tf.keep(c.dtype === 'bool' ? tf.tensor(c.values, shape, 'bool') : tf.tensor(c.values, shape, c.dtype));
    this.constants.set(tensorIndex, value);
    return value;
  }

  /** Runs the subgraph on real-valued inputs (one per subgraph input, any batch). */
  run(inputs: readonly tf.Tensor[], options: RunOptions = {}): RunResult {
    const { subgraph } = this;
    if (inputs.length !== subgraph.inputs.length) {
      throw new WorkbenchError('bad-input', `the model takes ${subgraph.inputs.length} input(s), got ${inputs.length}`);
    }
    const values = new Map<number, tf.Tensor>();
    const keep = new Set<number>([...subgraph.outputs, ...(options.taps ?? [])]);
    const firstStatic = subgraph.tensors[subgraph.inputs[0]]?.shape ?? [];
    const batched = inputs.length > 0 && firstStatic.length > 0 && inputs[0].shape[0] !== firstStatic[0];

    const store = (tensorIndex: number, value: tf.Tensor, producer?: string) => {
      let v = value;
      const fq = this.simulate ? tensorFakeQuant(subgraph.tensors[tensorIndex]) : null;
      if (fq && v.dtype === 'float32') v = fakeQuantize(v, producer && HALF_AWAY_OUTPUTS.has(producer) ? { ...fq, rounding: 'half-away' } : fq);
      if (options.transform) v = options.transform(tensorIndex, v);
      values.set(tensorIndex, v);
    };
    subgraph.inputs.forEach((t, i) => store(t, inputs[i].dtype === 'float32' || !this.isFloatTensor(t) ? inputs[i] : tf.cast(inputs[i], 'float32')));

    const read = (t: number): tf.Tensor | null => {
      if (t < 0) return null;
      const override = options.weights?.get(t);
      if (override) return override;
      const v = values.get(t) ?? this.constantTensor(t);
      if (!v) throw new WorkbenchError('malformed', `tensor ${t} ("${subgraph.tensors[t]?.name}") is read before it is computed`);
      return v;
    };

    subgraph.operators.forEach((op, opIndex) => {
      const name = opName(this.graph, op);
      const inputs = op.inputs.map(read);
      const args: KernelArgs = {
        opName: name,
        op,
        options: op.builtinOptions,
        inputs,
        inputTensors: op.inputs.map((t) => (t >= 0 ? subgraph.tensors[t] : null)),
        outputTensors: op.outputs.map((t) => subgraph.tensors[t]),
        constant: (i) => (op.inputs[i] >= 0 ? this.constantOf(op.inputs[i]) : null),
        derived: (i, key, make) => this.derived(op.inputs[i], key, make, options.weights) ?? make(inputs[i]!),
        cached: (i, key, make) => (this.reorder ? this.derived(op.inputs[i], key, make, options.weights) : null),
        batched,
        simulateQuantization: this.simulate,
      };
      let result: tf.Tensor | tf.Tensor[];
      try {
        result = KERNELS[name](args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        throw new WorkbenchError('runtime', `op ${opIndex} (${name}) failed in the engine: ${message}`, opIndex);
      }
      const outs = Array.isArray(result) ? result : [result];
      // LiteRT's CONCATENATION ignores the fused activation its options can carry (measured).
      const activation = name === 'CONCATENATION' ? undefined : (op.builtinOptions as { fusedActivationFunction?: ActivationFunctionType } | null)?.fusedActivationFunction;
      op.outputs.forEach((t, i) => store(t, applyActivation(outs[i], activation), name));
      if (options.freeIntermediates) {
        for (const t of op.inputs) {
          if (t >= 0 && this.lastUse[t] === opIndex && !keep.has(t) && values.has(t)) {
            const v = values.get(t)!;
            values.delete(t);
            // The caller owns the inputs; pass-through kernels (DEQUANTIZE, QUANTIZE without
            // simulation) hand the same tensor object on, so it may still be live under another index.
            if (!inputs.includes(v) && ![...values.values()].includes(v)) v.dispose();
          }
        }
      }
    });

    const taps = new Map<number, tf.Tensor>();
    for (const t of options.taps ?? []) {
      const v = values.get(t);
      if (v) taps.set(t, v);
    }
    return { outputs: subgraph.outputs.map((t) => read(t)!), taps };
  }

  /** A tensor made from constant `t` and kept, or null when `t` is not a constant in this run. */
  private derived(t: number, key: string, make: (value: tf.Tensor) => tf.Tensor, overrides: RunOptions['weights']): tf.Tensor | null {
    const constant = t < 0 || overrides?.has(t) ? null : this.constantTensor(t);
    if (!constant) return null;
    const id = `${t}:${key}`;
    let value = this.derivedConstants.get(id);
    if (!value) {
      value = tf.keep(tf.tidy(() => make(constant)));
      this.derivedConstants.set(id, value);
    }
    return value;
  }

  private isFloatTensor(t: number): boolean {
    const type = this.subgraph.tensors[t]?.type;
    return type === TensorType.FLOAT32 || type === TensorType.FLOAT16 || isQuantizedTensor(this.subgraph.tensors[t]);
  }

  dispose(): void {
    for (const v of this.constants.values()) v.dispose();
    this.constants.clear();
    for (const v of this.derivedConstants.values()) v.dispose();
    this.derivedConstants.clear();
  }
}

/** The activation TFLite fuses into an op's output. */
export function applyActivation(x: tf.Tensor, activation: ActivationFunctionType | undefined): tf.Tensor {
  switch (activation) {
    case undefined:
    case ActivationFunctionType.NONE:
      return x;
    case ActivationFunctionType.RELU:
      return tf.relu(x);
    case ActivationFunctionType.RELU6:
      return tf.relu6(x);
    case ActivationFunctionType.RELU_N1_TO_1:
      return tf.clipByValue(x, -1, 1);
    case ActivationFunctionType.TANH:
      return tf.tanh(x);
    case ActivationFunctionType.SIGN_BIT:
      return tf.sign(x);
  }
  return x;
}
