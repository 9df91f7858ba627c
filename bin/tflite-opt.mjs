#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx tflite-opt` works right after `npm install`.
import { register } from 'tsx/esm/api';
import '../scripts/register-node-hooks.mjs';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
