/**
 * Browser: statistics workers are module Web Workers (workers/calibration-stats.worker.ts, bundled
 * by Vite). Started from the optimizer worker (a nested worker) or a page.
 */
import type { StatsReply, StatsWorkerFactory } from './calibrate-stats-thread';

export const browserStatsWorker: StatsWorkerFactory = () => {
  const worker = new Worker(new URL('../../workers/calibration-stats.worker.ts', import.meta.url), { type: 'module', name: 'calibration-stats' });
  let onMessage: (message: StatsReply) => void = () => {};
  // A worker that failed stays failed: a later listener (the next calibration) hears it at once.
  let dead: Error | null = null;
  let onError: (error: Error) => void = () => {};
  const failed = (error: Error) => {
    dead ??= error;
    onError(error);
  };
  worker.onmessage = (event: MessageEvent<StatsReply>) => onMessage(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    failed(new Error(event.message || 'the statistics worker could not load'));
  };
  worker.onmessageerror = () => failed(new Error('a message from the statistics worker could not be read'));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen(message, error) {
      onMessage = message;
      onError = error;
      if (dead) error(dead);
    },
    hold() {},
    terminate: () => worker.terminate(),
  };
};
