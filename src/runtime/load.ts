/**
 * The one wrapper over LiteRT.js (`@litertjs/core`): the runtime every variant is judged in.
 *
 * Runs in Node (tests, CLI; see node-shim.ts) and in the browser (a Web Worker or the page), always
 * on the WASM (XNNPACK) CPU path. `loadModel` takes .tflite bytes, applies the fixes LiteRT.js needs
 * (prepare.ts) to a copy, and gives back a model that runs on plain typed arrays. Every call into
 * LiteRT runs one at a time with its output captured (capture.ts), so a failure names its cause.
 */
import { loadAndCompile, Tensor, type CompiledModel, type SignatureRunner, type TensorDetails } from '@litertjs/core';
import { WorkbenchError } from '../errors';
import type { ModelGraph, Subgraph, Tensor as GraphTensor } from '../tflite/graph';
import { readModel } from '../tflite/read';
import { elementCount } from '../tflite/shape';
import { holdWeightCopy } from '../tflite/weight-ledger';
import { writeModel } from '../tflite/write';
import { errorText, exclusive, type Captured, failureCause, runtimeError, SILENT_RUN_FAILURES, VAGUE_ERRORS, warningLines } from './capture';
import { compileInHeap } from './compile-in-heap';
import { prepareForRuntime, runtimeBlockers } from './prepare';
import { initRuntime } from './start';
import { TYPED_ARRAYS, type LoadedModel, type RuntimeData, type RuntimeDType, type RuntimeTensor, type RuntimeTensorInfo } from './types';

export interface LoadOptions {
  /** Signature key to run; default: the model's first signature. */
  signature?: string;
  /** Skip the checks and fixes of prepare.ts and hand LiteRT the bytes exactly as given. */
  asIs?: boolean;
}

/**
 * Loads .tflite bytes into LiteRT (WASM CPU). Models LiteRT.js cannot run fail with code
 * 'unsupported' and the reason; other failures with 'runtime' and LiteRT's own words.
 */
export async function loadModel(bytes: Uint8Array, options: LoadOptions = {}): Promise<LoadedModel> {
  if (!bytes.length) throw new WorkbenchError('runtime', 'LiteRT could not load the model: the file is empty (0 bytes)');

  let graph: ModelGraph | null = null;
  let readProblem: string | null = null;
  let writeProblem: string | null = null;
  if (!options.asIs) {
    try {
      graph = readModel(bytes);
    } catch (error) {
      readProblem = errorText(error).replace(/\.$/, '');
    }
  }

  let evaluated = bytes;
  let changes: string[] = [];
  if (graph) {
    const blockers = runtimeBlockers(graph);
    if (blockers.length) throw new WorkbenchError('unsupported', `LiteRT.js cannot run this model: ${blockers.join('; ')}`);
    const prepared = prepareForRuntime(graph);
    if (prepared.changes.length) {
      try {
        evaluated = writeModel(prepared.graph);
        graph = prepared.graph;
        changes = prepared.changes;
      } catch (error) {
        writeProblem = errorText(error).replace(/\.$/, '');
      }
    }
  }

  await initRuntime();
  const loaded = await exclusive(() => loadAndCompile(evaluated, { accelerator: 'wasm' }));
  return finishLoad(loaded, evaluated.length, graph, options, changes, { readProblem, writeProblem });
}

/**
 * loadModel for a graph in memory: its runtime fixes applied to it, and the file written straight
 * into LiteRT's heap (compile-in-heap.ts), never as JS bytes: one copy of the weights less while it
 * loads. The same file as loadModel(writeModel(graph)) reaches LiteRT.
 */
export async function loadGraph(source: ModelGraph, options: Omit<LoadOptions, 'asIs'> = {}): Promise<LoadedModel> {
  const blockers = runtimeBlockers(source);
  if (blockers.length) throw new WorkbenchError('unsupported', `LiteRT.js cannot run this model: ${blockers.join('; ')}`);
  const prepared = prepareForRuntime(source);
  await initRuntime();
  let size = 0;
  const loaded = await exclusive(async () => {
    const compiled = await compileInHeap(prepared.graph);
    size = compiled.size;
    return compiled.model;
  });
  // The fixed graph describes the file LiteRT holds (signature lookups, quantization of I/O).
  return finishLoad(loaded, size, prepared.graph, options, prepared.changes, { readProblem: null, writeProblem: null });
}

function finishLoad(
  loaded: Captured<CompiledModel>,
  size: number,
  graph: ModelGraph | null,
  options: LoadOptions,
  changes: string[],
  { readProblem, writeProblem }: { readProblem: string | null; writeProblem: string | null },
): LoadedModel {
  if (loaded.failed) {
    const cause = failureCause(loaded);
    // LiteRT only says "Failed to load model from buffer" for a broken file; our reader says why.
    if (readProblem && VAGUE_ERRORS.some((re) => re.test(cause))) throw runtimeError('load the model', `${readProblem} (LiteRT: ${cause})`);
    if (readProblem) throw runtimeError('load the model', `${cause} (and the workbench could not read the file: ${readProblem})`);
    if (writeProblem) throw runtimeError('load the model', `${cause} (tried as given: the fixed copy could not be written: ${writeProblem})`);
    throw runtimeError('load the model', cause);
  }
  const compiled = loaded.value!;
  // LiteRT copied the bytes into its wasm heap (and keeps them while the model lives).
  const release = holdWeightCopy('LiteRT heap', size, 'LiteRT load');
  const warnings = warningLines(loaded.lines);
  if (readProblem) warnings.unshift(`evaluated as given, without the runtime fixes, because the workbench could not read the file: ${readProblem}`);
  if (writeProblem) warnings.unshift(`evaluated as given, without the runtime fixes, because the fixed copy could not be written: ${writeProblem}`);

  try {
    return wrapModel(compiled, graph, options, changes, warnings, release);
  } catch (error) {
    release();
    compiled.delete();
    throw error;
  }
}

function wrapModel(
  compiled: CompiledModel,
  graph: ModelGraph | null,
  options: LoadOptions,
  changes: string[],
  warnings: string[],
  release: () => void,
): LoadedModel {
  const signatures = Object.keys(compiled.signatures);
  const key = options.signature ?? compiled.key;
  const runner: SignatureRunner | undefined = compiled.signatures[key];
  if (!runner) {
    throw new WorkbenchError('bad-input', `The model has no signature '${key}' (it has ${signatures.map((s) => `'${s}'`).join(', ')}).`);
  }
  const ioTensors = graph ? signatureTensors(graph, key) : null;
  const inputs = runner.getInputDetails().map((d, i) => tensorInfo(d, ioTensors?.inputs(d.name, i) ?? null));
  const outputs = runner.getOutputDetails().map((d, i) => tensorInfo(d, ioTensors?.outputs(d.name, i) ?? null));
  let deleted = false;

  async function run(data: RuntimeData[]): Promise<RuntimeTensor[]> {
    if (deleted) throw new WorkbenchError('runtime', 'LiteRT could not run the model: it was already deleted');
    checkInputs(inputs, data);
    const ran = await exclusive(async () => {
      const tensors: Tensor[] = [];
      try {
        // LiteRT's typings predate our int8/int16 patch; its table accepts them at run time.
        for (let i = 0; i < data.length; i++) tensors.push(new Tensor(data[i] as Float32Array, inputs[i].shape));
        const results = await runner!.run(tensors);
        try {
          return results.map((tensor, i) => readOutput(tensor, outputs[i]));
        } finally {
          for (const tensor of results) tensor.delete();
        }
      } finally {
        for (const tensor of tensors) tensor.delete();
      }
    });
    if (ran.failed) throw runtimeError('run the model', failureCause(ran));
    const silent = ran.lines.filter((line) => SILENT_RUN_FAILURES.some((re) => re.test(line)));
    if (silent.length) throw runtimeError('run the model', `${[...new Set(silent.map((l) => l.trim()))].join('; ')} (LiteRT did not throw; its outputs would be garbage)`);
    // Output is captured for the sake of failures; on success nothing LiteRT said is swallowed.
    for (const line of warningLines(ran.lines)) console.warn(`[LiteRT] ${line}`);
    return ran.value!;
  }

  return {
    inputs,
    outputs,
    signature: key,
    signatures,
    changes,
    warnings,
    run,
    delete() {
      if (deleted) return;
      deleted = true;
      compiled.delete();
      release();
    },
  };
}

function tensorInfo(details: TensorDetails, tensor: GraphTensor | null): RuntimeTensorInfo {
  const q = tensor?.quantization;
  const perTensor = q && q.scale?.length === 1 && q.scale[0] !== 0;
  return {
    name: details.name,
    dtype: details.dtype as RuntimeDType,
    shape: Array.from(details.shape, (d) => (d < 0 ? 1 : d)),
    quantization: perTensor ? { scale: q.scale![0], zeroPoint: q.zeroPoint?.[0] ?? 0 } : null,
  };
}

/** Finds the file's tensors behind a LiteRT signature's inputs and outputs (by name, else position). */
function signatureTensors(graph: ModelGraph, key: string) {
  const def = graph.signatureDefs.find((d) => d.signatureKey === key) ?? (graph.signatureDefs.length === 1 ? graph.signatureDefs[0] : undefined);
  const subgraph: Subgraph | undefined = graph.subgraphs[def?.subgraphIndex ?? 0];
  const lookup = (maps: { name: string; tensorIndex: number }[] | undefined, indices: number[]) => (name: string, position: number) => {
    if (!subgraph) return null;
    const mapped = maps?.find((m) => m.name === name);
    if (mapped) return subgraph.tensors[mapped.tensorIndex] ?? null;
    const named = indices.map((t) => subgraph.tensors[t]).find((t) => t?.name === name);
    return named ?? subgraph.tensors[indices[position]] ?? null;
  };
  return { inputs: lookup(def?.inputs, subgraph?.inputs ?? []), outputs: lookup(def?.outputs, subgraph?.outputs ?? []) };
}

function checkInputs(inputs: RuntimeTensorInfo[], data: RuntimeData[]): void {
  if (data.length !== inputs.length) {
    throw new WorkbenchError('bad-input', `The model takes ${inputs.length} input${inputs.length === 1 ? '' : 's'}, got ${data.length}.`);
  }
  inputs.forEach((info, i) => {
    const expected = TYPED_ARRAYS[info.dtype];
    if (!(data[i] instanceof expected)) {
      throw new WorkbenchError('bad-input', `Input '${info.name}' takes ${info.dtype} data (${expected.name}), got ${data[i]?.constructor?.name ?? typeof data[i]}.`);
    }
    const count = elementCount(info.shape);
    if (data[i].length !== count) {
      throw new WorkbenchError('bad-input', `Input '${info.name}' has shape [${info.shape.join(', ')}] (${count} values), got ${data[i].length} values.`);
    }
  });
}

function readOutput(tensor: Tensor, info: RuntimeTensorInfo): RuntimeTensor {
  return {
    name: info.name,
    dtype: tensor.type.dtype as RuntimeDType,
    shape: [...tensor.type.layout.dimensions],
    data: tensor.toTypedArray() as RuntimeData,
  };
}
