/**
 * Accounting of a model's weight copies, for bench:scale (issue #13: "weights are not copied more
 * than twice at any time"). Off unless a bench starts it, and then nothing but a null check where
 * copies are made: the reader notes the bytes it reads, the writer the file it writes and the graph
 * it writes from, the runtime adapter the model buffer LiteRT holds in its wasm heap.
 *
 * A JS copy is counted by its ArrayBuffer (the memory that stays alive while any view of it does)
 * under the kind it was first noted as, until it is collected. Liveness comes from a
 * FinalizationRegistry, not WeakRefs: a WeakRef keeps its target alive to the end of the current
 * job, which would keep every per-tensor working copy of a synchronous pass alive and distort
 * what is measured. Its callbacks normally run between tasks after a collection, so an array
 * dropped within the synchronous stretch of a measure would still count there (high, never low);
 * the bench hands in a registry with V8's cleanupSome (behind a flag), which runs them at once
 * after its forced GC: each measure then counts exactly the reachable copies.
 * LiteRT's copies live in its wasm heap, out of JS's sight: they are held and released explicitly.
 */
import type { ModelGraph } from './graph';

export interface WeightCopies {
  /** Where the measure was taken (the last note or step). */
  at: string;
  /** Bytes alive by kind. */
  byKind: Map<string, number>;
  total: number;
}

export interface WeightLedger {
  /** The measure with the most bytes alive since start (or since the last takeStepPeak). */
  peak: WeightCopies | null;
  stepPeak: WeightCopies | null;
  /** Measures now (collecting first) and returns it; `at` names the moment. */
  measure(at: string): WeightCopies;
  /** The step's peak, and starts a new step. */
  takeStepPeak(): WeightCopies | null;
}

interface Entry {
  kind: string;
  bytes: number;
}

let active: Ledger | null = null;

class Ledger implements WeightLedger {
  peak: WeightCopies | null = null;
  stepPeak: WeightCopies | null = null;
  /** Noted JS copies not collected yet, by id. */
  private entries = new Map<number, Entry>();
  private seen = new WeakSet<ArrayBufferLike>();
  private nextEntry = 0;
  private collected: FinalizationRegistry<number> & { cleanupSome?: () => void };
  private held = new Map<number, { kind: string; bytes: number }>();
  private nextHold = 0;

  constructor(
    private readonly collect: () => void,
    private readonly minBytes: number,
    registry: typeof FinalizationRegistry,
  ) {
    this.collected = new registry<number>((id) => this.entries.delete(id));
  }

  note(kind: string, data: ArrayBufferView, at: string | null): void {
    const buffer = data.buffer;
    if (this.seen.has(buffer)) return;
    this.seen.add(buffer);
    const id = this.nextEntry++;
    this.entries.set(id, { kind, bytes: buffer.byteLength });
    this.collected.register(buffer, id);
    if (at !== null && buffer.byteLength >= this.minBytes) this.measure(at);
  }

  hold(kind: string, bytes: number, at: string): () => void {
    const id = this.nextHold++;
    this.held.set(id, { kind, bytes });
    this.measure(at);
    return () => this.held.delete(id);
  }

  measure(at: string): WeightCopies {
    this.collect();
    this.collected.cleanupSome?.();
    const byKind = new Map<string, number>();
    for (const e of [...this.entries.values(), ...this.held.values()]) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + e.bytes);
    let total = 0;
    for (const bytes of byKind.values()) total += bytes;
    const copies = { at, byKind, total };
    if (!this.peak || total > this.peak.total) this.peak = copies;
    if (!this.stepPeak || total > this.stepPeak.total) this.stepPeak = copies;
    return copies;
  }

  takeStepPeak(): WeightCopies | null {
    const peak = this.stepPeak;
    this.stepPeak = null;
    return peak;
  }
}

/**
 * Starts accounting. `collect` runs before each measure (pass a forced GC, else unreachable copies
 * count until collected), then `registry`'s cleanupSome where it has one (see the header); a noted
 * array of at least `minBytes` measures at once (the moment a copy is made is when it overlaps the others).
 */
export function startWeightLedger(options: { collect?: () => void; minBytes?: number; registry?: typeof FinalizationRegistry } = {}): WeightLedger {
  active = new Ledger(options.collect ?? (() => {}), options.minBytes ?? 1e6, options.registry ?? FinalizationRegistry);
  return active;
}

export function stopWeightLedger(): void {
  active = null;
}

/** A new array holding weights (or a whole model) of kind `kind`; views of a noted buffer count once. */
export function noteWeightCopy(kind: string, data: ArrayBufferView, at = kind): void {
  active?.note(kind, data, at);
}

/** Every buffer of `graph` not noted yet (arrays optimizers made), as `kind`. */
export function noteGraphWeights(kind: string, graph: ModelGraph, at = kind): void {
  if (!active) return;
  for (const buffer of graph.buffers) if (buffer.data.length) active.note(kind, buffer.data, null);
  active.measure(at);
}

/** Weights held outside JS's heap (LiteRT's wasm heap); call the returned function when they go. */
export function holdWeightCopy(kind: string, bytes: number, at = kind): () => void {
  return active ? active.hold(kind, bytes, at) : () => {};
}
