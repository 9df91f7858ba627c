/** probeWebGpu never throws and says why a model does not run on WebGPU (Node has no WebGPU). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initRuntime } from './start';
import { probeWebGpu } from './webgpu-probe';

const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models');
const bytes = new Uint8Array(readFileSync(path.join(shared, 'mnist_conv_fc_int8.tflite')));

describe('probeWebGpu', () => {
  beforeAll(() => initRuntime(), 60_000);
  afterEach(() => vi.unstubAllGlobals());

  it('reports no WebGPU adapter where there is no navigator.gpu', async () => {
    vi.stubGlobal('navigator', {});
    const check = await probeWebGpu(bytes);
    expect(check.status).toBe('no-adapter');
    expect(check.message).toMatch(/no WebGPU adapter/);
  });

  it('reports no adapter when requestAdapter gives none', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    const check = await probeWebGpu(bytes);
    expect(check.status).toBe('no-adapter');
  });

  it('times out a hanging adapter request', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: () => new Promise(() => {}) } });
    const check = await probeWebGpu(bytes, { timeoutMs: 50 });
    expect(check.status).toBe('timeout');
    expect(check.ms).toBeLessThan(2000);
  });

  it('an adapter LiteRT has no device for: fails with the reason, never throws', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({ info: { vendor: 'test', architecture: 'fake', isFallbackAdapter: true } }) } });
    const check = await probeWebGpu(bytes);
    expect(check.status).toBe('failed');
    expect(check.adapter).toBe('test fake');
    expect(check.fallbackAdapter).toBe(true);
    expect(check.message).toMatch(/fallback: yes/);
    expect(check.message).toMatch(/runs on WASM/);
    console.log(`# ${check.message}`);
  });
});
