/**
 * Activation taps: a copy of a model in which intermediate tensors are also subgraph outputs, so
 * that one LiteRT run returns every intermediate value (calibration, per-layer error).
 *
 * How LiteRT.js reports outputs: it runs *signatures*. A model with signature defs exposes the
 * def's outputs (the names of its TensorMap entries, in the def's order); a model without them gets
 * one default signature over subgraph 0 whose outputs are `subgraph.outputs` in order, named by
 * tensor name. So a tap is appended to `subgraph.outputs` and, when signature defs run this
 * subgraph, to each of those defs too, under a name no other output of the def has. The original
 * outputs keep their positions (first), and `loadTapped` finds everything again by those names.
 *
 * Exposing a tensor does not change what LiteRT computes (XNNPACK only fuses work whose
 * intermediate is not needed elsewhere; an output is). The tests check that the original outputs of
 * tapped models are bit-identical to the untapped ones, on float, int8 and uint8 models.
 *
 * Packing: every LiteRT output costs a fixed amount per run (an output buffer, a handful of wasm
 * calls, a copy out of the heap), which dominates small models: with separate taps mnist_conv_fc
 * (5 extra outputs) runs 2.1x slower than untapped and vww_96 (30) 2.3x; packed, 1.3x and 1.2x
 * (medians, Node 20, 2-core dev machine). With `pack`, the taps of one element type are flattened
 * (RESHAPE to 1-D) and joined (CONCATENATION, axis 0) into a single extra output; each tap is then
 * a slice [offset, offset + length) of it. Both ops only copy bytes: float tensors
 * as they are; quantized ones through flat tensors that all carry the same dummy parameters (scale
 * 1, zero point 0), so neither op requantizes. The tests check the packed slices are bit-identical
 * to separate taps. Tensors without a fully known static shape are not packed (a data-dependent
 * shape would break the RESHAPE); `loadTapped` falls back to separate taps if LiteRT rejects a
 * packed model.
 */
import { WorkbenchError } from '../errors';
import { appendFlatten, cloneGraph, newOperator, newTensor, opcodeIndex } from '../tflite/edit';
import type { ModelGraph, Subgraph, Tensor } from '../tflite/graph';
import { builtinCodeOf } from '../tflite/ops';
import { isConstant, producers, staticShape } from '../tflite/queries';
import {
  BuiltinOperator,
  BuiltinOptions,
  ConcatenationOptionsT,
  QuantizationDetails,
  TensorType,
} from '../tflite/schema/generated/tflite_generated';
import { loadGraph } from './load';
import type { LoadedModel, RuntimeData, RuntimeTensor, RuntimeTensorInfo } from './types';

export interface Tap {
  /** Tensor index in the subgraph (the same in the original graph and the tapped copy). */
  tensorIndex: number;
  /** The tensor's name in the file. */
  name: string;
  /** Position in the tapped subgraph's `outputs` of the output holding the values. */
  outputPosition: number;
  /** The name LiteRT reports for that output (the signature output name, else the tensor name). */
  outputName: string;
  /** Where the values start in that output (0 unless packed). */
  offset: number;
  /** Number of values (the tensor's static element count). */
  length: number;
  /** True when the values are a slice of a packed output. */
  packed: boolean;
}

export interface TappedModel {
  graph: ModelGraph;
  /** One per tapped tensor, in tensor-index order. */
  taps: Tap[];
  /** How many outputs the subgraph had before the taps; they keep their positions. */
  originalOutputs: number;
}

/** Which tensors to tap; gets the subgraph's tensor index, the tensor, the subgraph and the graph. */
export type TapSelector = (tensorIndex: number, tensor: Tensor, subgraph: Subgraph, graph: ModelGraph) => boolean;

export interface TapOptions {
  /** Join the taps of each element type into one output (see above). Default false. */
  pack?: boolean;
  /**
   * Make the taps the copy's only outputs: the model's own outputs are dropped (a selected one is
   * tapped like any other tensor), so a run copies one output fewer, and ops that only fed an
   * unselected output no longer run. For callers that only want the taps (calibration). Ignored
   * when nothing is selected. Default false.
   */
  tapsOnly?: boolean;
}

const QUANTIZED_ACTIVATION_TYPES = new Set([TensorType.INT8, TensorType.INT16, TensorType.UINT8]);
const PACKABLE_TYPES = new Set([TensorType.FLOAT32, TensorType.INT8, TensorType.INT16, TensorType.UINT8]);

/**
 * The default selection: activations, i.e. tensors an operator writes at run time that are
 * - FLOAT32, or INT8 / INT16 / UINT8 with quantization parameters (scale), and
 * - not constants, not the subgraph's inputs (the caller has those values already), not variable
 *   (state) tensors, and not weights in disguise: the output of a DEQUANTIZE whose input is a
 *   constant (float16 and weight-only int8 models store weights that way; XNNPACK folds those
 *   DEQUANTIZEs into the consumer's weights, and the quantizer folds them into constants).
 */
export function isActivation(graph: ModelGraph, subgraph: Subgraph, tensorIndex: number, producer: Int32Array): boolean {
  const tensor = subgraph.tensors[tensorIndex];
  if (!tensor || tensor.isVariable || isConstant(graph, tensor)) return false;
  const float = tensor.type === TensorType.FLOAT32;
  const quantized = QUANTIZED_ACTIVATION_TYPES.has(tensor.type) && (tensor.quantization?.scale?.length ?? 0) > 0;
  if (!float && !quantized) return false;
  const o = producer[tensorIndex];
  if (o < 0) return false; // subgraph input, or a tensor nothing writes
  const op = subgraph.operators[o];
  const code = graph.operatorCodes[op.opcodeIndex];
  if (code && builtinCodeOf(code) === BuiltinOperator.DEQUANTIZE) {
    const input = op.inputs[0];
    if (input !== undefined && input >= 0 && isConstant(graph, subgraph.tensors[input])) return false;
  }
  return true;
}

/** The default selector of withTaps (isActivation), for composing with other conditions. */
export function activationSelector(graph: ModelGraph, subgraphIndex = 0): TapSelector {
  const producer = producers(graph.subgraphs[subgraphIndex]);
  return (t, _tensor, subgraph, g) => isActivation(g, subgraph, t, producer);
}

/**
 * A copy of `graph` whose subgraph `subgraphIndex` also outputs every selected tensor (default:
 * every activation, see isActivation). The input graph is not changed; tensor indices of existing
 * tensors stay the same, so taps name tensors of the original. Subgraph inputs are never tapped
 * (LiteRT cannot hand an input back as an output of the same signature); tensors that already are
 * outputs are reported at their own position and not added again.
 */
export function withTaps(graph: ModelGraph, subgraphIndex = 0, select?: TapSelector, options: TapOptions = {}): TappedModel {
  const source = graph.subgraphs[subgraphIndex];
  if (!source) throw new WorkbenchError('bad-input', `The model has no subgraph ${subgraphIndex} (it has ${graph.subgraphs.length}).`);
  const chosen: number[] = [];
  const inputs = new Set(source.inputs);
  const selector = select ?? activationSelector(graph, subgraphIndex);
  source.tensors.forEach((tensor, t) => {
    if (!inputs.has(t) && selector(t, tensor, source, graph)) chosen.push(t);
  });

  const tapped = cloneGraph(graph);
  const subgraph = tapped.subgraphs[subgraphIndex];
  const signatures = tapped.signatureDefs.filter((def) => def.subgraphIndex === subgraphIndex);
  if (options.tapsOnly && chosen.length) {
    subgraph.outputs = [];
    for (const def of signatures) def.outputs = [];
  }
  const originalOutputs = subgraph.outputs.length;
  const taken = signatures.map((def) => new Set(def.outputs.map((m) => m.name)));
  const outputName = (position: number): string => {
    const t = subgraph.outputs[position];
    return signatures[0]?.outputs.find((m) => m.tensorIndex === t)?.name ?? subgraph.tensors[t]?.name ?? '';
  };
  /** Appends tensor t to the subgraph outputs (and signature outputs); returns its position. */
  const addOutput = (t: number, preferredName: string): number => {
    subgraph.outputs.push(t);
    if (signatures.length) {
      const name = uniqueName(preferredName || `tensor_${t}`, t, taken);
      signatures.forEach((def, i) => {
        def.outputs.push({ name, tensorIndex: t });
        taken[i].add(name);
      });
    }
    return subgraph.outputs.length - 1;
  };

  const taps: Tap[] = [];
  const groups = new Map<TensorType, Tap[]>();
  for (const t of chosen) {
    const tensor = subgraph.tensors[t];
    const length = staticElementCount(tensor);
    const existing = subgraph.outputs.indexOf(t);
    const tap: Tap = { tensorIndex: t, name: tensor.name, outputPosition: existing, outputName: '', offset: 0, length: length ?? -1, packed: false };
    taps.push(tap);
    if (existing >= 0) continue;
    if (options.pack && length !== null && length > 0 && PACKABLE_TYPES.has(tensor.type)) {
      const group = groups.get(tensor.type) ?? [];
      group.push(tap);
      groups.set(tensor.type, group);
      continue;
    }
    tap.outputPosition = addOutput(t, tensor.name);
  }
  for (const [type, group] of groups) {
    if (group.length < 2) {
      for (const tap of group) tap.outputPosition = addOutput(tap.tensorIndex, tap.name);
      continue;
    }
    const packed = packGroup(tapped, subgraph, type, group);
    const position = addOutput(packed, `taps_${TensorType[type].toLowerCase()}`);
    for (const tap of group) tap.outputPosition = position;
  }
  for (const tap of taps) tap.outputName = outputName(tap.outputPosition);
  return { graph: tapped, taps, originalOutputs };
}

/** Element count of a tensor whose shape is fully static and known; null otherwise. */
function staticElementCount(tensor: Tensor): number | null {
  return staticShape(tensor)?.reduce((n, d) => n * d, 1) ?? null;
}

/** RESHAPE each tap to 1-D and CONCATENATION them; returns the packed tensor; sets offsets. */
function packGroup(graph: ModelGraph, subgraph: Subgraph, type: TensorType, group: Tap[]): number {
  const quantized = type !== TensorType.FLOAT32;
  const dummy = () =>
    quantized
      ? { min: null, max: null, scale: [1], zeroPoint: [0], quantizedDimension: 0, detailsType: QuantizationDetails.NONE, details: null }
      : null;
  const concat = opcodeIndex(graph, BuiltinOperator.CONCATENATION, type === TensorType.FLOAT32 ? 1 : type === TensorType.INT16 ? 3 : 2);
  const flat: number[] = [];
  let offset = 0;
  for (const tap of group) {
    flat.push(appendFlatten(graph, subgraph, tap.tensorIndex, tap.length, `${tap.name}/tap`, { type, quantization: dummy() }));
    tap.offset = offset;
    tap.packed = true;
    offset += tap.length;
  }
  subgraph.tensors.push(newTensor({ name: `taps_${TensorType[type].toLowerCase()}`, type, shape: [offset], quantization: dummy() }));
  const packed = subgraph.tensors.length - 1;
  subgraph.operators.push(newOperator(concat, flat, [packed], BuiltinOptions.ConcatenationOptions, new ConcatenationOptionsT(0)));
  return packed;
}

function uniqueName(base: string, tensorIndex: number, taken: Set<string>[]): string {
  const free = (name: string) => taken.every((set) => !set.has(name));
  if (free(base)) return base;
  let name = `${base} (tensor ${tensorIndex})`;
  for (let k = 2; !free(name); k++) name = `${base} (tensor ${tensorIndex}, ${k})`;
  return name;
}

/**
 * The index in LiteRT's outputs of each of `names` (by name when LiteRT's names are unique, else
 * the given positions, which is how a model without signature defs lists subgraph.outputs).
 */
function outputIndices(model: Pick<LoadedModel, 'outputs'>, names: string[], positions: number[], what: string): Int32Array {
  const reported = model.outputs.map((o) => o.name);
  const unique = new Set(reported).size === reported.length;
  const byName = new Map(reported.map((n, i) => [n, i]));
  return Int32Array.from(names, (name, i) => {
    const index = unique ? byName.get(name) : positions[i];
    if (index === undefined || index < 0 || index >= reported.length) {
      throw new WorkbenchError('runtime', `LiteRT did not return the ${what} '${name}'.`);
    }
    return index;
  });
}

/** For a loaded tapped model, the index in `run()`'s result of the output holding each tap. */
export function tapOutputIndices(model: Pick<LoadedModel, 'outputs'>, tapped: Pick<TappedModel, 'taps'>): Int32Array {
  return outputIndices(
    model,
    tapped.taps.map((t) => t.outputName),
    tapped.taps.map((t) => t.outputPosition),
    'tapped tensor output',
  );
}

/**
 * The subgraph tensor behind each of LiteRT's inputs (in `model.inputs` order): by the signature
 * def's name map when the model has one, else by tensor name, else by position.
 */
export function inputTensorIndices(graph: ModelGraph, model: Pick<LoadedModel, 'inputs' | 'signature'>, subgraphIndex = 0): number[] {
  const subgraph = graph.subgraphs[subgraphIndex];
  const def =
    graph.signatureDefs.find((d) => d.signatureKey === model.signature && d.subgraphIndex === subgraphIndex) ??
    graph.signatureDefs.find((d) => d.subgraphIndex === subgraphIndex);
  return model.inputs.map((info, i) => {
    const mapped = def?.inputs.find((m) => m.name === info.name);
    if (mapped) return mapped.tensorIndex;
    const named = subgraph.inputs.find((t) => subgraph.tensors[t]?.name === info.name);
    return named ?? subgraph.inputs[i];
  });
}

// ---------------------------------------------------------------------------------------------
// Running a tapped model

export interface TappedRun {
  /** The model's own outputs, in the order the untapped model reports them (none with tapsOnly). */
  outputs: RuntimeTensor[];
  /** One array per tap (a view into a packed output when packed), raw (not dequantized). */
  values: RuntimeData[];
}

export interface TappedRunner {
  /** The taps, in tensor-index order; `values` of a run follow this order. */
  taps: Tap[];
  /** LiteRT's description of the model's own inputs and outputs (as the untapped model has them). */
  inputs: RuntimeTensorInfo[];
  outputs: RuntimeTensorInfo[];
  /** The signature run. */
  signature: string;
  /** Whether the taps are packed (false after a fallback). */
  packed: boolean;
  run(inputs: RuntimeData[]): Promise<TappedRun>;
  delete(): void;
}

export interface LoadTappedOptions extends TapOptions {
  subgraphIndex?: number;
  select?: TapSelector;
  /** Signature key to run; default: the first signature of the subgraph (LiteRT's default). */
  signature?: string;
}

/**
 * Loads `graph` with taps into LiteRT. With `pack` (the default here), taps are packed; if LiteRT
 * rejects the packed model at load or at the first run, the model is loaded again with separate
 * taps and the run retried.
 */
export async function loadTapped(graph: ModelGraph, options: LoadTappedOptions = {}): Promise<TappedRunner> {
  const subgraphIndex = options.subgraphIndex ?? 0;
  const pack = options.pack ?? true;
  const signature = options.signature ?? graph.signatureDefs.find((d) => d.subgraphIndex === subgraphIndex)?.signatureKey;
  const def = graph.signatureDefs.find((d) => d.signatureKey === signature);
  const subgraph = graph.subgraphs[subgraphIndex];
  if (!subgraph) throw new WorkbenchError('bad-input', `The model has no subgraph ${subgraphIndex}.`);
  // The model's own outputs, by the names LiteRT reports them under.
  // With tapsOnly no own outputs are reported (withTaps keeps them only when nothing is selected).
  const ownNames = options.tapsOnly ? [] : def ? def.outputs.map((m) => m.name) : subgraph.outputs.map((t) => subgraph.tensors[t]?.name ?? '');
  const ownPositions = options.tapsOnly ? [] : def ? def.outputs.map((m) => subgraph.outputs.indexOf(m.tensorIndex)) : subgraph.outputs.map((_, i) => i);

  const load = async (packed: boolean) => {
    const tapped = withTaps(graph, subgraphIndex, options.select, { pack: packed, tapsOnly: options.tapsOnly });
    const model = await loadGraph(tapped.graph, signature ? { signature } : {});
    try {
      return { model, tapped, packed, tapIndex: tapOutputIndices(model, tapped), ownIndex: outputIndices(model, ownNames, ownPositions, 'output') };
    } catch (error) {
      model.delete();
      throw error;
    }
  };
  let state: Awaited<ReturnType<typeof load>>;
  try {
    state = await load(pack);
  } catch (error) {
    if (!pack) throw error;
    state = await load(false);
  }
  let ranOnce = false;

  const runner: TappedRunner = {
    taps: state.tapped.taps,
    inputs: state.model.inputs,
    outputs: Array.from(state.ownIndex, (i) => state.model.outputs[i]),
    signature: state.model.signature,
    packed: state.packed,
    async run(inputs) {
      let results: RuntimeTensor[];
      try {
        results = await state.model.run(inputs);
      } catch (error) {
        if (ranOnce || !state.packed || (error instanceof WorkbenchError && error.code === 'bad-input')) throw error;
        // A packed model LiteRT loads but cannot run (e.g. a data-dependent shape): go separate.
        state.model.delete();
        state = await load(false);
        runner.taps = state.tapped.taps;
        runner.packed = false;
        results = await state.model.run(inputs);
      }
      ranOnce = true;
      const values = state.tapped.taps.map((tap, k) => {
        const data = results[state.tapIndex[k]].data;
        return tap.packed ? (data.subarray(tap.offset, tap.offset + tap.length) as RuntimeData) : data;
      });
      return { outputs: Array.from(state.ownIndex, (i) => results[i]), values };
    },
    delete() {
      state.model.delete();
    },
  };
  return runner;
}
