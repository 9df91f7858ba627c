/** WebGPU check, measured: the model is compiled with LiteRT.js's 'webgpu' accelerator and run once. */
import { loadAndCompile, Tensor } from '@litertjs/core';
import { readModel } from '../tflite/read';
import { elementCount } from '../tflite/shape';
import { writeModel } from '../tflite/write';
import { errorText, exclusive, failureCause, warningLines } from './capture';
import { prepareForRuntime } from './prepare';
import { initRuntime } from './start';
import { TYPED_ARRAYS, type RuntimeDType } from './types';

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
