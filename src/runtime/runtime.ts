/**
 * The one wrapper over LiteRT.js (`@litertjs/core`): the runtime every variant is judged in.
 *
 * Runs in Node (tests, CLI; see node-shim.ts) and in the browser (a Web Worker or the page), always
 * on the WASM (XNNPACK) CPU path. `loadModel` takes .tflite bytes, applies the fixes LiteRT.js needs
 * (prepare.ts) to a copy, and gives back a model that runs on plain typed arrays.
 *
 * LiteRT's thrown errors are vague ("Failed to load model from buffer") while the cause goes to the
 * wasm's stderr or console.error / console.warn. Every call into LiteRT here runs one at a time with
 * that output captured, and a failure becomes one WorkbenchError line naming the cause.
 */
import { elementCount } from '../tflite/shape';
import { seededRandom } from '../seeded-random';
import {
  getGlobalLiteRtPromise,
  loadAndCompile,
  loadLiteRt,
  Tensor,
  type CompiledModel,
  type SignatureRunner,
  type TensorDetails,
} from '@litertjs/core';
import { WorkbenchError } from '../errors';
import type { ModelGraph, Subgraph, Tensor as GraphTensor } from '../tflite/graph';
import { readModel } from '../tflite/read';
import { writeModel } from '../tflite/write';
import { prepareForRuntime, runtimeBlockers } from './prepare';
import type { GlueHooks } from './node-shim';

// ---------------------------------------------------------------------------------------------
// Types

/** Element types that go in and out of LiteRT.js (int8 and int16 thanks to our patch of its table). */
export type RuntimeDType = 'float32' | 'int32' | 'uint8' | 'int8' | 'int16';
export type RuntimeData = Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array;

export interface RuntimeTensorInfo {
  /** The signature's name for the tensor (the tensor name when the file has no signature defs). */
  name: string;
  dtype: RuntimeDType;
  /** Static shape, as the model runs it (dynamic dimensions pinned). */
  shape: number[];
  /** Per-tensor quantization from the file (real = scale * (q - zeroPoint)), or null. */
  quantization: { scale: number; zeroPoint: number } | null;
}

export interface RuntimeTensor {
  name: string;
  dtype: RuntimeDType;
  shape: number[];
  data: RuntimeData;
}

export interface LoadedModel {
  inputs: RuntimeTensorInfo[];
  outputs: RuntimeTensorInfo[];
  /** The signature being run, and all the model has (a model without signature defs has one). */
  signature: string;
  signatures: string[];
  /** What prepareForRuntime changed in the evaluated copy; empty when the bytes ran as given. */
  changes: string[];
  /** Warnings and errors LiteRT printed while loading a model that nevertheless loaded. */
  warnings: string[];
  /** One inference; inputs in the order of `inputs`, each with the element count of its shape. */
  run(inputs: RuntimeData[]): Promise<RuntimeTensor[]>;
  /** Frees the wasm memory; the model cannot run afterwards. Safe to call twice. */
  delete(): void;
}

export interface RuntimeOptions {
  /**
   * Folder (URL) holding LiteRT's wasm files, in the browser. Default: `litert/` beside the page;
   * inside a worker, `litert/` under Vite's base URL (pass the page's URL explicitly if the app is
   * not at the root of its origin). Ignored in Node, which reads node_modules/@litertjs/core/wasm/.
   */
  wasmBase?: string;
}

export interface LoadOptions {
  /** Signature key to run; default: the model's first signature. */
  signature?: string;
  /** Skip the checks and fixes of prepare.ts and hand LiteRT the bytes exactly as given. */
  asIs?: boolean;
}

const TYPED_ARRAYS = {
  float32: Float32Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
} as const;

// ---------------------------------------------------------------------------------------------
// Captured output and one-at-a-time calls

/** Lines LiteRT prints; null when nothing is being captured. */
let captureSink: string[] | null = null;
let queue: Promise<unknown> = Promise.resolve();

const glueHooks: GlueHooks = {
  print: (text) => {
    if (captureSink) captureSink.push(text);
  },
  printErr: (text) => {
    if (captureSink) captureSink.push(text);
    else if (text.trim() && !/^INFO:/.test(text)) console.warn(`[LiteRT] ${text}`);
  },
};

interface Captured<T> {
  value?: T;
  error?: unknown;
  failed: boolean;
  lines: string[];
}

/**
 * Runs `fn` after every earlier call has finished, with LiteRT's stderr and console.error /
 * console.warn collected instead of printed.
 */
function exclusive<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const run = async (): Promise<Captured<T>> => {
    const lines: string[] = [];
    const saved = { error: console.error, warn: console.warn };
    captureSink = lines;
    console.error = (...args: unknown[]) => void lines.push(formatConsoleArgs(args));
    console.warn = (...args: unknown[]) => void lines.push(formatConsoleArgs(args));
    try {
      return { value: await fn(), failed: false, lines };
    } catch (error) {
      return { error, failed: true, lines };
    } finally {
      captureSink = null;
      console.error = saved.error;
      console.warn = saved.warn;
    }
  };
  const result = queue.then(run);
  queue = result.then(() => undefined);
  return result;
}

/** console-style arguments as one line; `%c` CSS styling and its arguments are dropped. */
function formatConsoleArgs(args: unknown[]): string {
  const parts = [...args];
  if (typeof parts[0] === 'string' && parts[0].includes('%c')) {
    const styles = (parts[0].match(/%c/g) ?? []).length;
    parts[0] = parts[0].replace(/%c/g, '');
    parts.splice(1, styles);
  }
  return parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
}

/** Messages LiteRT throws that say nothing about the cause. */
const VAGUE_ERRORS = [/^Failed to (load|compile|create|run|invoke)\b/i, /^Unknown error/i];
/** Noise printed on every environment creation. */
const NOISE = [/NPU accelerator could not be loaded/, /Failed to create default WebGPU device/];

/** "ERROR: [file.cc:12] " and "└ ERROR: [...]" trace markers LiteRT puts in front of (or instead of) a message. */
const LOG_TAGS = /(?:└\s*)?(?:ERROR|WARNING|INFO):\s*(?:\[[^\]]*\]\s*)?/g;
const MAX_CAUSES = 4;

/**
 * The cause of a failure in one line: the errors LiteRT printed (log tags stripped, repeats of the
 * same message for other tensors counted instead of listed), then the thrown message when it adds
 * anything.
 */
function failureCause(captured: Captured<unknown>): string {
  const groups = new Map<string, { text: string; count: number }>();
  const add = (raw: string) => {
    const text = raw.replace(LOG_TAGS, ' ').replace(/\s+/g, ' ').trim().replace(/[.:]+$/, '');
    if (!text || /^[\s└]*$/.test(text)) return;
    const key = text.replace(/\d+/g, '#');
    const group = groups.get(key);
    if (group) group.count++;
    else if (![...groups.values()].some((g) => g.text.includes(text))) groups.set(key, { text, count: 1 });
  };
  for (const line of captured.lines) {
    const text = line.trim();
    if (!text || NOISE.some((re) => re.test(text)) || /^(INFO|WARNING|VERBOSE|DEBUG):/.test(text)) continue;
    add(text);
  }
  const thrown = (captured.error instanceof Error ? captured.error.message : String(captured.error ?? '')).trim();
  if (thrown && (!groups.size || !VAGUE_ERRORS.some((re) => re.test(thrown)))) add(thrown);
  const causes = [...groups.values()].map((g) => (g.count > 1 ? `${g.text} (+${g.count - 1} similar)` : g.text));
  if (causes.length > MAX_CAUSES) causes.splice(MAX_CAUSES, causes.length - MAX_CAUSES, `... (${causes.length - MAX_CAUSES} more)`);
  return causes.join('; ') || 'unknown error';
}

function warningLines(lines: string[]): string[] {
  const warnings: string[] = [];
  for (const line of lines) {
    const text = line.trim();
    if (!text || /^(INFO|VERBOSE|DEBUG):/.test(text) || NOISE.some((re) => re.test(text))) continue;
    const clean = text.replace(/^(WARNING|ERROR):\s*(\[[^\]]*\]\s*)?/, '');
    if (!warnings.includes(clean)) warnings.push(clean);
  }
  return warnings;
}

const UNSUPPORTED_CAUSE = /not (yet )?supported|unsupported|didn't find op|unresolved custom op|no registration/i;

function runtimeError(doing: string, cause: string): WorkbenchError {
  if (/Element type INT(8|16) is not supported/.test(cause)) {
    cause += ' (LiteRT.js is unpatched: run `npm install` so that patches/@litertjs+core+2.5.3.patch is applied)';
  }
  return new WorkbenchError(UNSUPPORTED_CAUSE.test(cause) ? 'unsupported' : 'runtime', `LiteRT could not ${doing}: ${cause}`);
}

// ---------------------------------------------------------------------------------------------
// Starting LiteRT

let initPromise: Promise<void> | null = null;

function isNode(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string }; type?: string }; document?: unknown; WorkerGlobalScope?: unknown };
  return Boolean(g.process?.versions?.node) && g.process?.type !== 'renderer' && g.document === undefined && g.WorkerGlobalScope === undefined;
}

/**
 * Loads the LiteRT wasm module once; later calls return the same promise (a failed start can be
 * retried). LiteRT picks its wasm build: the relaxed-SIMD one where the engine has relaxed SIMD
 * (browsers; Node >= 22), else the "compat" one (Node 20). Never the threaded or JSPI builds.
 */
export function initRuntime(options: RuntimeOptions = {}): Promise<void> {
  if (!initPromise) {
    initPromise = startLiteRt(options).catch((error: unknown) => {
      initPromise = null;
      throw error instanceof WorkbenchError ? error : new WorkbenchError('runtime', `LiteRT could not start: ${errorText(error)}`);
    });
  }
  return initPromise;
}

/** Where the browser runtime loaded its wasm from (for a nested worker to load the same); null in Node or before initRuntime. */
let browserWasmBase: string | null = null;

export function runtimeWasmBase(): string | null {
  return browserWasmBase;
}

async function startLiteRt(options: RuntimeOptions): Promise<void> {
  const already = getGlobalLiteRtPromise();
  if (already) {
    await already;
    return;
  }
  let wasmBase: string;
  let uninstall: () => void;
  if (isNode()) {
    const { nodeLiteRtSetup } = await import('./node-shim');
    const setup = await nodeLiteRtSetup();
    wasmBase = setup.wasmDir;
    uninstall = setup.installGlobals(glueHooks);
  } else {
    wasmBase = new URL(options.wasmBase ?? defaultWasmBase(), globalThis.location?.href).href;
    if (!wasmBase.endsWith('/')) wasmBase += '/';
    uninstall = installBrowserGlobals(wasmBase);
  }
  const started = await exclusive(async () => {
    try {
      await loadLiteRt(wasmBase);
    } finally {
      uninstall();
    }
  });
  if (started.failed) throw new WorkbenchError('runtime', `LiteRT could not start (wasm from ${wasmBase}): ${failureCause(started)}`);
  if (!isNode()) browserWasmBase = wasmBase;
}

function defaultWasmBase(): string {
  const g = globalThis as { WorkerGlobalScope?: unknown; location?: Location };
  const here = g.location?.href ?? '/';
  if (g.WorkerGlobalScope === undefined) return new URL('litert/', here).href;
  // A worker's own URL is where its bundle lives (assets/), not the page; use the app's base.
  const base = (import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/';
  return new URL(`${base.endsWith('/') ? base : `${base}/`}litert/`, g.location?.origin ?? here).href;
}

/**
 * LiteRT loads its glue with `importScripts` in a worker, which module workers (Vite's dev server)
 * refuse or lack; then the glue is fetched synchronously and evaluated at global scope instead. The
 * emscripten `Module` settings route the wasm's stdout/stderr into our capture and point it at the
 * .wasm beside the glue (in a worker it would otherwise look next to the worker's script).
 */
function installBrowserGlobals(wasmBase: string): () => void {
  const g = globalThis as Record<string, unknown>;
  const saved = { importScripts: g.importScripts, Module: g.Module };
  const original = typeof saved.importScripts === 'function' ? (saved.importScripts as (...urls: string[]) => void) : null;
  const inWorker = g.WorkerGlobalScope !== undefined;
  if (inWorker) {
    g.importScripts = (...urls: string[]) => {
      if (original) {
        try {
          original.apply(globalThis, urls);
          return;
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
        }
      }
      for (const url of urls) evaluateScriptSync(url);
    };
  }
  g.Module = { print: glueHooks.print, printErr: glueHooks.printErr, locateFile: (file: string) => wasmBase + file };
  return () => {
    if (inWorker) restore(g, 'importScripts', saved.importScripts);
    restore(g, 'Module', saved.Module);
  };
}

function restore(g: Record<string, unknown>, name: string, value: unknown): void {
  if (value === undefined) delete g[name];
  else g[name] = value;
}

function evaluateScriptSync(url: string): void {
  const request = new XMLHttpRequest();
  request.open('GET', url, false);
  request.send();
  if (request.status !== 200) throw new Error(`could not fetch ${url} (HTTP ${request.status})`);
  // Indirect eval runs at global scope, so the glue's `var ModuleFactory` becomes a global.
  (0, eval)(`${request.responseText}\n//# sourceURL=${url}`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Loading and running models

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
  if (loaded.failed) {
    const cause = failureCause(loaded);
    // LiteRT only says "Failed to load model from buffer" for a broken file; our reader says why.
    if (readProblem && VAGUE_ERRORS.some((re) => re.test(cause))) throw runtimeError('load the model', `${readProblem} (LiteRT: ${cause})`);
    if (readProblem) throw runtimeError('load the model', `${cause} (and the workbench could not read the file: ${readProblem})`);
    if (writeProblem) throw runtimeError('load the model', `${cause} (tried as given: the fixed copy could not be written: ${writeProblem})`);
    throw runtimeError('load the model', cause);
  }
  const compiled = loaded.value!;
  const warnings = warningLines(loaded.lines);
  if (readProblem) warnings.unshift(`evaluated as given, without the runtime fixes, because the workbench could not read the file: ${readProblem}`);
  if (writeProblem) warnings.unshift(`evaluated as given, without the runtime fixes, because the fixed copy could not be written: ${writeProblem}`);

  try {
    return wrapModel(compiled, graph, options, changes, warnings);
  } catch (error) {
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


// ---------------------------------------------------------------------------------------------
// Inputs

/**
 * Seeded random inputs, one per model input: float in [-1, 1), uint8 0..255, int8 -128..127,
 * int16 -32768..32767 (the full quantized ranges), int32 0..99 (token-id-like). Same seed, same data.
 */
export function randomInputs(model: Pick<LoadedModel, 'inputs'>, seed: number): RuntimeData[] {
  const random = seededRandom(seed);
  return model.inputs.map((info) => {
    const data = new TYPED_ARRAYS[info.dtype](elementCount(info.shape));
    const [low, high] = RANDOM_RANGE[info.dtype];
    for (let i = 0; i < data.length; i++) {
      const r = random();
      data[i] = info.dtype === 'float32' ? low + r * (high - low) : Math.floor(low + r * (high - low + 1));
    }
    return data;
  });
}

const RANDOM_RANGE: Record<RuntimeDType, [number, number]> = {
  float32: [-1, 1],
  int32: [0, 99],
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
};


// ---------------------------------------------------------------------------------------------
// WebGPU check (measured: the model is compiled with the 'webgpu' accelerator and run once)

export interface WebGpuCheck {
  /**
   * 'webgpu': compiled fully for WebGPU and ran once; 'partial': some ops delegated to WASM;
   * 'wasm': LiteRT fell back to WASM; 'no-adapter': no WebGPU here; 'failed': compile or run failed;
   * 'timeout': no answer within the time limit.
   */
  status: 'webgpu' | 'partial' | 'wasm' | 'no-adapter' | 'failed' | 'timeout';
  /** Adapter description (vendor, architecture, description), when there is one. */
  adapter: string | null;
  /** The adapter is a software fallback (e.g. SwiftShader): correct but much slower than WASM. */
  fallbackAdapter: boolean | null;
  /** One line for the UI. */
  message: string;
  /** What LiteRT printed while compiling (why it did not fully delegate, say). */
  details: string[];
  ms: number;
}

interface GpuLike {
  requestAdapter(options?: unknown): Promise<{ info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean } | null>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, onLate?: (value: T) => void): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  let timedOut = false;
  const guarded = promise.then((value) => {
    if (timedOut) onLate?.(value);
    return value;
  });
  return Promise.race([guarded, late]).then((value) => {
    clearTimeout(timer);
    if (value === 'timeout') timedOut = true;
    return value;
  });
}

/**
 * Tries the model on LiteRT.js's WebGPU accelerator: is there an adapter, does the model compile
 * fully for WebGPU (else LiteRT delegates part or all of it to WASM), does one inference run. Never
 * throws; gives up after `timeoutMs` (the LiteRT queue moves on; a late model is deleted).
 */
export async function probeWebGpu(bytes: Uint8Array, options: { timeoutMs?: number } = {}): Promise<WebGpuCheck> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  const result = (status: WebGpuCheck['status'], message: string, more: Partial<WebGpuCheck> = {}): WebGpuCheck => ({
    status,
    message,
    adapter: null,
    fallbackAdapter: null,
    details: [],
    ...more,
    ms: Date.now() - started,
  });
  try {
    const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
    if (!gpu) return result('no-adapter', 'no WebGPU adapter (this browser exposes no navigator.gpu): runs on WASM.');
    const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null), timeoutMs);
    if (adapter === 'timeout') return result('timeout', `no WebGPU adapter within ${timeoutMs} ms: runs on WASM.`);
    if (!adapter) return result('no-adapter', 'no WebGPU adapter (navigator.gpu.requestAdapter() returned none): runs on WASM.');
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description || info.device].filter(Boolean).join(' ') || 'unnamed adapter';
    const fallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
    const about = { adapter: name, fallbackAdapter };
    const fallbackText = `fallback: ${fallbackAdapter ? 'yes (software; slower than WASM)' : 'no'}`;

    await initRuntime();
    let evaluated = bytes;
    try {
      const prepared = prepareForRuntime(readModel(bytes));
      if (prepared.changes.length) evaluated = writeModel(prepared.graph);
    } catch {
      evaluated = bytes;
    }
    const compiled = await withTimeout(
      exclusive(() => loadAndCompile(evaluated, { accelerator: 'webgpu' })),
      timeoutMs,
      (late) => late.value?.delete(),
    );
    if (compiled === 'timeout') return result('timeout', `LiteRT did not compile the model for WebGPU within ${timeoutMs} ms (adapter: ${name}, ${fallbackText}).`, about);
    // glog INFO lines ("I1126 10:34:15.967 ... delegate_webgpu.cc:243] ...") are progress, not reasons.
    const details = warningLines(compiled.lines).filter((line) => !/^I\d{4} /.test(line));
    if (compiled.failed) return result('failed', `LiteRT could not compile it for WebGPU (adapter: ${name}, ${fallbackText}): ${failureCause(compiled)}; runs on WASM.`, { ...about, details });
    const model = compiled.value!;
    try {
      const accelerator = model.options.accelerator;
      if (accelerator !== 'webgpu') return result('wasm', `falls back to WASM: LiteRT could not delegate it to WebGPU (adapter: ${name}, ${fallbackText})${details[0] ? `: ${details[0]}` : ''}.`, { ...about, details });
      const full = model.isFullyAccelerated;
      // One inference with zeros, to see that it really runs (outputs come back in WebGPU memory:
      // copied to WASM to read them, as a caller would).
      const ran = await withTimeout(
        exclusive(async () => {
          const inputs = model.getInputDetails().map((d) => {
            const shape = Array.from(d.shape, (n) => Math.max(n, 1));
            const dtype = (d.dtype in TYPED_ARRAYS ? d.dtype : 'float32') as RuntimeDType;
            return new Tensor(new TYPED_ARRAYS[dtype](elementCount(shape)) as Float32Array, shape);
          });
          try {
            const outputs = await model.run(inputs);
            for (const output of outputs) {
              const copy = output.accelerator === 'wasm' ? null : await output.copyTo('wasm');
              (copy ?? output).toTypedArray();
              copy?.delete();
              output.delete();
            }
          } finally {
            for (const input of inputs) input.delete();
          }
        }).then((r) => (r.failed ? failureCause(r) : null)),
        timeoutMs,
      );
      if (ran === 'timeout') return result('timeout', `compiled for WebGPU but one inference took over ${timeoutMs} ms (adapter: ${name}, ${fallbackText}).`, { ...about, details });
      if (ran && !full) {
        return result('wasm', `falls back to WASM: LiteRT compiled only part of it for WebGPU (the rest delegated to WASM) and the mixed model did not run here (adapter: ${name}, ${fallbackText}): ${ran}.`, { ...about, details });
      }
      if (ran) return result('failed', `compiled fully for WebGPU but one inference failed (adapter: ${name}, ${fallbackText}): ${ran}; runs on WASM.`, { ...about, details });
      if (!full) return result('partial', `runs partly on WebGPU, the rest on WASM (adapter: ${name}, ${fallbackText}).`, { ...about, details });
      return result('webgpu', `runs on WebGPU (adapter: ${name}, ${fallbackText}).`, { ...about, details });
    } finally {
      model.delete();
    }
  } catch (error) {
    return result('failed', `WebGPU check failed: ${errorText(error)}; runs on WASM.`);
  }
}
