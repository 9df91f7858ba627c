/**
 * A ModelGraph written straight into LiteRT's wasm heap and compiled there. LiteRT.js's
 * loadAndCompile takes the file as JS bytes and copies them into its heap, so the weights exist a
 * third time while a model loads (the graph's, the written file's, LiteRT's); writing into memory
 * LiteRT allocated leaves out the middle one (bench:scale counts the copies). It does what
 * loadAndCompile does for the wasm accelerator (dist/index.js of @litertjs/core 2.5.3: malloc,
 * loadModel, compileModel, a Model that frees the bytes with it); where those internals are not
 * there, the file goes through loadAndCompile as before.
 */
import { CompiledModel, getGlobalLiteRt, loadAndCompile } from '@litertjs/core';
import type { ModelGraph } from '../tflite/graph';
import { writeModel } from '../tflite/write';

interface WasmModel {
  delete(): void;
}

/** The parts of LiteRT.js's wasm module and global object loadAndCompile uses. */
interface LiteRtInternals {
  liteRtWasm: {
    HEAPU8: Uint8Array;
    _malloc(size: number): number;
    _free(pointer: number): void;
    getThreadCount(): number;
    loadModel(environment: unknown, pointer: number, size: number): WasmModel;
    compileModel(environment: unknown, model: WasmModel, options: unknown): Promise<unknown>;
  };
  getDefaultEnvironment(): { liteRtEnvironment: unknown };
  objectsToDelete: Set<CompiledModel>;
}

function internals(): LiteRtInternals | null {
  const liteRt = getGlobalLiteRt() as unknown as Partial<LiteRtInternals>;
  const wasm = liteRt.liteRtWasm;
  const usable =
    wasm &&
    typeof wasm._malloc === 'function' &&
    typeof wasm._free === 'function' &&
    typeof wasm.loadModel === 'function' &&
    typeof wasm.compileModel === 'function' &&
    typeof wasm.getThreadCount === 'function' &&
    typeof liteRt.getDefaultEnvironment === 'function' &&
    liteRt.objectsToDelete instanceof Set;
  return usable ? (liteRt as LiteRtInternals) : null;
}

/** Compiles `graph` for LiteRT's wasm CPU path (and the file's size); call after initRuntime, inside `exclusive`. */
export async function compileInHeap(graph: ModelGraph): Promise<{ model: CompiledModel; size: number }> {
  const liteRt = internals();
  if (!liteRt) {
    const file = writeModel(graph);
    return { model: await loadAndCompile(file, { accelerator: 'wasm' }), size: file.length };
  }
  const wasm = liteRt.liteRtWasm;
  let pointer = 0;
  let size = 0;
  try {
    // Nothing else runs in the wasm while the file is written, so the heap view stays valid.
    writeModel(graph, (bytes) => {
      size = bytes;
      pointer = wasm._malloc(bytes);
      if (!pointer) throw new Error(`LiteRT could not allocate ${bytes} bytes for the model`);
      return wasm.HEAPU8.subarray(pointer, pointer + bytes);
    });
  } catch (error) {
    if (pointer) wasm._free(pointer);
    throw error;
  }
  const environment = liteRt.getDefaultEnvironment();
  const options = { environment, accelerator: 'wasm', cpuOptions: { numThreads: wasm.getThreadCount() }, gpuOptions: {}, webNNOptions: {} };
  let model: WasmModel | null = null;
  try {
    model = wasm.loadModel(environment.liteRtEnvironment, pointer, size);
    const compiled = await wasm.compileModel(environment.liteRtEnvironment, model, options);
    const loaded = model;
    const owner = { liteRtModel: loaded, delete: () => (loaded.delete(), wasm._free(pointer)) };
    // CompiledModel's constructor is public; its typings do not name the Model it wraps.
    const Compiled = CompiledModel as unknown as new (model: unknown, compiled: unknown, options: unknown, onDelete: () => void) => CompiledModel;
    const result: CompiledModel = new Compiled(owner, compiled, options, () => liteRt.objectsToDelete.delete(result));
    liteRt.objectsToDelete.add(result);
    return { model: result, size };
  } catch (error) {
    model?.delete();
    wasm._free(pointer);
    throw error;
  }
}
