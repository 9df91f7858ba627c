/**
 * Which tfjs backend the engine computes on.
 *
 * WebGPU only when a real (non-fallback) adapter exists: SwiftShader's software adapter is correct but
 * ~50x slower than the WASM backend here (DESIGN.md), so it is used only when asked for explicitly
 * (correctness tests). Everything else runs on tfjs' WASM backend, in the browser and in Node alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './gradients';
import { registerActivationGradients } from './activation-gradients';
import { registerConvGradients } from './conv-gradients';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type EngineBackend = 'wasm' | 'webgpu' | 'cpu';

export interface EngineBackendOptions {
  /** 'auto' = WebGPU on a real adapter, else WASM. */
  prefer?: 'auto' | EngineBackend;
  /** Folder (URL or path, ending in '/') holding tfjs-backend-wasm*.wasm. */
  wasmPath?: string;
}

export interface EngineInfo {
  backend: EngineBackend;
  /** Why this backend, e.g. "WebGPU adapter is a fallback (software)". */
  reason: string;
}

let current: Promise<EngineInfo> | null = null;
let currentKey = '';

/** Initialise the engine's backend once; later calls with the same options reuse it. */
export function initEngine(options: EngineBackendOptions = {}): Promise<EngineInfo> {
  const key = `${options.prefer ?? 'auto'}|${options.wasmPath ?? ''}`;
  if (current && key === currentKey) return current;
  currentKey = key;
  current = chooseBackend(options);
  return current;
}

async function chooseBackend(options: EngineBackendOptions): Promise<EngineInfo> {
  registerConvGradients();
  registerActivationGradients();
  const prefer = options.prefer ?? 'auto';
  if (prefer === 'webgpu' || prefer === 'auto') {
    const adapter = await probeAdapter();
    if (adapter === 'real' || (prefer === 'webgpu' && adapter === 'fallback')) {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend('webgpu')) {
        await tf.ready();
        return { backend: 'webgpu', reason: adapter === 'real' ? 'real WebGPU adapter' : 'WebGPU asked for (software adapter)' };
      }
    }
    if (prefer === 'webgpu') throw new Error('WebGPU is not available here');
    const why = adapter === 'fallback' ? 'the WebGPU adapter is a software fallback' : 'no WebGPU adapter';
    return useWasm(options, `${why}; WASM is faster`);
  }
  if (prefer === 'cpu') {
    await tf.setBackend('cpu');
    return { backend: 'cpu', reason: 'asked for' };
  }
  return useWasm(options, 'asked for');
}

async function useWasm(options: EngineBackendOptions, reason: string): Promise<EngineInfo> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmPath) setWasmPaths(options.wasmPath);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs WASM backend failed to start');
  await tf.ready();
  return { backend: 'wasm', reason };
}

async function probeAdapter(): Promise<'real' | 'fallback' | 'none'> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return 'none';
  try {
    const adapter = (await gpu.requestAdapter()) as { isFallbackAdapter?: boolean; info?: { isFallbackAdapter?: boolean } } | null;
    if (!adapter) return 'none';
    return adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter ? 'fallback' : 'real';
  } catch {
    return 'none';
  }
}
