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
  },
});
