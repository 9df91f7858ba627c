/**
 * The main-thread side of workers/optimizer.worker.ts: one worker (the pool is one worker: on a
 * 2-core machine a second one would only slow both down), started lazily, reached with comlink.
 */
import * as Comlink from 'comlink';
import { WorkbenchError } from '../errors';
import type { OptimizerWorkerApi } from '../../workers/optimizer.worker';
import type { Result } from '../app/worker-protocol';

interface RunningWorker {
  api: Comlink.Remote<OptimizerWorkerApi>;
  died: Promise<never>;
  ready: Promise<void>;
}

let running: RunningWorker | null = null;

export function optimizerWorker(): RunningWorker {
  if (running) return running;
  const worker = new Worker(new URL('../../workers/optimizer.worker.ts', import.meta.url), { type: 'module', name: 'optimizer-worker' });
  const died = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      if (running?.died === died) running = null;
      worker.terminate();
      reject(new WorkbenchError('runtime', `The optimizer worker stopped unexpectedly${event.message ? ` (${event.message})` : ''}. Reload the page.`));
    });
  });
  died.catch(() => {});
  const api = Comlink.wrap<OptimizerWorkerApi>(worker);
  const ready = Promise.race([api.init(document.baseURI), died]).then((r) => {
    if (!r.ok) throw new WorkbenchError(r.error.code, r.error.message);
  });
  ready.catch(() => {});
  running = { api, died, ready };
  return running;
}

/** Calls the worker (after it started LiteRT); a worker error becomes a thrown WorkbenchError. */
export async function callWorker<T>(call: (api: Comlink.Remote<OptimizerWorkerApi>) => Promise<Result<T>>): Promise<T> {
  const w = optimizerWorker();
  await Promise.race([w.ready, w.died]);
  const result = await Promise.race([call(w.api), w.died]);
  if (!result.ok) throw new WorkbenchError(result.error.code, result.error.message);
  return result.value;
}
