/** The page's side of workers/graph.worker.ts: one lazily started worker, reached with comlink. */
import * as Comlink from 'comlink';
import type { LaidOutView, ModelOutline } from '../../app/graph/graph-session';
import type { Result } from '../../app/worker-protocol';
import { WorkbenchError } from '../../errors';
import type { GraphWorkerApi } from '../../../workers/graph.worker';

let api: Comlink.Remote<GraphWorkerApi> | null = null;
let died: Promise<never> | null = null;

function graphWorker(): { api: Comlink.Remote<GraphWorkerApi>; died: Promise<never> } {
  if (api && died) return { api, died };
  const worker = new Worker(new URL('../../../workers/graph.worker.ts', import.meta.url), { type: 'module', name: 'graph-worker' });
  died = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      api = null;
      died = null;
      opened = new Map();
      worker.terminate();
      reject(new WorkbenchError('runtime', `The graph worker stopped unexpectedly${event.message ? ` (${event.message})` : ''}. Reload the page to draw the graph again.`));
    });
  });
  died.catch(() => {});
  api = Comlink.wrap<GraphWorkerApi>(worker);
  return { api, died };
}

/** Calls the worker and unwraps its Result: an ErrorInfo comes back as a thrown WorkbenchError. */
export async function callGraph<T>(call: (api: Comlink.Remote<GraphWorkerApi>) => Promise<Result<T>>): Promise<T> {
  const w = graphWorker();
  const result = await Promise.race([call(w.api), w.died]);
  if (!result.ok) throw new WorkbenchError(result.error.code, result.error.message);
  return result.value;
}

/** Worker keys are per byte array too: a model opened later under the same name never answers for an earlier one. */
const ids = new WeakMap<Uint8Array, number>();
let nextId = 1;
export function workerKey(key: string, bytes: Uint8Array): string {
  if (!ids.has(bytes)) ids.set(bytes, nextId++);
  return `${key}@${ids.get(bytes)}`;
}

/**
 * Makes sure the worker holds `bytes` under `key`: sent and parsed once per key and byte array (the
 * promise is shared, so the outline, layout and facts asked at once wait for one parse). A new float
 * model makes the worker drop every model it held.
 */
let opened = new Map<string, Promise<ModelOutline>>();
export function ensureModel(key: string, bytes: Uint8Array): Promise<ModelOutline> {
  const id = workerKey(key, bytes);
  let promise = opened.get(id);
  if (!promise) {
    if (key === 'float') {
      opened = new Map();
      void graphWorker().api.retain([]);
    }
    promise = callGraph((a) => a.open(id, bytes));
    promise.catch(() => opened.delete(id));
    opened.set(id, promise);
  }
  return promise;
}

/**
 * The first drawing of a model (subgraph 0, chains expanded) asked for as soon as its bytes are read,
 * while the summary is still being made, so the graph is ready when its panel mounts.
 */
const firstLayouts = new WeakMap<Uint8Array, Promise<LaidOutView>>();
export function firstLayout(bytes: Uint8Array): Promise<LaidOutView> {
  let promise = firstLayouts.get(bytes);
  if (!promise) {
    promise = ensureModel('float', bytes).then(() => callGraph((a) => a.layout(workerKey('float', bytes), 0, false, [])));
    promise.catch(() => firstLayouts.delete(bytes));
    firstLayouts.set(bytes, promise);
  }
  return promise;
}
