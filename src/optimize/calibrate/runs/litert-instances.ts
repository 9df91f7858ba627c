/**
 * More LiteRT instances for calibration, the calibrating side (the worker side:
 * runs/litert-instances-server.ts): calibration workers (the statistics workers of
 * worker/stats-thread.ts, which also take these requests) each load the tapped model into a
 * LiteRT of their own and run the samples they are sent, while the calibrating thread runs others.
 * LiteRT's wasm is single-threaded, so a second instance on a second core adds runs/s (figures:
 * npm run bench:litert-instances, in bench/README.md).
 *
 * A run returns the tapped values and whether the model's float outputs were all finite. The
 * calibrating thread adds every sample's statistics itself, in sample order (OrderedRuns), so the
 * statistics are bit-identical whichever instance ran a sample: every instance runs the same wasm
 * build on the same model. Used by the reduced path (runs/reduced-in-litert.ts), whose statistics of a
 * sample are a few thousand numbers; the values path keeps one instance (see litertInstances in
 * calibrate.ts).
 */
import { runtimeWasmBase } from '../../../runtime/start';
import type { RuntimeData } from '../../../runtime/types';
import type { HelperModel, RunOutput } from './litert-instances-server';
import type { StatsWorkerPort } from '../worker/port';
import { idleWorkers, returnWorker, takeWorker } from '../worker/stats-thread';

export { allFinite, outputsFinite, type HelperModel, type RunOutput } from './litert-instances-server';

/**
 * Lets the event loop deliver the workers' messages. A calibrating thread that only awaits LiteRT
 * runs never leaves the microtask queue, so without this no answer (not even "model loaded")
 * would arrive before the last sample. setImmediate in Node; a MessageChannel elsewhere (a
 * zero-delay setTimeout waits about 1 ms, as long as a whole run of a small model).
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (callback: () => void) => void };
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  channel ??= newYieldChannel();
  return new Promise((resolve) => {
    channel!.queue.push(resolve);
    channel!.port.postMessage(null);
  });
}

let channel: { port: MessagePort; queue: (() => void)[] } | null = null;

function newYieldChannel() {
  const { port1, port2 } = new MessageChannel();
  const queue: (() => void)[] = [];
  port1.onmessage = () => queue.shift()?.();
  return { port: port2, queue };
}

/** Ids of loads and runs, unique in this thread (so no answer is taken for another's). */
let nextId = 0;

/** One calibration worker running the tapped model, as the calibrating thread sees it. */
export interface RunHelper {
  /** True once the model is loaded there; false before, after a failure and after release. */
  readonly usable: boolean;
  /** Runs sent and not answered yet. */
  readonly inFlight: number;
  /** Resolves once the helper is usable or will never be (failed, released). */
  settled(): Promise<void>;
  /** Why it failed (could not start, load the model or run), or null. */
  readonly failure: string | null;
  /** Rejects if the worker fails (the caller runs the sample itself then). */
  run(inputs: RuntimeData[]): Promise<RunOutput>;
  /** Unloads the model and returns the worker to the pool, or terminates it if runs are in flight. */
  release(): void;
}

/**
 * What one more LiteRT instance costs per byte of model, about: its wasm heap holds the model, the
 * weights XNNPACK packs from it and the activations (pose_landmark_heavy as 55 MB of float32: a
 * calibration worker's heap reached ~320 MB, with the worker thread's own ~50 MB; npm run bench:scale).
 */
const INSTANCE_BYTES_PER_MODEL_BYTE = 6;
/**
 * Memory the calibration workers' instances may take together. Below it a worker pays (a second
 * instance runs ~1.5-2x the samples on two free cores); above it the memory is worth more than the
 * speed: pose_landmark_heavy (55 MB) with one worker peaked at 2.4 GB, over issue #13's 2 GB budget.
 */
const HELPER_MEMORY_BUDGET = 256e6;

/**
 * How many LiteRT instances run calibration samples: one per core, at most 4, and only as many
 * calibration workers as HELPER_MEMORY_BUDGET allows for this model (none past ~42 MB); at least 1
 * (the calibrating thread's). Any number gives the same statistics.
 */
export function defaultInstances(cores: number, modelBytes: number): number {
  const helpers = Math.floor(HELPER_MEMORY_BUDGET / (INSTANCE_BYTES_PER_MODEL_BYTE * Math.max(1, modelBytes)));
  return Math.max(1, Math.min(cores, 4, 1 + helpers));
}

/** How a calibration spreads its runs: instances (this thread's included), waiting for them or not, and the sample count if known. */
export interface Parallelism {
  instances: number;
  waitForInstances: boolean;
  total: number | undefined;
}

/**
 * The helpers for OrderedRuns: with `waitForInstances`, started now and loaded before this
 * returns; otherwise started on demand (OrderedRuns decides).
 */
export async function helpersFor(parallel: Parallelism, model: () => HelperModel): Promise<RunHelper[] | HelperSource> {
  const count = Math.max(0, parallel.instances - 1);
  if (!parallel.waitForInstances) return { count, total: parallel.total, start: () => startHelpers(count, model()) };
  const helpers = startHelpers(count, model());
  await Promise.all(helpers.map((h) => h.settled()));
  return helpers;
}

/**
 * Starts `count` helpers on calibration workers (from the idle pool or new); each loads `model`
 * into a LiteRT started from this thread's wasm (runtimeWasmBase: the same build, in browsers).
 */
function startHelpers(count: number, model: HelperModel): RunHelper[] {
  const wasmBase = runtimeWasmBase();
  return Array.from({ length: count }, () => startRunHelper(takeWorker(), model, wasmBase));
}

/**
 * A helper on the worker `taking` resolves to: it loads the model there and becomes usable when
 * the model is loaded (the calibration goes on meanwhile; it need not wait).
 */
function startRunHelper(taking: Promise<StatsWorkerPort>, model: HelperModel, wasmBase: string | null): RunHelper {
  let port: StatsWorkerPort | null = null;
  let state: 'starting' | 'ready' | 'failed' | 'released' = 'starting';
  let failure: string | null = null;
  const waiting = new Map<number, { resolve: (run: RunOutput) => void; reject: (error: Error) => void }>();
  const loadId = nextId++;
  let onSettled: () => void = () => {};
  const settledPromise = new Promise<void>((resolve) => (onSettled = resolve));
  const fail = (error: Error) => {
    if (state === 'released' || state === 'failed') return;
    state = 'failed';
    failure = error.message;
    onSettled();
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
    port?.terminate();
    port = null;
  };
  taking.then(
    (p) => {
      if (state !== 'starting') return returnWorker(p); // released before it came: still clean
      port = p;
      p.hold(true);
      p.listen(
        (message) => {
          // A worker back from an earlier calibration may still answer that one: ids tell them apart.
          if (message.type === 'model-loaded' && message.id === loadId) {
            if (state === 'starting') state = 'ready';
            onSettled();
          } else if (message.type === 'model-failed' && message.id === loadId) {
            fail(new Error(`a calibration worker could not load the model: ${message.message}`));
          } else if (message.type === 'ran' || message.type === 'run-failed') {
            const w = waiting.get(message.id);
            waiting.delete(message.id);
            if (message.type === 'ran') w?.resolve({ values: message.values, outputsFinite: message.outputsFinite });
            else w?.reject(new Error(message.message));
          }
        },
        fail,
      );
      p.post({ type: 'load-model', id: loadId, wasmBase, ...model }, []);
    },
    (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
  );
  return {
    get usable() {
      return state === 'ready';
    },
    get inFlight() {
      return waiting.size;
    },
    settled: () => settledPromise,
    get failure() {
      return failure;
    },
    run(inputs) {
      if (state !== 'ready' || !port) return Promise.reject(new Error('the calibration worker is not ready'));
      const id = nextId++;
      const done = new Promise<RunOutput>((resolve, reject) => waiting.set(id, { resolve, reject }));
      port.post({ type: 'run', id, inputs }, []);
      return done;
    },
    release() {
      if (state === 'released') return;
      // Without runs in flight, the worker is clean once it has handled the unload (requests run
      // in order, a load still under way included) and goes back to the pool with its LiteRT
      // started, which is most of a helper's start-up cost.
      if (port && waiting.size === 0) {
        port.post({ type: 'unload' }, []);
        returnWorker(port);
      } else {
        port?.terminate();
      }
      port = null;
      state = 'released';
      onSettled();
    },
  };
}

/** Runs sent to one helper and not answered yet, at most. */
const HELPER_QUEUE = 3;
/** Samples run and waiting for an earlier one to be added, at most (memory stays bounded). */
const MAX_PENDING = 16;
/** Runs this thread times before deciding whether helpers pay. */
const TIMED_RUNS = 3;
/**
 * Helpers start when the runs left would take this thread at least this long: a new worker costs
 * its start before it loads the model, an idle one only the model load (times measured by npm run
 * bench:litert-instances, in bench/README.md).
 */
const NEW_WORKER_MIN_MS = 400;
const IDLE_WORKER_MIN_MS = 40;

/** How the helpers of an OrderedRuns come: started on demand, or given (already started). */
export interface HelperSource {
  /** Starts `count` helpers (see startHelpers). */
  start(): RunHelper[];
  /** Helpers wanted (instances - 1). */
  count: number;
  /** Samples in the calibration, if known. */
  total: number | undefined;
}

/**
 * Samples spread over this thread's LiteRT and the helpers, their results added in sample order:
 * a sample goes to a helper with room in its queue, else runs here. A helper that fails hands its
 * samples back to this thread. Helpers start once this thread has timed a few runs and the rest
 * would take long enough to pay for them (or at once, when given already started); which
 * instance runs a sample never changes the statistics, so this timing only changes the speed.
 */
export class OrderedRuns {
  private readonly pending: { inputs: RuntimeData[]; run: Promise<RunOutput>; settled: boolean }[] = [];
  private helpers: RunHelper[];
  /** Where helpers come from until this thread has decided whether to start them; then null. */
  private source: HelperSource | null;
  private decision = '';
  private pushed = 0;
  private timedMs = 0;
  private timedRuns = 0;
  /** Samples a helper ran. */
  ranByHelpers = 0;

  constructor(
    private readonly runHere: (inputs: RuntimeData[]) => Promise<RunOutput>,
    helpers: RunHelper[] | HelperSource,
    private readonly add: (inputs: RuntimeData[], output: RunOutput) => void | Promise<void>,
  ) {
    this.helpers = Array.isArray(helpers) ? helpers : [];
    this.source = Array.isArray(helpers) || helpers.count <= 0 ? null : helpers;
  }

  /** Runs one sample (here, or queued at a helper) and adds every finished sample that is next in order. */
  async push(inputs: RuntimeData[]): Promise<void> {
    this.pushed++;
    if (this.helpers.length) await yieldToEventLoop(); // hear the helpers (ready, results)
    const helper = this.helpers.find((h) => h.usable && h.inFlight < HELPER_QUEUE);
    let run: Promise<RunOutput>;
    if (helper) {
      this.ranByHelpers++;
      run = helper.run(inputs).catch(() => {
        this.ranByHelpers--;
        return this.runHere(inputs); // the worker failed: this thread runs the sample
      });
    } else if (this.source) {
      const started = performance.now();
      run = this.runHere(inputs);
      await run.catch(() => {});
      this.timedMs += performance.now() - started;
      if (++this.timedRuns >= TIMED_RUNS) this.decide();
    } else {
      run = this.runHere(inputs);
    }
    const entry = { inputs, run, settled: false };
    const settle = () => (entry.settled = true);
    run.then(settle, settle);
    this.pending.push(entry);
    if (!helper) await run;
    await this.drain(false);
  }

  private decide(): void {
    const source = this.source!;
    this.source = null;
    const perRun = this.timedMs / this.timedRuns;
    const left = source.total === undefined ? Infinity : source.total - this.pushed;
    const needed = idleWorkers() >= source.count ? IDLE_WORKER_MIN_MS : NEW_WORKER_MIN_MS;
    if (left * perRun >= needed) {
      this.helpers = source.start();
      return;
    }
    this.decision = `; 1 LiteRT instance: ${left} run(s) left, about ${Math.round(left * perRun)} ms, would not pay for starting calibration workers`;
  }

  /** Adds every sample still pending (waits for the helpers). */
  finish(): Promise<void> {
    return this.drain(true);
  }

  /** Releases the helpers (see RunHelper.release). */
  release(): void {
    for (const helper of this.helpers) helper.release();
  }

  /** For the result's statsReason: how many instances ran, and how much the helpers did. */
  describe(): string {
    const n = this.helpers.length;
    if (!n) return this.decision;
    const failures = this.helpers.flatMap((h) => (h.failure ? [h.failure] : []));
    const failed = failures.length ? `; ${failures.length} failed, its samples ran here: ${failures[0]}` : '';
    return `; ${n + 1} LiteRT instances (this thread and ${n} calibration worker${n > 1 ? 's' : ''}; ${this.ranByHelpers} samples ran in a worker${failed})`;
  }

  private async drain(all: boolean): Promise<void> {
    const pending = this.pending;
    while (pending.length && (all || pending[0].settled || pending.length > MAX_PENDING)) {
      const first = pending[0];
      const output = await first.run;
      pending.shift();
      await this.add(first.inputs, output);
    }
  }
}
