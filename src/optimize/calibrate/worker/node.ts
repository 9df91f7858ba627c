/**
 * Node: statistics workers on worker_threads. The worker starts from a small .mjs bootstrap that
 * registers the tsx loader and then imports the TypeScript entry (worker/node-entry.ts), so
 * it works the same under `node --import tsx`, the CLI (bin/tflite-opt.mjs) and vitest, whose
 * loaders do not reach worker threads. The worker gets no execArgv of its own (it needs neither
 * the tfjs hooks nor anything else the parent was started with). Only imported on the Node path of
 * worker/stats-thread.ts.
 */
import { portListeners, type StatsWorkerFactory, type WorkerReply } from './port';

// A computed specifier: the browser bundle leaves it alone (as in runtime/node-shim.ts).
const NODE_WORKER_THREADS = 'node:worker_threads';

export const nodeStatsWorker: StatsWorkerFactory = async () => {
  const { Worker } = (await import(/* @vite-ignore */ NODE_WORKER_THREADS)) as typeof import('node:worker_threads');
  // Built from a variable, not a literal: Vite must not take the entry for a browser asset.
  const here = import.meta.url;
  const worker = new Worker(new URL('./node-bootstrap.mjs', here), {
    execArgv: [],
    workerData: { entry: new URL('./node-entry.ts', here).href },
    name: 'calibration-stats',
  });
  const listeners = portListeners();
  const failed = listeners.failed;
  let terminated = false;
  worker.on('message', (message: WorkerReply) => listeners.message(message));
  worker.on('error', failed);
  worker.on('exit', (code) => {
    if (!terminated) failed(new Error(`the statistics worker exited (code ${code})`));
  });
  worker.unref(); // idle until a calibration holds it (after the listeners: adding one refs it again)
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen: listeners.listen,
    hold: (busy) => (busy ? worker.ref() : worker.unref()),
    terminate() {
      terminated = true;
      void worker.terminate();
    },
  };
};
