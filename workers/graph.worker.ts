/**
 * The graph worker: parses models for the graph view and lays them out (dagre), off the page's
 * main thread. A comlink adapter over src/app/graph/graph-session.ts; errors come back as ErrorInfo.
 */
import * as Comlink from 'comlink';
import { GraphSession } from '../src/app/graph/graph-session';
import type { Result } from '../src/app/worker-protocol';
import { toErrorInfo } from '../src/errors';

const session = new GraphSession();

function wrap<T>(work: () => T): Result<T> {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}

const api = {
  /** Bytes are copied by structured clone (the page keeps its own). */
  open: (key: string, bytes: Uint8Array) => wrap(() => session.open(key, bytes)),
  has: (key: string) => session.has(key),
  retain: (keep: string[]) => session.retain(keep),
  layout: (key: string, subgraph: number, collapse: boolean, expanded: string[]) => wrap(() => session.layout(key, subgraph, collapse, expanded)),
  facts: (key: string, subgraph: number, withWeights: boolean) => wrap(() => session.facts(key, subgraph, withWeights)),
  details: (key: string, subgraph: number, opIndex: number) => wrap(() => session.details(key, subgraph, opIndex)),
  diff: (floatKey: string, variantKey: string, subgraph: number) => wrap(() => session.diff(floatKey, variantKey, subgraph)),
};

export type GraphWorkerApi = typeof api;

Comlink.expose(api);
