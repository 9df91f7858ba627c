/**
 * Magnitude pruning of a float .tflite: the smallest |w| of each weight tensor in scope become 0.
 *
 * - Target sparsity per tensor (every tensor loses the same fraction, tfmot's ConstantSparsity per
 *   layer), per output channel (every channel loses the same fraction: kinder to models whose batch
 *   norm is folded into the weights), or one global threshold over all tensors in scope.
 * - Unstructured, or 2:4 structured: 2 zeros in every block of 4 consecutive weights along the
 *   input-channel axis, the innermost axis of CONV_2D / TRANSPOSE_CONV [out, h, w, in] and
 *   FULLY_CONNECTED [out, in] (what sparse tensor cores read). DEPTHWISE_CONV_2D [1, h, w, c] has
 *   one input channel per output channel, so it has no input-channel blocks: it is left dense in
 *   2:4 mode (as NVIDIA's ASP skips depthwise/grouped convs) and the result says so. A row whose
 *   length is not a multiple of 4 has its last, shorter block pruned to floor(len / 2) zeros.
 * - Scope: op types, a regex over weight tensor names, recipe exclusions (op type or output-name
 *   regex, as --exclude), a minimum size, and optionally the first conv / last FC kept dense.
 * The k-th smallest |w| is found by quickselect on a Float32Array copy (O(n) on average), not a sort.
 */
import { WorkbenchError } from '../errors';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { BuiltinOperator as Op } from '../tflite/schema/generated/tflite_generated';
import { constantAsFloat32 } from './quantize/fold-dequantize';
import { bytesOf } from './quantize/params';
import { weightSites, type WeightSite } from './quantize/weight-sites';
import { scopeMatches, type Scope } from './recipe';

export interface WeightScope {
  /** Op types whose weights are in scope. */
  opTypes: string[];
  /** Only weights whose tensor name matches this regex (all when absent). */
  namePattern?: string;
  /** Ops left alone (recipe scopes: op type or output-tensor-name regex, as --exclude). */
  exclude: Scope[];
  /** Weight tensors with fewer elements are left alone. */
  minElements: number;
  keepFirstConv: boolean;
  keepLastFc: boolean;
}

/**
 * Default scope. DEPTHWISE_CONV_2D is left out: its 3x3 filters are a few percent of the weights and
 * each weight matters (measured on mobilenet_v1_0.25: pruning 10% of the depthwise weights alone cost
 * 13 points of top-1); add it with ops= when you want it.
 */
export const PRUNE_OP_TYPES = ['CONV_2D', 'FULLY_CONNECTED', 'TRANSPOSE_CONV'];

export type PruneStructure = 'unstructured' | '2of4';
export type PruneThreshold = 'per-tensor' | 'per-channel' | 'global';

export interface PruneOptions extends Partial<WeightScope> {
  /** Fraction of weights set to zero, in [0, 1); 2:4 means 0.5. */
  sparsity: number;
  structure?: PruneStructure;
  threshold?: PruneThreshold;
}

/** One weight tensor in scope (shared weights appear once, with every op that reads them). */
export interface ScopedWeight {
  subgraph: number;
  tensor: number;
  name: string;
  shape: number[];
  /** Output-channel axis (for per-channel work), or null. */
  axis: number | null;
  builtin: Op;
  ops: number[];
}

export interface PrunedTensor {
  name: string;
  op: string;
  shape: number[];
  elements: number;
  zerosBefore: number;
  zeros: number;
  sparsity: number;
  /** |w| at or below which weights were pruned (per tensor or the global one); NaN for 2:4. */
  threshold: number;
}

export interface PruneResult {
  graph: ModelGraph;
  tensors: PrunedTensor[];
  /** Zeros / elements over all tensors in scope. */
  sparsity: number;
  notes: string[];
}

const fail = (message: string): never => {
  throw new WorkbenchError('bad-input', message);
};

export function defaultScope(opTypes: string[], partial: Partial<WeightScope> = {}): WeightScope {
  return {
    opTypes: partial.opTypes ?? opTypes,
    namePattern: partial.namePattern,
    exclude: partial.exclude ?? [],
    minElements: partial.minElements ?? 0,
    keepFirstConv: partial.keepFirstConv ?? false,
    keepLastFc: partial.keepLastFc ?? false,
  };
}

/** Float weight tensors in scope, one entry per tensor. */
export function scopedWeights(graph: ModelGraph, scope: WeightScope): ScopedWeight[] {
  let pattern: RegExp | null = null;
  if (scope.namePattern !== undefined) {
    try {
      pattern = new RegExp(scope.namePattern);
    } catch {
      fail(`"${scope.namePattern}" is not a valid regular expression`);
    }
  }
  const sites = weightSites(graph, scope.minElements).filter((site) => site.input === 1 || site.builtin === Op.BATCH_MATMUL);
  const opsOf = (type: Op) => sites.filter((s) => s.subgraph === 0 && s.builtin === type).map((s) => s.op);
  const firstConv = scope.keepFirstConv ? Math.min(...opsOf(Op.CONV_2D)) : -1;
  const lastFc = scope.keepLastFc ? Math.max(...opsOf(Op.FULLY_CONNECTED)) : -1;
  const byTensor = new Map<string, ScopedWeight>();
  const excluded = new Set<string>();
  for (const site of sites) {
    const key = `${site.subgraph}:${site.tensor}`;
    const subgraph = graph.subgraphs[site.subgraph];
    const op = subgraph.operators[site.op];
    const tensor = subgraph.tensors[site.tensor];
    const inScope =
      scope.opTypes.includes(opName(graph, op)) &&
      (!pattern || pattern.test(tensor.name)) &&
      !scope.exclude.some((x) => scopeMatches(x, graph, site.subgraph, op)) &&
      !(site.subgraph === 0 && (site.op === firstConv || site.op === lastFc));
    if (!inScope) {
      excluded.add(key); // a weight read by an op out of scope stays as it is for every reader
      continue;
    }
    const entry = byTensor.get(key);
    if (entry) entry.ops.push(site.op);
    else byTensor.set(key, { subgraph: site.subgraph, tensor: site.tensor, name: tensor.name, shape: [...tensor.shape], axis: site.axis, builtin: site.builtin, ops: [site.op] });
  }
  return [...byTensor.values()].filter((w) => !excluded.has(`${w.subgraph}:${w.tensor}`));
}

/** Replace a constant's values (new buffer data; the source graph's arrays are never written). */
export function setWeights(graph: ModelGraph, w: Pick<ScopedWeight, 'subgraph' | 'tensor'>, values: Float32Array): void {
  const tensor = graph.subgraphs[w.subgraph].tensors[w.tensor];
  graph.buffers[tensor.buffer] = { data: bytesOf(values) };
}

/** The k-th smallest value (0-based) of `a`, which is reordered. Quickselect, median of three. */
export function kthSmallest(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three to a[hi]
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[mid] < a[hi]) swap(a, mid, hi);
    const pivot = a[hi];
    let i = lo;
    let j = hi - 1;
    for (;;) {
      while (a[i] < pivot) i++;
      while (j > lo && a[j] > pivot) j--;
      if (i >= j) break;
      swap(a, i, j);
      i++;
      j--;
    }
    swap(a, i, hi);
    if (i === k) return a[i];
    if (i < k) lo = i + 1;
    else hi = i - 1;
  }
  return a[k];
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function countZeros(values: Float32Array): number {
  let z = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) z++;
  return z;
}

/** Zero every |w| < threshold and then |w| == threshold while `ties` allows; returns ties used. */
function zeroBelow(values: Float32Array, threshold: number, ties: number): number {
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a < threshold) values[i] = 0;
    else if (a === threshold && ties > 0) {
      values[i] = 0;
      ties--;
    }
  }
  return ties;
}

function countBelow(values: Float32Array, threshold: number): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) < threshold) n++;
  return n;
}

function absCopy(values: Float32Array, out: Float32Array = new Float32Array(values.length), offset = 0): Float32Array {
  for (let i = 0; i < values.length; i++) out[offset + i] = Math.abs(values[i]);
  return out;
}

/** 2 zeros in every block of 4 along the innermost axis (a shorter last block: floor(len / 2)). */
function prune2of4(values: Float32Array, rowLength: number): void {
  const rows = values.length / rowLength;
  const order = [0, 0, 0, 0];
  for (let r = 0; r < rows; r++) {
    const base = r * rowLength;
    for (let b = 0; b < rowLength; b += 4) {
      const size = Math.min(4, rowLength - b);
      const drop = size >> 1;
      if (!drop) continue;
      for (let i = 0; i < size; i++) order[i] = base + b + i;
      // sort the block's indices by |w| (insertion sort of <= 4)
      for (let i = 1; i < size; i++) {
        const x = order[i];
        let j = i - 1;
        while (j >= 0 && Math.abs(values[order[j]]) > Math.abs(values[x])) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = x;
      }
      for (let i = 0; i < drop; i++) values[order[i]] = 0;
    }
  }
}

export function checkSparsity(sparsity: number): void {
  if (typeof sparsity !== 'number' || !Number.isFinite(sparsity) || sparsity < 0 || sparsity >= 1) {
    fail(`Pruning sparsity must be in [0, 1) (the fraction of weights set to zero), got ${sparsity}.`);
  }
}

export function pruneModel(source: ModelGraph, options: PruneOptions): PruneResult {
  checkSparsity(options.sparsity);
  const structure = options.structure ?? 'unstructured';
  if (structure === '2of4' && options.sparsity !== 0.5) fail(`2:4 pruning sets exactly half the weights to zero; sparsity must be 0.5, got ${options.sparsity}.`);
  const scope = defaultScope(PRUNE_OP_TYPES, options);
  const graph = cloneGraph(source);
  const notes: string[] = [];
  let weights = scopedWeights(graph, scope);
  if (!weights.length) fail(`No float weights to prune in scope (op types ${scope.opTypes.join(', ')}${scope.namePattern ? `, names /${scope.namePattern}/` : ''}, at least ${scope.minElements} elements).`);
  if (structure === '2of4') {
    const depthwise = weights.filter((w) => w.builtin === Op.DEPTHWISE_CONV_2D);
    if (depthwise.length) notes.push(`${depthwise.length} DEPTHWISE_CONV_2D weight tensor(s) left dense: a depthwise filter has one input channel, so there are no 2:4 blocks along it`);
    weights = weights.filter((w) => w.builtin !== Op.DEPTHWISE_CONV_2D);
  }
  const values = weights.map((w) => constantAsFloat32(graph, w.subgraph, w.tensor));
  const zerosBefore = values.map(countZeros);
  const thresholds = new Array<number>(weights.length).fill(NaN);
  if (structure === '2of4') {
    values.forEach((v, i) => {
      const rowLength = weights[i].shape[weights[i].shape.length - 1] ?? v.length;
      if (rowLength % 4) notes.push(`"${weights[i].name}": input-channel length ${rowLength} is not a multiple of 4; its last block of ${rowLength % 4} keeps ${rowLength % 4 - ((rowLength % 4) >> 1)}`);
      prune2of4(v, rowLength);
    });
  } else if ((options.threshold ?? 'per-tensor') === 'global') {
    const total = values.reduce((n, v) => n + v.length, 0);
    const target = Math.ceil(options.sparsity * total);
    if (target > 0) {
      const all = new Float32Array(total);
      let offset = 0;
      for (const v of values) {
        absCopy(v, all, offset);
        offset += v.length;
      }
      const threshold = kthSmallest(all, target - 1);
      let ties = target - values.reduce((n, v) => n + countBelow(v, threshold), 0);
      values.forEach((v, i) => {
        ties = zeroBelow(v, threshold, ties);
        thresholds[i] = threshold;
      });
    }
  } else if (options.threshold === 'per-channel') {
    // Every output channel loses the same fraction: with batch norm folded into the weights the
    // channels' scales differ widely, and one threshold per tensor would empty the small channels.
    values.forEach((v, i) => {
      const axis = weights[i].axis ?? 0;
      const shape = weights[i].shape;
      const channels = shape[axis] ?? 1;
      const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
      const outer = shape.slice(0, axis).reduce((a, d) => a * d, 1);
      const group = new Float32Array(outer * inner);
      for (let c = 0; c < channels; c++) {
        for (let o = 0; o < outer; o++) group.set(v.subarray((o * channels + c) * inner, (o * channels + c + 1) * inner), o * inner);
        const target = Math.ceil(options.sparsity * group.length);
        if (target === 0) continue;
        const threshold = kthSmallest(absCopy(group), target - 1);
        zeroBelow(group, threshold, target - countBelow(group, threshold));
        for (let o = 0; o < outer; o++) v.set(group.subarray(o * inner, (o + 1) * inner), (o * channels + c) * inner);
      }
    });
  } else {
    values.forEach((v, i) => {
      const target = Math.ceil(options.sparsity * v.length);
      if (target === 0) return;
      const threshold = kthSmallest(absCopy(v), target - 1);
      zeroBelow(v, threshold, target - countBelow(v, threshold));
      thresholds[i] = threshold;
    });
  }
  const tensors: PrunedTensor[] = weights.map((w, i) => {
    setWeights(graph, w, values[i]);
    const zeros = countZeros(values[i]);
    return {
      name: w.name,
      op: opName(graph, graph.subgraphs[w.subgraph].operators[w.ops[0]]),
      shape: w.shape,
      elements: values[i].length,
      zerosBefore: zerosBefore[i],
      zeros,
      sparsity: zeros / values[i].length,
      threshold: thresholds[i],
    };
  });
  const elements = tensors.reduce((n, t) => n + t.elements, 0);
  const zeros = tensors.reduce((n, t) => n + t.zeros, 0);
  return { graph, tensors, sparsity: elements ? zeros / elements : 0, notes };
}

export type { WeightSite };
