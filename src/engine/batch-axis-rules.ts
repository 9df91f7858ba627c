/**
 * How each op carries a batch axis: the per-op half of batch-axis.ts.
 *
 * Every tensor of a batched run is in one of three states (N = samples in the run):
 * - `shared`: the same for every sample (constants, and what ops compute from constants alone);
 * - `lifted`: per sample, with a batch axis put in front of the file's shape: it runs as [N, ...S]
 *   and the rewritten graph states it as [1, ...S];
 * - `native`: per sample, and the file's dimension 0 is already a batch of 1 (S = [1, ...]): it runs
 *   as [N, ...S[1:]], as the engine runs any model with a batch axis today.
 * Both per-sample states keep each sample's values contiguous and in the file's order, so a lifted
 * [1, ...S] and a native S = [1, ...S] are the same memory; ops may turn one into the other (RESHAPE,
 * SQUEEZE of dimension 0).
 *
 * A rule sees the states of an op's inputs and returns its outputs' states, after rewriting the op
 * (axes shift by one, shape operands gain a leading 1...) so that it computes every sample exactly as
 * the file's op computes one. Where it cannot say that, it returns the reason (the caller then runs
 * one sample at a time). Ops with no rule here are refused: exactness first.
 */

export type BatchState = 'shared' | 'lifted' | 'native';

export interface BatchRuleContext {
  name: string;
  /** The op's builtin options, a copy the rule may change. */
  options: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- one options class per op
  /** Per input; `shared` where the input is omitted (-1). */
  states: BatchState[];
  /** The file's shapes of the inputs (null where omitted) and outputs. */
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
  /** The integer values of input i when it is a constant of the file, else null. */
  ints(i: number): number[] | null;
  /** Makes input i a new int32 constant holding `values` (the file's constant may be shared with other ops), of `shape` (default 1-D). */
  setInts(i: number, values: number[], shape?: number[]): void;
}

/** Output states, or why the op cannot carry a batch axis exactly. */
export type BatchRule = (c: BatchRuleContext) => BatchState[] | string;

const perSample = (s: BatchState) => s !== 'shared';
/** Helpers return a state or a reason, both strings: this tells them apart. */
const isState = (s: string): s is BatchState => s === 'shared' || s === 'lifted' || s === 'native';
const shift = (axis: number) => (axis >= 0 ? axis + 1 : axis); // a negative axis counts from the end: unchanged
const normalize = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The one state of the op's per-sample inputs among `slots` (default all), or a reason. */
function commonState(c: BatchRuleContext, slots?: number[]): BatchState | string {
  const states = (slots ?? c.states.map((_, i) => i)).map((i) => c.states[i]).filter(perSample);
  if (states.length === 0) return `${c.name} reads no per-sample input`;
  return states.every((s) => s === states[0]) ? states[0] : `${c.name} mixes lifted and native inputs`;
}

const all = (c: BatchRuleContext, state: BatchState) => c.outputShapes.map(() => state);

/**
 * Element-wise ops and ops along the last axis: exact when every per-sample input has the output's
 * rank. Then the batch axis lines up across them (lifted: the added axis; native: the file's
 * dimension 0, 1 in every one of them), and shared operands broadcast from the right, never against it.
 */
const pointwise: BatchRule = (c) => {
  const state = commonState(c);
  if (!isState(state)) return state;
  const rank = c.outputShapes[0].length;
  if (!c.states.every((s, i) => !perSample(s) || c.inputShapes[i]?.length === rank)) return `${c.name} broadcasts a per-sample input of a lower rank`;
  // A shared operand must not widen a native dimension 0 (it is the batch at run time).
  return state === 'lifted' || c.outputShapes[0][0] === 1 ? all(c, state) : `${c.name} broadcasts dimension 0 of a native input`;
};

/** Ops whose dimension 0 is the batch in TFLite itself (NHWC convolutions, pooling, resizing). */
const batchMajor: BatchRule = (c) => {
  const state = commonState(c);
  if (!isState(state)) return state;
  return state === 'native' ? all(c, 'native') : `${c.name} needs dimension 0 to be a batch, and its input has none`;
};

/** A per-sample data input at `slot`, the rest shared. */
function dataState(c: BatchRuleContext, slot: number): BatchState | string {
  if (c.states.some((s, i) => i !== slot && perSample(s))) return `${c.name} has a per-sample operand besides its data`;
  return c.states[slot];
}

/** RESHAPE: a target with a leading 1 takes the batch there (native), any other gains one (lifted). */
const reshape: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const target = c.outputShapes[0];
  if (target.length > 0 && target[0] === 1) return ['native'];
  const lifted = [1, ...target];
  if (c.inputShapes[1]) {
    if (!c.ints(1)) return 'RESHAPE with a computed shape';
    c.setInts(1, lifted);
  }
  if (c.options?.newShape) c.options.newShape = lifted;
  return ['lifted'];
};

const squeeze: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const shape = c.inputShapes[0]!;
  if (!c.options) return 'SQUEEZE without options';
  const stated: number[] = c.options.squeezeDims ?? [];
  // An empty list squeezes every 1, which would squeeze a batch of 1 too: list them.
  const dims = (stated.length ? stated.map((d) => normalize(d, shape.length)) : shape.flatMap((d, i) => (d === 1 ? [i] : []))).sort((a, b) => a - b);
  if (dims.length === 0) return 'SQUEEZE with nothing to squeeze'; // [] would squeeze a batch of 1
  if (state === 'lifted') {
    c.options.squeezeDims = dims.map((d) => d + 1);
    return ['lifted'];
  }
  // Native: squeezing dimension 0 leaves the per-sample rest, i.e. the output lifted.
  const rest = dims.filter((d) => d !== 0);
  if (rest.length === 0) return 'SQUEEZE of the batch dimension alone';
  c.options.squeezeDims = rest;
  return [dims.includes(0) ? 'lifted' : 'native'];
};

const expandDims: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const axis = c.ints(1)?.[0];
  if (axis === undefined) return 'EXPAND_DIMS with a computed axis';
  if (state === 'lifted') {
    c.setInts(1, [shift(axis)]);
    return ['lifted'];
  }
  return normalize(axis, c.inputShapes[0]!.length + 1) > 0 ? ['native'] : 'EXPAND_DIMS in front of the batch dimension';
};

/** GATHER with batch_dims 0: per-sample params with shared indices, or shared params with per-sample indices on axis 0. */
const gather: BatchRule = (c) => {
  if (!c.options) return 'GATHER without options';
  if ((c.options.batchDims ?? 0) !== 0) return 'GATHER with batch_dims';
  const [params, indices] = c.states;
  const axis = normalize(c.options?.axis ?? 0, c.inputShapes[0]!.length);
  if (perSample(params) && !perSample(indices)) {
    if (params === 'lifted') {
      c.options.axis = axis + 1;
      return ['lifted'];
    }
    return axis > 0 ? ['native'] : 'GATHER along the batch dimension';
  }
  if (!perSample(params) && perSample(indices) && axis === 0) return [indices]; // the output leads with the indices' shape
  return 'GATHER with per-sample params and indices';
};

/** PAD, PADV2, MIRROR_PAD: no padding on the batch dimension. */
const pad: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const paddings = c.ints(1);
  if (!paddings) return `${c.name} with computed paddings`;
  if (state === 'lifted') c.setInts(1, [0, 0, ...paddings], [paddings.length / 2 + 1, 2]);
  else if (paddings[0] !== 0 || paddings[1] !== 0) return `${c.name} pads the batch dimension`;
  return [state];
};

/** Ops with one axis in their options (CONCATENATION over per-sample inputs only). */
function optionAxis(rankOf: (c: BatchRuleContext) => number): BatchRule {
  return (c) => {
    if (!c.options) return `${c.name} without options`;
    if (c.states.some((s) => !perSample(s))) return `${c.name} joins a shared input to per-sample ones`;
    const state = commonState(c);
    if (!isState(state)) return state;
    const axis = normalize(c.options?.axis ?? 0, rankOf(c));
    if (state === 'lifted') c.options.axis = axis + 1;
    else if (axis === 0) return `${c.name} along the batch dimension`;
    return all(c, state);
  };
}

/** Reductions and ARG_MAX / ARG_MIN over constant axes (input 1). */
const reduce: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const axes = c.ints(1);
  if (!axes) return `${c.name} over computed axes`;
  const rank = c.inputShapes[0]!.length;
  const normalized = [...new Set(axes.map((a) => normalize(a, rank)))];
  if (state === 'lifted') {
    c.setInts(1, normalized.map((a) => a + 1));
    return ['lifted'];
  }
  if (!normalized.includes(0)) return ['native'];
  // A native dimension 0 is 1 per sample: reducing over it changes nothing (ARG_MAX / ARG_MIN would
  // say 0), so reduce over the rest; without keep_dims the batch then stays in front of the rest (lifted).
  const rest = normalized.filter((a) => a !== 0);
  if (c.name.startsWith('ARG_') || rest.length === 0) return `${c.name} over the batch dimension`;
  c.setInts(1, rest);
  return [c.options?.keepDims ? 'native' : 'lifted'];
};

const transpose: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const perm = c.ints(1);
  if (!perm) return 'TRANSPOSE with a computed permutation';
  const rank = perm.length;
  if (state === 'lifted') c.setInts(1, [0, ...perm.map((p) => normalize(p, rank) + 1)]);
  else if (normalize(perm[0], rank) !== 0) return 'TRANSPOSE moves the batch dimension';
  return [state];
};

const slice: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const begin = c.ints(1);
  const size = c.ints(2);
  if (!begin || !size) return 'SLICE with computed bounds';
  if (state === 'lifted') {
    c.setInts(1, [0, ...begin]);
    c.setInts(2, [-1, ...size]);
  } else if (begin[0] !== 0 || (size[0] !== -1 && size[0] !== 1)) return 'SLICE of the batch dimension';
  return [state];
};

/** STRIDED_SLICE without ellipsis / new-axis masks; the batch dimension is taken whole. */
const stridedSlice: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  if (!c.options) return 'STRIDED_SLICE without options';
  const o = c.options;
  if (o.ellipsisMask || o.newAxisMask) return 'STRIDED_SLICE with an ellipsis or new-axis mask';
  const begin = c.ints(1);
  const end = c.ints(2);
  const strides = c.inputShapes[3] ? c.ints(3) : begin?.map(() => 1) ?? null;
  if (!begin || !end || !strides) return 'STRIDED_SLICE with computed bounds';
  if (state === 'lifted') {
    c.setInts(1, [0, ...begin]);
    c.setInts(2, [0, ...end]);
    if (c.inputShapes[3]) c.setInts(3, [1, ...strides]);
    o.beginMask = ((o.beginMask ?? 0) << 1) | 1;
    o.endMask = ((o.endMask ?? 0) << 1) | 1;
    o.shrinkAxisMask = (o.shrinkAxisMask ?? 0) << 1;
    return ['lifted'];
  }
  // Native: what the kernel already frees in a batched run (slice.ts), and nothing else.
  const shrink = o.shrinkAxisMask ?? 0;
  const whole = strides[0] === 1 && !(shrink & 1) && ((o.beginMask ?? 0) & 1 || begin[0] === 0) && ((o.endMask ?? 0) & 1 || end[0] === 1);
  return whole ? ['native'] : 'STRIDED_SLICE of the batch dimension';
};

/** SPLIT (axis input 0, data input 1) and SPLIT_V (data 0, sizes 1, axis 2). */
function split(dataSlot: number, axisSlot: number): BatchRule {
  return (c) => {
    const state = dataState(c, dataSlot);
    if (!isState(state)) return state;
    const axis = c.ints(axisSlot)?.[0];
    if (axis === undefined) return `${c.name} along a computed axis`;
    const a = normalize(axis, c.inputShapes[dataSlot]!.length);
    if (state === 'lifted') c.setInts(axisSlot, [a + 1]);
    else if (a === 0) return `${c.name} along the batch dimension`;
    return all(c, state);
  };
}

/**
 * FULLY_CONNECTED flattens all but the last dimension unless keep_num_dims. Flattened to one row per
 * sample (output [1, units]) the output is native; a lifted [rows, inputs] keeps its rows as
 * [1, rows, units] with keep_num_dims (same values); other flattenings mix the batch into the rows.
 */
const fullyConnected: BatchRule = (c) => {
  const state = dataState(c, 0);
  if (!isState(state)) return state;
  const shape = c.inputShapes[0]!;
  if (c.options?.keepNumDims) return [state];
  const rows = shape.slice(0, -1).reduce((n, d) => n * d, 1);
  if (rows === 1) return ['native'];
  if (state === 'lifted' && shape.length === 2 && c.options) {
    c.options.keepNumDims = true;
    return ['lifted'];
  }
  return 'FULLY_CONNECTED flattening several rows per sample';
};

/** BATCH_MATMUL: the per-sample operands' leading dimensions are the output's, so the batch broadcasts through. */
const batchMatMul: BatchRule = (c) => {
  const state = commonState(c);
  if (!isState(state)) return state;
  const lead = c.outputShapes[0].slice(0, -2);
  const ok = c.states.every((s, i) => !perSample(s) || sameShape(c.inputShapes[i]!.slice(0, -2), lead));
  return ok ? [state] : 'BATCH_MATMUL broadcasts a per-sample operand';
};

const POINTWISE = [
  // activation.ts, math.ts, elementwise.ts, logic.ts, quantize.ts, softmax.ts, normalization.ts
  'RELU', 'RELU6', 'RELU_N1_TO_1', 'RELU_0_TO_1', 'LOGISTIC', 'TANH', 'ELU', 'HARD_SWISH', 'LEAKY_RELU', 'PRELU', 'GELU',
  'SQRT', 'RSQRT', 'LOG', 'EXP', 'SIN', 'COS', 'ABS', 'NEG', 'SQUARE', 'FLOOR', 'CEIL', 'ROUND', 'SIGN',
  'ADD', 'SUB', 'MUL', 'DIV', 'MAXIMUM', 'MINIMUM', 'SQUARED_DIFFERENCE', 'POW', 'FLOOR_DIV', 'FLOOR_MOD',
  'LESS', 'LESS_EQUAL', 'GREATER', 'GREATER_EQUAL', 'EQUAL', 'NOT_EQUAL', 'LOGICAL_AND', 'LOGICAL_OR', 'LOGICAL_NOT',
  'SELECT', 'SELECT_V2', 'CAST', 'QUANTIZE', 'DEQUANTIZE', 'SOFTMAX', 'LOG_SOFTMAX', 'L2_NORMALIZATION',
];
const BATCH_MAJOR = ['CONV_2D', 'DEPTHWISE_CONV_2D', 'TRANSPOSE_CONV', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR', 'SPACE_TO_DEPTH', 'DEPTH_TO_SPACE', 'Convolution2DTransposeBias'];

/** The rule for each op the engine runs; ops absent here make a graph run one sample at a time. */
export const BATCH_RULES: Readonly<Record<string, BatchRule>> = {
  ...Object.fromEntries(POINTWISE.map((name) => [name, pointwise])),
  ...Object.fromEntries(BATCH_MAJOR.map((name) => [name, batchMajor])),
  RESHAPE: reshape,
  SQUEEZE: squeeze,
  EXPAND_DIMS: expandDims,
  GATHER: gather,
  PAD: pad,
  PADV2: pad,
  MIRROR_PAD: pad,
  CONCATENATION: optionAxis((c) => c.outputShapes[0].length),
  MEAN: reduce,
  SUM: reduce,
  REDUCE_MAX: reduce,
  REDUCE_MIN: reduce,
  REDUCE_PROD: reduce,
  REDUCE_ANY: reduce,
  ARG_MAX: reduce,
  ARG_MIN: reduce,
  TRANSPOSE: transpose,
  SLICE: slice,
  STRIDED_SLICE: stridedSlice,
  SPLIT: split(1, 0),
  SPLIT_V: split(0, 2),
  FULLY_CONNECTED: fullyConnected,
  BATCH_MATMUL: batchMatMul,
};
