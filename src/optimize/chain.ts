/**
 * Chains: prune and/or cluster the float weights, then (optionally) quantize, keeping what the
 * first steps made:
 *   prune:0.5+int8   cluster:16+int8   prune:0.5+cluster:16+int8   cluster:32+float16
 *   prune:0.5:2of4+dynamic   cluster:16:kmeans++:per-channel+weight-int8
 * Steps: `prune:S[:2of4][:global|per-channel][:keep-first][:keep-last][:min=N][:ops=A,B]`,
 * `cluster:K[:optimal|kmeans++|linear|density|random][:per-channel][:keep-zeros][:seed=N][:min=N][:ops=A,B]`,
 * and one quantization technique (float16, weight-int8, dynamic, int8, int16x8), last.
 * Pruned zeros survive quantization because weights are symmetric (zero point 0); clusters survive
 * because the quantizer is given clusterWeightParams (one scale per cluster group, so k centroids
 * are k integers). Both are checked on the result, and the model is run once in LiteRT.
 * qat before int8 with int4 weights (W4A8) starts from the PTQ model and learns the int4 steps
 * (chain-qat-int4.ts); with int8 weights it trains the float model with int8 fake quantization.
 */
import { WorkbenchError } from '../errors';
import type { Samples } from '../runtime/samples';
import { cloneGraph } from '../tflite/edit';
import type { ModelGraph } from '../tflite/graph';
import { readModel } from '../tflite/read';
import { quantizationState } from '../tflite/summary';
import { writeModel } from '../tflite/write';
import { clusterModel, checkClusterCount, weightFingerprint, type ClusterOptions, type ClusteredTensor } from './cluster';
import { CLUSTER_INITS, type ClusterInit } from './kmeans1d';
import { weightSites } from './quantize/weight-sites';
import { checkRuns, optimizeModel, type OptimizeResult, type Stage } from './pipeline';
import { qatInt4, qatInt4Problem } from './chain-qat-int4';
import { finetune, type FinetuneOptions, type FinetuneResult, type TrainingData } from './finetune';
import { checkSparsity, pruneModel, type PruneOptions, type PrunedTensor } from './prune';
import { constantAsFloat32, dropUnused, foldConstantDequantize } from './quantize/fold-dequantize';
import { clusterWeightParams, type WeightParamsHook } from './quantize/params';
import { asksInt4, defaultRecipe, parseRecipe, TECHNIQUES, type Recipe, type Scope, type Technique } from './recipe';
import { weightReport, weightsByName, type ModelWeightReport } from './sparsity-report';

export interface Chain {
  text: string;
  prune?: PruneOptions;
  cluster?: ClusterOptions;
  /** Train on the engine after pruning/clustering (finetune) or with fake quantization (qat). */
  train?: { mode: 'finetune' | 'qat' };
  quantize?: Recipe;
}

const fail = (message: string): never => {
  throw new WorkbenchError('bad-input', `Invalid chain: ${message}.`);
};

/** Is this recipe text a chain (rather than one plain technique)? */
export function isChainText(text: string): boolean {
  return /(^|\+)\s*(prune|cluster|finetune|qat)\b/.test(text) || text.includes('+');
}

export interface ChainParseOptions {
  /** The quantization recipe for a technique (CLI flags on top of the defaults). */
  recipeFor?: (technique: Technique) => Recipe;
  /** Ops every step leaves alone (as --exclude). */
  exclude?: Scope[];
}

function parseNumber(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) fail(`${what} must be a number, got "${text}"`);
  return n;
}

function parseOps(text: string): string[] {
  const ops = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const op of ops) parseRecipe({ technique: 'float16', keepFloat: [{ opTypes: [op] }] }); // validates the name
  return ops;
}

export function parseChain(text: string, options: ChainParseOptions = {}): Chain {
  const chain: Chain = { text };
  // "kmeans++" holds two "+" of its own: protect it while splitting the steps.
  const steps = text
    .replace(/kmeans\+\+/g, 'kmeans__pp')
    .split('+')
    .map((s) => s.trim().replace(/kmeans__pp/g, 'kmeans++'));
  let quantizedBy: string | null = null;
  steps.forEach((step, index) => {
    if (!step) fail(`step ${index + 1} of "${text}" is empty`);
    const [name, ...args] = step.split(':').map((s) => s.trim());
    if (quantizedBy && (name === 'prune' || name === 'cluster')) {
      fail(`"${name}" after "${quantizedBy}": ${quantizedBy} leaves integer or float16 weights, and ${name === 'prune' ? 'pruning' : 'clustering'} works on float weights; put it first (e.g. ${name === 'prune' ? 'prune:0.5' : 'cluster:16'}+${quantizedBy})`);
    }
    if (name === 'prune') {
      if (chain.prune) fail('prune appears twice');
      if (chain.cluster) fail('prune after cluster would add zero as one more value to every clustered tensor; prune first (prune:0.5+cluster:16)');
      chain.prune = parsePrune(args);
    } else if (name === 'cluster') {
      if (chain.cluster) fail('cluster appears twice');
      chain.cluster = parseCluster(args);
      if (chain.prune) chain.cluster.preserveZeros = true;
    } else if (name === 'finetune' || name === 'qat') {
      if (chain.train) fail(`"${name}" after "${chain.train.mode}": train once per chain`);
      if (args.length) fail(`"${name}" takes no arguments (use --epochs, --batch, --lr)`);
      if (name === 'finetune' && !chain.prune && !chain.cluster) fail('"finetune" follows prune or cluster (e.g. prune:0.75+finetune+int8); to train for quantization use qat+int8');
      chain.train = { mode: name };
    } else if ((TECHNIQUES as readonly string[]).includes(name)) {
      if (quantizedBy) fail(`two quantization steps ("${quantizedBy}" and "${name}"); a chain ends with one`);
      if (args.length) fail(`"${name}" takes no arguments in a chain (use the recipe options, e.g. --per-tensor, --io)`);
      quantizedBy = name;
      chain.quantize = options.recipeFor ? options.recipeFor(name as Technique) : defaultRecipe(name as Technique);
    } else {
      fail(`unknown step "${name}" (known: prune:SPARSITY, cluster:K, ${TECHNIQUES.join(', ')})`);
    }
  });
  if (!chain.prune && !chain.cluster && !chain.train) fail(`"${text}" has neither prune, cluster nor qat; a plain technique is a recipe, not a chain`);
  if (chain.train?.mode === 'qat' && chain.quantize?.technique !== 'int8') {
    fail(`qat simulates int8 and must end in int8 (qat+int8)${chain.quantize ? `, not ${chain.quantize.technique}` : ''}`);
  }
  const int4Problem = chain.train?.mode === 'qat' ? qatInt4Problem(chain.quantize, !!(chain.prune || chain.cluster)) : null;
  if (int4Problem) fail(int4Problem);
  const exclude = [...(options.exclude ?? []), ...(chain.quantize?.keepFloat ?? [])];
  if (chain.prune) chain.prune.exclude = [...exclude];
  if (chain.cluster) chain.cluster.exclude = [...exclude];
  return chain;
}

function parseScopeArg(arg: string, target: PruneOptions | ClusterOptions): boolean {
  if (arg === 'keep-first') target.keepFirstConv = true;
  else if (arg === 'keep-last') target.keepLastFc = true;
  else if (arg.startsWith('min=')) {
    const n = parseNumber(arg.slice(4), 'min');
    if (!Number.isInteger(n) || n < 0) fail(`min= takes a non-negative integer, got "${arg.slice(4)}"`);
    target.minElements = n;
  } else if (arg.startsWith('ops=')) target.opTypes = parseOps(arg.slice(4));
  else return false;
  return true;
}

function parsePrune(args: string[]): PruneOptions {
  if (!args.length) fail('prune needs a sparsity, e.g. prune:0.5 (or prune:2of4)');
  const [first, ...rest] = args;
  const options: PruneOptions = { sparsity: first === '2of4' ? 0.5 : parseNumber(first, 'the pruning sparsity') };
  if (first === '2of4') options.structure = '2of4';
  for (const arg of rest) {
    if (arg === '2of4' || arg === '2:4') options.structure = '2of4';
    else if (arg === 'global') options.threshold = 'global';
    else if (arg === 'per-tensor') options.threshold = 'per-tensor';
    else if (arg === 'per-channel') options.threshold = 'per-channel';
    else if (!parseScopeArg(arg, options)) fail(`unknown prune option "${arg}" (known: 2of4, global, per-channel, keep-first, keep-last, min=N, ops=A,B)`);
  }
  checkSparsity(options.sparsity);
  if (options.structure === '2of4' && options.sparsity !== 0.5) fail(`2:4 pruning is sparsity 0.5, got ${options.sparsity}`);
  return options;
}

function parseCluster(args: string[]): ClusterOptions {
  if (!args.length) fail('cluster needs a number of clusters, e.g. cluster:16');
  const [first, ...rest] = args;
  const k = parseNumber(first, 'the number of clusters');
  checkClusterCount(k);
  const options: ClusterOptions = { clusters: k };
  for (const arg of rest) {
    if ((CLUSTER_INITS as readonly string[]).includes(arg)) {
      options.algorithm = 'lloyd';
      options.init = arg as ClusterInit;
    } else if (arg === 'optimal') options.algorithm = 'optimal';
    else if (arg === 'per-channel') options.perChannel = true;
    else if (arg === 'per-tensor') options.perChannel = false;
    else if (arg === 'keep-zeros') options.preserveZeros = true;
    else if (arg.startsWith('seed=')) options.seed = parseNumber(arg.slice(5), 'seed');
    else if (!parseScopeArg(arg, options)) fail(`unknown cluster option "${arg}" (known: optimal, ${CLUSTER_INITS.join(', ')}, per-channel, keep-zeros, seed=N, keep-first, keep-last, min=N, ops=A,B)`);
  }
  return options;
}

/** A short label, e.g. "prune0.5-cluster16-int8". */
export function chainLabel(chain: Chain): string {
  const parts: string[] = [];
  if (chain.prune) parts.push(`prune${chain.prune.sparsity}${chain.prune.structure === '2of4' ? '-2of4' : chain.prune.threshold && chain.prune.threshold !== 'per-tensor' ? `-${chain.prune.threshold}` : ''}`);
  if (chain.cluster) parts.push(`cluster${chain.cluster.clusters}${chain.cluster.perChannel ? 'pc' : ''}`);
  if (chain.train) parts.push(chain.train.mode);
  if (chain.quantize) parts.push(chain.quantize.technique);
  return parts.join('-');
}

/**
 * The quantizer's weight parameters for the clustered tensors (recognized by content, as the
 * quantizer sees copies); null for every other tensor, which keeps the default parameters.
 */
export function clusterPreservingParams(cluster: ClusterOptions, clustered?: Set<string>): WeightParamsHook {
  return (values, shape, axis, perChannel) => {
    if (clustered && !clustered.has(weightFingerprint(values))) return null;
    return clusterWeightParams(values, shape, axis, !!cluster.perChannel, perChannel, cluster.clusters)?.params ?? null;
  };
}

export interface ChainRequest {
  model: Uint8Array;
  chain: Chain;
  calibration?: Samples;
  calibrationCount?: number;
  onProgress?: (stage: Stage | 'prune' | 'cluster' | 'train', done: number, total?: number) => void;
  signal?: AbortSignal;
  skipCheck?: boolean;
  /** Data for the finetune / qat step, and its settings (epochs, batch, lr...). */
  training?: {
    data: TrainingData;
    options?: Omit<FinetuneOptions, 'mode' | 'signal' | 'teacher' | 'clustered'>;
    /** Stops training only: the best weights so far go on through the rest of the chain. */
    signal?: AbortSignal;
  };
  /** Passed to the quantize step (see OptimizeRequest.allowFloatFallback). */
  allowFloatFallback?: boolean;
  /** Passed to the quantize step (see OptimizeRequest.activationSummaries). */
  activationSummaries?: boolean;
}

export interface ChainChecks {
  /** Pruned zeros that are no longer zero in the result (must be 0). */
  zerosLost?: number;
  /** Most distinct values in one clustered tensor (or channel, when clustered per channel) of the result. */
  maxDistinctClustered?: number;
  /** Clustered tensors whose result has more than k distinct values (must be 0). */
  clusterViolations?: number;
}

export interface ChainResult {
  bytes: Uint8Array;
  label: string;
  chain: Chain;
  pruned?: { sparsity: number; tensors: PrunedTensor[] };
  clustered?: { tensors: ClusteredTensor[]; elapsedMs: number };
  trained?: Omit<FinetuneResult, 'graph'>;
  /** qat with int4 weights: how many int4 tensors learned their steps, and whether the trained or the PTQ model is the result. */
  lsq?: { int4Tensors: number; kept: 'qat' | 'ptq' };
  quantized?: Pick<OptimizeResult, 'floatOps' | 'notes' | 'timings' | 'verdict' | 'plan' | 'activations' | 'channelScales' | 'channelShifts'>;
  report: ModelWeightReport;
  checks: ChainChecks;
  notes: string[];
}

export async function runChain(request: ChainRequest): Promise<ChainResult> {
  const { chain, onProgress } = request;
  const graph0 = readModel(request.model);
  const state = quantizationState(graph0);
  if (state !== 'float32' && state !== 'float16') {
    throw new WorkbenchError('bad-input', `Pruning and clustering work on float weights, and this model is ${state}; start from the float model (or dequantize this one first).`);
  }
  const notes: string[] = [];
  let graph = graph0;
  if (state === 'float16') {
    graph = cloneGraph(graph0);
    foldConstantDequantize(graph);
    dropUnused(graph);
    notes.push('float16 weights were read back as float32 to prune/cluster them');
  }
  const result: Partial<ChainResult> = { chain, label: chainLabel(chain) };
  // The weights as trained, so int8 bias correction also undoes the mean shift pruning/clustering cause.
  const referenceWeights = new Map(
    weightSites(graph)
      .filter((site) => site.subgraph === 0)
      .map((site) => [graph.subgraphs[0].tensors[site.tensor].name, constantAsFloat32(graph, 0, site.tensor)] as const),
  );
  if (chain.prune) {
    onProgress?.('prune', 0, 1);
    const pruned = pruneModel(graph, chain.prune);
    graph = pruned.graph;
    result.pruned = { sparsity: pruned.sparsity, tensors: pruned.tensors };
    notes.push(`pruned ${pruned.tensors.length} weight tensor(s) to sparsity ${pruned.sparsity.toFixed(3)}${chain.prune.structure === '2of4' ? ' (2:4)' : ''}`, ...pruned.notes);
    onProgress?.('prune', 1, 1);
  }
  if (chain.cluster) {
    onProgress?.('cluster', 0, 1);
    const clustered = clusterModel(graph, chain.cluster);
    graph = clustered.graph;
    result.clustered = { tensors: clustered.tensors, elapsedMs: clustered.elapsedMs };
    const inexact = clustered.tensors.filter((t) => !t.exact).length;
    notes.push(
      `clustered ${clustered.tensors.length} weight tensor(s) into at most ${chain.cluster.clusters} values ${chain.cluster.perChannel ? 'per channel' : 'per tensor'} in ${clustered.elapsedMs.toFixed(0)} ms` +
        (chain.cluster.algorithm === 'lloyd' ? ` (Lloyd, ${chain.cluster.init ?? 'kmeans++'} init)` : inexact ? ` (optimal k-means; ${inexact} large tensor(s) near-exact)` : ' (optimal k-means)'),
      ...clustered.notes,
    );
    onProgress?.('cluster', 1, 1);
  }
  if (chain.train && !request.training) throw new WorkbenchError('bad-input', `"${chain.train.mode}" needs training data (--train DIR|FILE.npy, labeled or not)`);
  const int4Problem = chain.train?.mode === 'qat' ? qatInt4Problem(chain.quantize, !!(chain.prune || chain.cluster)) : null;
  if (int4Problem) throw new WorkbenchError('bad-input', `${int4Problem}.`);
  let bytes: Uint8Array;
  if (chain.train?.mode === 'qat' && chain.quantize && asksInt4(chain.quantize)) {
    const q = await qatInt4({
      graph,
      teacher: graph0,
      recipe: chain.quantize,
      calibration: request.calibration,
      calibrationCount: request.calibrationCount,
      data: request.training!.data,
      options: { ...request.training!.options, weightGranularity: chain.quantize.granularity },
      trainingSignal: anySignal(request.signal, request.training!.signal),
      signal: request.signal,
      onProgress,
      skipCheck: request.skipCheck,
      allowFloatFallback: request.allowFloatFallback,
      activationSummaries: request.activationSummaries,
    });
    bytes = q.bytes;
    result.trained = q.trained;
    result.lsq = { int4Tensors: q.int4Tensors, kept: q.kept };
    result.quantized = quantizedSummary(q.quantized);
    notes.push(...q.notes);
  } else {
    ({ bytes, graph } = await trainAndQuantize(request, graph, graph0, result, notes, referenceWeights));
  }
  const finalGraph = readModel(bytes);
  const checks = chainChecks(graph, finalGraph, chain, new Set(result.clustered?.tensors.map((t) => t.name)));
  if (checks.zerosLost) notes.push(`WARNING: ${checks.zerosLost} pruned zero(s) are not zero after ${chain.quantize?.technique}`);
  if (checks.clusterViolations) notes.push(`WARNING: ${checks.clusterViolations} clustered tensor(s) have more than ${chain.cluster!.clusters} values after ${chain.quantize?.technique}`);
  const report = weightReport({ graph: finalGraph, bytes }, request.model);
  notes.push(`size ${report.size.rawBytes} bytes raw (${report.rawRatio!.toFixed(3)}x), ${report.size.gzipBytes} gzip (${report.gzipRatio!.toFixed(3)}x the input's gzip size)`);
  return { ...(result as ChainResult), bytes, report, checks, notes };
}

/** The chain's training step (fine-tuning, or int8 QAT from the float model), then its quantization. */
async function trainAndQuantize(
  request: ChainRequest,
  start: ModelGraph,
  graph0: ModelGraph,
  result: Partial<ChainResult>,
  notes: string[],
  referenceWeights: Map<string, Float32Array>,
): Promise<{ bytes: Uint8Array; graph: ModelGraph }> {
  const { chain, onProgress } = request;
  let graph = start;
  if (chain.train) {
    onProgress?.('train', 0, 1);
    const trained = await finetune(graph, request.training!.data, {
      ...request.training!.options,
      mode: chain.train!.mode,
      teacher: graph0,
      signal: anySignal(request.signal, request.training!.signal),
      clustered: chain.cluster ? { tensors: result.clustered!.tensors.filter((t) => t.subgraph === 0).map((t) => t.tensor), perChannel: !!chain.cluster.perChannel } : undefined,
      keepZeros: chain.prune ? true : request.training!.options?.keepZeros,
      weightGranularity: chain.quantize?.granularity,
    });
    const { graph: trainedGraph, ...summary } = trained;
    graph = trainedGraph;
    result.trained = summary;
    notes.push(...trained.notes);
    onProgress?.('train', 1, 1);
  }
  const floatBytes = writeModel(graph);
  let bytes = floatBytes;
  if (chain.quantize) {
    const q = await optimizeModel({
      model: floatBytes,
      // No cross-layer equalization in chains: per-channel scaling would split a tensor's clusters into
      // different values per channel, and the pre-pruning reference weights of bias correction would
      // no longer match the scaled ones.
      // Nor rounding optimization after pruning, clustering or QAT: it would move pruned zeros and
      // centroids, and QAT trained the weights for nearest rounding.
      recipe: { ...chain.quantize, equalize: 'off', rounding: chain.prune || chain.cluster || chain.train?.mode === 'qat' ? 'nearest' : chain.quantize.rounding },
      calibration: request.calibration,
      calibrationCount: request.calibrationCount,
      onProgress,
      signal: request.signal,
      skipCheck: request.skipCheck,
      allowFloatFallback: request.allowFloatFallback,
      activationSummaries: request.activationSummaries,
      // After training the trained float weights are the reference; before, the original ones.
      referenceWeights: (chain.prune || chain.cluster) && !chain.train ? referenceWeights : undefined,
      biasCorrection: chain.train?.mode !== 'qat',
      weightParams: chain.cluster
        ? clusterPreservingParams(chain.cluster, new Set(result.clustered!.tensors.map((t) => weightFingerprint(constantAsFloat32(graph, t.subgraph, t.tensor)))))
        : undefined,
    });
    bytes = q.bytes;
    result.quantized = quantizedSummary(q);
    notes.push(...q.notes);
  } else if (!request.skipCheck) {
    await checkRuns(bytes);
  }
  return { bytes, graph };
}

/** What a chain result keeps of the quantization step's result. */
function quantizedSummary(q: OptimizeResult): NonNullable<ChainResult['quantized']> {
  return { floatOps: q.floatOps, notes: q.notes, timings: q.timings, verdict: q.verdict, plan: q.plan, activations: q.activations, ...(q.channelScales ? { channelScales: q.channelScales } : {}), ...(q.channelShifts ? { channelShifts: q.channelShifts } : {}) };
}

/** Aborted when either is (AbortSignal.any is too new for some of the browsers we serve). */
function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => !!s);
  if (present.length <= 1) return present[0];
  const controller = new AbortController();
  for (const s of present) {
    if (s.aborted) controller.abort();
    else s.addEventListener('abort', () => controller.abort(), { once: true });
  }
  return controller.signal;
}

/** Zeros kept after pruning, and at most k values per clustered tensor/channel, in the final model. */
export function chainChecks(before: ModelGraph, after: ModelGraph, chain: Chain, clusteredNames: Set<string> = new Set()): ChainChecks {
  const checks: ChainChecks = {};
  const was = weightsByName(before);
  const now = weightsByName(after);
  const final = (name: string) => now.get(name) ?? now.get(`${name}_dequantize`);
  if (chain.prune) {
    let lost = 0;
    for (const [name, values] of was) {
      const v = final(name);
      if (!v || v.length !== values.length) continue;
      for (let i = 0; i < values.length; i++) if (values[i] === 0 && v[i] !== 0) lost++;
    }
    checks.zerosLost = lost;
  }
  if (chain.cluster) {
    const k = chain.cluster.clusters;
    let most = 0;
    let violations = 0;
    const report = weightReport({ graph: after, bytes: new Uint8Array(0) });
    for (const w of report.weights) {
      if (!clusteredNames.has(w.name)) continue;
      const count = chain.cluster.perChannel ? w.maxDistinctPerChannel : w.distinct;
      most = Math.max(most, count);
      if (count > k) violations++;
    }
    checks.maxDistinctClustered = most;
    checks.clusterViolations = violations;
  }
  return checks;
}
