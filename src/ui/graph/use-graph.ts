/**
 * Hooks that ask the graph worker for what the panel draws: a laid-out subgraph, per-op facts, the
 * float-vs-variant op match, one op's details. Each answer is dropped if a newer question was asked
 * meanwhile; results come into React as transitions, so a big graph renders in slices.
 */
import { startTransition, useEffect, useState } from 'react';
import type { LaidOutView, ModelOutline } from '../../app/graph/graph-session';
import type { OpDetails } from '../../app/graph/op-facts';
import type { OpFacts } from '../../app/graph/op-facts';
import type { OpDiff } from '../../app/graph/op-match';
import { toErrorInfo } from '../../errors';
import { callGraph, ensureModel, firstLayout, workerKey } from './graph-client';

export interface Loaded<T> {
  value: T | null;
  error: string | null;
  loading: boolean;
}

/** Runs `ask` whenever `deps` change (or not at all when `ask` is null), keeping only the latest answer. */
function useAsk<T>(ask: (() => Promise<T>) | null, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ value: null, error: null, loading: false });
  useEffect(() => {
    if (!ask) {
      setState({ value: null, error: null, loading: false });
      return;
    }
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    ask().then(
      (value) => live && startTransition(() => setState({ value, error: null, loading: false })),
      (error) => live && setState({ value: null, error: toErrorInfo(error).message, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}

export type ModelSource = { key: string; bytes: Uint8Array } | null;

export function useOutline(source: ModelSource): Loaded<ModelOutline> {
  return useAsk(source && (() => ensureModel(source.key, source.bytes)), [source?.key, source?.bytes]);
}

export function useLayout(source: ModelSource, subgraph: number, collapse: boolean, expanded: string[]): Loaded<LaidOutView & { requestedAt: number }> {
  return useAsk(source && (async () => {
    const requestedAt = performance.now();
    await ensureModel(source.key, source.bytes);
    const first = source.key === 'float' && subgraph === 0 && !collapse && !expanded.length;
    const laid = first ? await firstLayout(source.bytes) : await callGraph((api) => api.layout(workerKey(source.key, source.bytes), subgraph, collapse, expanded));
    performance.mark('graph:layout-received'); // e2e/graph.test.mjs times the drawing from here
    return { ...laid, requestedAt };
  }), [source?.key, source?.bytes, subgraph, collapse, expanded.join()]);
}

export function useFacts(source: ModelSource, subgraph: number, withWeights: boolean, wanted: boolean): Loaded<OpFacts[]> {
  return useAsk(source && wanted ? async () => {
    await ensureModel(source.key, source.bytes);
    return callGraph((api) => api.facts(workerKey(source.key, source.bytes), subgraph, withWeights));
  } : null, [source?.key, source?.bytes, subgraph, withWeights, wanted]);
}

export function useDiff(float: ModelSource, variant: ModelSource, subgraph: number): Loaded<OpDiff> {
  return useAsk(float && variant ? async () => {
    await ensureModel(float.key, float.bytes);
    await ensureModel(variant.key, variant.bytes);
    return callGraph((api) => api.diff(workerKey(float.key, float.bytes), workerKey(variant.key, variant.bytes), subgraph));
  } : null, [float?.key, float?.bytes, variant?.key, variant?.bytes, subgraph]);
}

export function useDetails(source: ModelSource, subgraph: number, opIndex: number | null): Loaded<OpDetails> {
  return useAsk(source && opIndex !== null ? async () => {
    await ensureModel(source.key, source.bytes);
    return callGraph((api) => api.details(workerKey(source.key, source.bytes), subgraph, opIndex));
  } : null, [source?.key, source?.bytes, subgraph, opIndex]);
}
