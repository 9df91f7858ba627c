/** Node-only: where the tfjs WASM binaries live inside node_modules. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { initEngine, type EngineInfo } from './backend';

export function nodeWasmPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** The engine on tfjs' WASM backend, as Node tests, the CLI and benchmarks use it. */
export function initNodeEngine(): Promise<EngineInfo> {
  return initEngine({ prefer: 'wasm', wasmPath: nodeWasmPath() });
}
