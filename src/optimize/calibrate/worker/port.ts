/**
 * A calibration worker as both sides see it: the messages (statistics requests, and the LiteRT runs
 * of runs/litert-instances-server.ts), the port the calibrating side holds (worker/stats-thread.ts) and
 * the factories that start one (worker/node.ts in Node; in the browser the entry point's,
 * workers/calibration-stats-browser.ts).
 */
import type { RunReply, RunRequest } from '../runs/litert-instances-server';
import type { StatsPlan, StatsResult } from '../statistics/accumulator';

/** A started worker, as the calibrating side sees it. */
export interface StatsWorkerPort {
  post(message: WorkerRequest, transfer: ArrayBuffer[]): void;
  /** Sets the handlers (replacing earlier ones). `onError` gets load errors and crashes. */
  listen(onMessage: (message: WorkerReply) => void, onError: (error: Error) => void): void;
  /** Marks the worker busy (true) or idle (false; Node: it then does not keep the process alive). */
  hold(busy: boolean): void;
  terminate(): void;
}

export type StatsWorkerFactory = () => StatsWorkerPort | Promise<StatsWorkerPort>;

/**
 * A port's message and error listeners. A worker that failed stays failed: a later listener (the
 * next calibration) hears it at once.
 */
export function portListeners() {
  let onMessage: (message: WorkerReply) => void = () => {};
  let onError: (error: Error) => void = () => {};
  let dead: Error | null = null;
  return {
    message: (message: WorkerReply) => onMessage(message),
    failed(error: Error) {
      dead ??= error;
      onError(error);
    },
    listen(message: (message: WorkerReply) => void, error: (error: Error) => void) {
      onMessage = message;
      onError = error;
      if (dead) error(dead);
    },
  };
}

export type StatsRequest =
  | { type: 'init'; plan: StatsPlan }
  | { type: 'sample'; arrays: (Float32Array | null)[] }
  | { type: 'finish' };

export type StatsReply = { type: 'ready' } | { type: 'added' } | { type: 'result'; result: StatsResult } | { type: 'error'; message: string };

/** What a calibration worker takes: statistics requests, and LiteRT runs (runs/litert-instances.ts). */
export type WorkerRequest = StatsRequest | RunRequest;
export type WorkerReply = StatsReply | RunReply;
