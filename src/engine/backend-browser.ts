/**
 * Browser-only: the engine on binaries the app serves itself. Vite's `?url` imports copy the tfjs
 * WASM binaries into the build (hashed names) and give their URLs, so nothing is fetched from a CDN
 * (the workbench never talks to another origin) and the dev server and the build behave the same.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initEngine, type EngineBackendOptions, type EngineInfo } from './backend';

let pathsSet = false;

/** initEngine with the app's own WASM binaries (WebGPU on a real adapter, else WASM, by default). */
export function initBrowserEngine(prefer: EngineBackendOptions['prefer'] = 'auto'): Promise<EngineInfo> {
  if (!pathsSet) {
    // Hashed file names: a folder prefix cannot name them, the per-file map can. initEngine gets no
    // wasmPath, so it leaves this map in place.
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });
    // The threaded build starts its pthreads with importScripts, which module workers (ours) lack:
    // the worker crashed with it. SIMD without threads it is (2 cores here, one runs the page).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    pathsSet = true;
  }
  return initEngine({ prefer });
}
