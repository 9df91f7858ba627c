import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // LiteRT's wasm module and large models are heavy; two cores here.
    pool: 'forks',
    maxWorkers: 2,
    // tfjs-core's gradient module needs a resolution hook in Node (scripts/tfjs-resolve-hooks.mjs).
    execArgv: ['--import', './scripts/register-node-hooks.mjs'],
  },
});
