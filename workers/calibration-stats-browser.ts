/**
 * Browser: statistics workers are module Web Workers (calibration-stats.worker.ts, bundled
 * by Vite). Started from the optimizer worker (a nested worker) or a page, which installs this
 * factory with setStatsWorkerFactory(browserStatsWorker): the core has no browser default.
 */
import { portListeners, type StatsWorkerFactory, type WorkerReply } from '../src/optimize/calibrate/worker/port';

export const browserStatsWorker: StatsWorkerFactory = () => {
  const worker = new Worker(new URL('./calibration-stats.worker.ts', import.meta.url), { type: 'module', name: 'calibration-stats' });
  const listeners = portListeners();
  const failed = listeners.failed;
  worker.onmessage = (event: MessageEvent<WorkerReply>) => listeners.message(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    failed(new Error(event.message || 'the statistics worker could not load'));
  };
  worker.onmessageerror = () => failed(new Error('a message from the statistics worker could not be read'));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen: listeners.listen,
    hold() {},
    terminate: () => worker.terminate(),
  };
};
