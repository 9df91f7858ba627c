/**
 * Registers tfjs' gradient functions (tfjs-core's main entry leaves them out; the full tfjs bundle
 * adds them). Bundlers resolve this ES module build directly; Node needs
 * scripts/register-node-hooks.mjs (the CLI, benches and vitest load it).
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
