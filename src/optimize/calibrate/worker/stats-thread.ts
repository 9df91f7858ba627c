/**
 * Where the LiteRT path's statistics run: in a statistics worker while LiteRT computes the next
 * sample (two cores: LiteRT's wasm is single-threaded), or on the calibrating thread itself.
 *
 * The worker gets each sample's arrays by postMessage, its buffers transferred (zero copy: the tap
 * output is LiteRT's copy out of the wasm heap, the inputs are copied first since they are the
 * caller's), and runs the same StatsAccumulator in the same order, so the statistics are
 * bit-identical to the in-thread ones (worker/stats-thread.test.ts). At most MAX_IN_FLIGHT samples are
 * queued: the calibrating thread waits for the worker beyond that, so memory stays bounded.
 * `finish()` returns only after the worker has added every sample.
 *
 * The thread itself is behind StatsWorkerPort (worker/port.ts): worker/node.ts
 * (worker_threads, with the tsx loader for the .ts entry) in Node, and in the browser the factory
 * the entry point installs (workers/calibration-stats-browser.ts: a module Web Worker that Vite
 * bundles, workers/calibration-stats.worker.ts). Idle workers are kept for the next calibration
 * (starting one costs tens of ms; in Node an idle one does not keep the process alive). When no
 * worker starts (no Worker in this environment, a load error, no answer within
 * WORKER_START_TIMEOUT_MS) the statistics run in-thread and the result says so.
 *
 * The same workers (the "calibration workers") also run a model on a LiteRT of their own for the
 * reduced path (runs/litert-instances.ts): their entries route each request to statsServer
 * (worker/stats-server.ts) or runServer (runs/litert-instances-server.ts),
 * and the pool (takeWorker / returnWorker) serves both.
 */
import { WorkbenchError } from '../../../errors';
import { StatsAccumulator, type StatsPlan, type StatsResult } from '../statistics/accumulator';
import type { StatsWorkerFactory, StatsWorkerPort } from './port';

/** Samples posted to the worker and not yet added by it, at most. */
export const MAX_IN_FLIGHT = 4;
const WORKER_START_TIMEOUT_MS = 20_000;

export type StatsThread = 'worker' | 'main';

/** Statistics being accumulated for one calibration. */
export interface StatsSink {
  readonly thread: StatsThread;
  /** Why the statistics run where they do. */
  readonly reason: string;
  /**
   * Adds one sample (arrays as StatsAccumulator.add takes them). `owned`: the arrays whose buffers
   * the sink may take over (transfer); any other array is copied first when it goes to a worker.
   * Resolves once the sample is added (in-thread) or queued within MAX_IN_FLIGHT (worker).
   */
  add(arrays: (Float32Array | null)[], owned: ReadonlySet<Float32Array>): Promise<void>;
  /** Every sample's statistics, after the last one is added. */
  finish(): Promise<StatsResult>;
  /** Stops (a worker still busy is terminated); safe after finish. */
  dispose(): void;
}

/** The in-thread sink. */
export function mainThreadSink(plan: StatsPlan, reason = 'in-thread'): StatsSink {
  const accumulator = new StatsAccumulator(plan);
  return {
    thread: 'main',
    reason,
    async add(arrays) {
      accumulator.add(arrays);
    },
    finish: async () => accumulator.result(),
    dispose() {},
  };
}

/**
 * Below this much statistics work per sample (activation values, times 4 with histograms: the
 * binning costs about three times the scan), posting a sample to a worker and hearing back costs
 * about as much as the statistics save, and 'auto' keeps them in-thread (npm run
 * bench:calibration-paths; figures in bench/README.md).
 */
export const WORKER_MIN_WORK = 50_000;

/**
 * Starts getting a statistics worker now (so it starts while the model loads); `open` then makes
 * the sink for a plan: in that worker, or in-thread when `wanted` is 'main', when 'auto' finds too
 * little work per sample (WORKER_MIN_WORK), or when no worker starts. `release` gives back a worker
 * `open` was never called with. The statistics are the same wherever they run.
 */
export function startStatsSink(wanted: 'auto' | StatsThread = 'auto'): { open(plan: StatsPlan, valuesPerSample: number): Promise<StatsSink>; release(): void } {
  const taken: Promise<StatsWorkerPort | Error> | null = wanted === 'main' ? null : takeWorker().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  let used = false;
  const release = () => {
    if (used || !taken) return;
    used = true;
    void taken.then((port) => port instanceof Error || idle.push(port));
  };
  return {
    async open(plan, valuesPerSample) {
      const work = valuesPerSample * (plan.histograms ? 4 : 1);
      if (wanted === 'auto' && work < WORKER_MIN_WORK) {
        release();
        return mainThreadSink(plan, `in-thread: ${valuesPerSample} values per sample${plan.histograms ? ' with histograms' : ''} are too few to be worth a worker`);
      }
      used = true;
      if (!taken) return mainThreadSink(plan, 'in-thread, as asked');
      const port = await taken;
      if (port instanceof Error) return mainThreadSink(plan, `in-thread: no statistics worker (${port.message})`);
      try {
        return await workerSink(port, plan);
      } catch (error) {
        port.terminate();
        if (error instanceof StartError) return mainThreadSink(plan, `in-thread: the statistics worker did not start (${error.message})`);
        throw error;
      }
    },
    release,
  };
}

/** A sink in a statistics worker, or the in-thread one (see startStatsSink). */
export function openStatsSink(plan: StatsPlan, valuesPerSample: number, wanted: 'auto' | StatsThread = 'auto'): Promise<StatsSink> {
  return startStatsSink(wanted).open(plan, valuesPerSample);
}

class StartError extends Error {}

async function workerSink(port: StatsWorkerPort, plan: StatsPlan): Promise<StatsSink> {
  port.hold(true);
  let inFlight = 0;
  let failure: Error | null = null;
  let waiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  let result: { resolve: (r: StatsResult) => void; reject: (e: Error) => void } | null = null;
  let ready: { resolve: () => void; reject: (e: Error) => void } | null = null;
  let state: 'starting' | 'open' | 'finished' | 'disposed' = 'starting';
  const fail = (error: Error) => {
    failure ??= error;
    ready?.reject(new StartError(error.message));
    waiter?.reject(error);
    result?.reject(error);
    ready = waiter = result = null;
  };
  port.listen(
    (message) => {
      if (message.type === 'ready') {
        ready?.resolve();
        ready = null;
      } else if (message.type === 'added') {
        inFlight--;
        waiter?.resolve();
        waiter = null;
      } else if (message.type === 'result') {
        result?.resolve(message.result);
        result = null;
      } else if (message.type === 'error') {
        fail(new WorkbenchError('runtime', `The calibration statistics worker failed: ${message.message}`));
      }
    },
    (error) => fail(state === 'starting' ? error : new WorkbenchError('runtime', `The calibration statistics worker failed: ${error.message}`)),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      if (failure) return reject(new StartError(failure.message));
      ready = { resolve, reject };
      timer = setTimeout(() => reject(new StartError(`no answer within ${WORKER_START_TIMEOUT_MS / 1000} s`)), WORKER_START_TIMEOUT_MS);
      port.post({ type: 'init', plan }, []);
    });
  } finally {
    clearTimeout(timer);
  }
  state = 'open';
  return {
    thread: 'worker',
    reason: `in a worker thread, overlapping the LiteRT runs (up to ${MAX_IN_FLIGHT} samples queued)`,
    async add(arrays, owned) {
      if (failure) throw failure;
      while (inFlight >= MAX_IN_FLIGHT) {
        await new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
      }
      const transfer = new Set<ArrayBuffer>();
      const sent = arrays.map((a) => {
        if (!a) return a;
        const own = owned.has(a) && a.buffer instanceof ArrayBuffer && !(a.buffer as { resizable?: boolean }).resizable;
        const data = own ? a : a.slice();
        transfer.add(data.buffer as ArrayBuffer);
        return data;
      });
      port.post({ type: 'sample', arrays: sent }, [...transfer]);
      inFlight++;
    },
    async finish() {
      if (failure) throw failure;
      const stats = await new Promise<StatsResult>((resolve, reject) => {
        result = { resolve, reject };
        port.post({ type: 'finish' }, []);
      });
      state = 'finished';
      port.hold(false);
      idle.push(port);
      return stats;
    },
    dispose() {
      if (state === 'finished' || state === 'disposed') return;
      state = 'disposed';
      port.terminate(); // may still be adding queued samples: not worth waiting for
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Workers: a small pool of idle ones, and the factory for this environment

const idle: StatsWorkerPort[] = [];
let factory: StatsWorkerFactory | null | undefined;

/**
 * How calibration workers start: an entry point's factory (the browser's), null for never, or
 * undefined for this environment's default (see defaultFactory).
 */
export function setStatsWorkerFactory(f: StatsWorkerFactory | null | undefined): void {
  factory = f;
  for (const port of idle.splice(0)) port.terminate();
}

/** A calibration worker from the idle pool or newly started (runs/litert-instances.ts uses them too). */
export async function takeWorker(): Promise<StatsWorkerPort> {
  const reused = idle.pop();
  if (reused) return reused;
  if (factory === undefined) factory = await defaultFactory();
  if (!factory) throw new Error('this environment cannot start worker threads');
  return factory();
}

/** Started workers waiting in the pool. */
export function idleWorkers(): number {
  return idle.length;
}

/** Gives back a worker in a clean state (no statistics open, no model loaded) for later use. */
export function returnWorker(port: StatsWorkerPort): void {
  port.hold(false);
  idle.push(port);
}

/** Cores this environment reports (Node: availableParallelism; browsers: hardwareConcurrency), at least 1. */
export async function coreCount(): Promise<number> {
  const g = globalThis as { process?: { versions?: { node?: string } }; navigator?: { hardwareConcurrency?: number } };
  if (g.process?.versions?.node) {
    const os = (await import(/* @vite-ignore */ NODE_OS)) as typeof import('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
}

// A computed specifier: the browser bundle leaves it alone.
const NODE_OS = 'node:os';

/**
 * Node: worker_threads (worker/node.ts, its entry beside it). Elsewhere none: a browser
 * worker is a file the bundler builds, and the entry point that bundles it installs its factory
 * (workers/calibration-stats-browser.ts, from workers/optimizer.worker.ts), so the core never names
 * a file in workers/.
 */
async function defaultFactory(): Promise<StatsWorkerFactory | null> {
  const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown; WorkerGlobalScope?: unknown };
  if (g.process?.versions?.node && g.document === undefined && g.WorkerGlobalScope === undefined) {
    return (await import('./node')).nodeStatsWorker;
  }
  return null;
}

