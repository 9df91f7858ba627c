/**
 * What a target cannot take, read from a variant's graph (plain core: no DOM, so the optimizer
 * worker, the CLI and Node tests run it).
 * - Edge TPU / NPU: every op's tensors int8/uint8 (int32 only as a bias or an integer-only op's own
 *   constant operand), static shapes, a single subgraph.
 * - Microcontroller (TensorFlow Lite Micro): builtin ops TFLM has no kernel for (errors), tensors that
 *   are not int8 (a warning: TFLM runs float too, but most MCU kernels are int8-optimized), dynamic
 *   shapes, and an estimate of the flash and tensor arena the model needs (`estimateMcuMemory`).
 * - Mobile GPU: ops whose tensors are integer run through dequantize / CPU fallback (a note).
 * - CPU and web: no static restriction (web is measured instead: `probeWebGpu` in runtime/webgpu-probe.ts).
 */
import { dtypeBytes, dtypeName } from '../tflite/dtypes';
import type { ModelGraph, Subgraph } from '../tflite/graph';
import { builtinCodeOf, opCodeName, opName } from '../tflite/ops';
import { BuiltinOperator, TensorType } from '../tflite/schema/generated/tflite_generated';

export type Target = 'cpu' | 'gpu' | 'integer' | 'mcu' | 'web';

export const TARGET_LABELS: Record<Target, string> = {
  cpu: 'CPU (phone / desktop)',
  gpu: 'Mobile GPU',
  integer: 'Edge TPU / NPU (integer only)',
  mcu: 'Microcontroller (TFLite Micro)',
  web: 'Web (LiteRT.js)',
};

export interface TargetIssue {
  /** 'warning' and 'note' do not stop the model from running on the target; the other kinds do. */
  kind: 'float-op' | 'dynamic-shape' | 'subgraphs' | 'unsupported-op' | 'warning' | 'note';
  message: string;
  opIndex?: number;
}

/** True when the issue keeps the model off the target (as opposed to a warning or a note). */
export function isBlocking(issue: TargetIssue): boolean {
  return issue.kind !== 'note' && issue.kind !== 'warning';
}

const INTEGER_OK = new Set<TensorType>([TensorType.INT8, TensorType.UINT8]);

/**
 * Builtin ops TensorFlow Lite Micro registers a kernel for: every `BuiltinOperator_*` added by
 * tensorflow/lite/micro/micro_mutable_op_resolver.h in tensorflow/tflite-micro (snapshot of
 * 2026-08-20, commit 90b983c2). Custom ops TFLM ships (e.g. CIRCULAR_BUFFER, the Signal* audio
 * front end, TFLite_Detection_PostProcess, ethos-u) are in TFLM_CUSTOM_OPS.
 */
export const TFLM_BUILTIN_OPS: ReadonlySet<string> = new Set([
  'ABS', 'ADD', 'ADD_N', 'ARG_MAX', 'ARG_MIN', 'ASSIGN_VARIABLE', 'AVERAGE_POOL_2D', 'BATCH_MATMUL',
  'BATCH_TO_SPACE_ND', 'BROADCAST_ARGS', 'BROADCAST_TO', 'CALL_ONCE', 'CAST', 'CEIL', 'CONCATENATION',
  'CONV_2D', 'COS', 'CUMSUM', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE', 'DIV',
  'DYNAMIC_UPDATE_SLICE', 'ELU', 'EMBEDDING_LOOKUP', 'EQUAL', 'EXP', 'EXPAND_DIMS', 'FILL', 'FLOOR',
  'FLOOR_DIV', 'FLOOR_MOD', 'FULLY_CONNECTED', 'GATHER', 'GATHER_ND', 'GREATER', 'GREATER_EQUAL',
  'HARD_SWISH', 'IF', 'L2_NORMALIZATION', 'L2_POOL_2D', 'LEAKY_RELU', 'LESS', 'LESS_EQUAL', 'LOG',
  'LOGICAL_AND', 'LOGICAL_NOT', 'LOGICAL_OR', 'LOGISTIC', 'LOG_SOFTMAX', 'MAXIMUM', 'MAX_POOL_2D', 'MEAN',
  'MINIMUM', 'MIRROR_PAD', 'MUL', 'NEG', 'NOT_EQUAL', 'PACK', 'PAD', 'PADV2', 'PRELU', 'QUANTIZE',
  'READ_VARIABLE', 'REDUCE_ALL', 'REDUCE_MAX', 'REDUCE_MIN', 'RELU', 'RELU6', 'RESHAPE', 'RESIZE_BILINEAR',
  'RESIZE_NEAREST_NEIGHBOR', 'REVERSE_V2', 'ROUND', 'RSQRT', 'SELECT_V2', 'SHAPE', 'SIN', 'SLICE',
  'SOFTMAX', 'SPACE_TO_BATCH_ND', 'SPACE_TO_DEPTH', 'SPLIT', 'SPLIT_V', 'SQRT', 'SQUARE',
  'SQUARED_DIFFERENCE', 'SQUEEZE', 'STRIDED_SLICE', 'SUB', 'SUM', 'SVDF', 'TANH', 'TRANSPOSE',
  'TRANSPOSE_CONV', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'UNPACK', 'VAR_HANDLE', 'WHILE', 'ZEROS_LIKE',
]);

/** Custom ops with a TFLM kernel (same source). */
export const TFLM_CUSTOM_OPS: ReadonlySet<string> = new Set([
  'CIRCULAR_BUFFER', 'TFLite_Detection_PostProcess', 'ethos-u', 'TFLM_DECODE', 'SignalDelay', 'SignalEnergy',
  'SignalFftAutoScale', 'SignalFilterBank', 'SignalFilterBankLog', 'SignalFilterBankSquareRoot', 'SignalFramer',
  'SignalIrfft', 'SignalOverlapAdd', 'SignalPCAN', 'SignalRfft', 'SignalStacker', 'SignalWindow',
]);

/** Rough size of what TFLM allocates in the arena besides activations (interpreter structs, per-op data). */
export const TFLM_OVERHEAD_NOTE =
  'TFLM adds a few KB on top (interpreter and per-tensor/per-op structs, per-channel quantization data, kernel scratch buffers such as CMSIS-NN im2col); measure with RecordingMicroInterpreter for the exact figure.';

export interface McuEstimate {
  /** Flash for the model: the .tflite bytes (TFLM reads the flatbuffer in place); kernel code not included. */
  flashBytes: number;
  /** Tensor arena for activations: a TFLM-style greedy plan (largest first, lowest free offset). */
  arenaBytes: number;
  /** Lower bound: the most activation bytes alive at once (any plan needs at least this). */
  peakLiveBytes: number;
  /** The operator at which peakLiveBytes is reached. */
  peakOpIndex: number;
  /** Variable (state) tensors: persistent, allocated for the whole run, not in arenaBytes. */
  persistentBytes: number;
  activationTensors: number;
  notes: string[];
}

export interface TargetCheck {
  issues: TargetIssue[];
  /** Only for the microcontroller target. */
  mcu?: McuEstimate;
}

function isConstant(graph: ModelGraph, subgraph: Subgraph, t: number): boolean {
  return (graph.buffers[subgraph.tensors[t].buffer]?.data.length ?? 0) > 0;
}

function tensorBytes(subgraph: Subgraph, t: number): number {
  const tensor = subgraph.tensors[t];
  const count = tensor.shape.reduce((n, d) => n * Math.max(d, 1), 1);
  return dtypeBytes(tensor.type, count) ?? 0;
}

function dynamicInputs(main: Subgraph): TargetIssue[] {
  return main.inputs
    .map((t) => main.tensors[t])
    .filter((t) => t.shapeSignature?.some((d) => d < 0))
    .map((t) => ({ kind: 'dynamic-shape' as const, message: `input '${t.name}' has a dynamic shape [${t.shapeSignature!.join(', ')}].` }));
}

/**
 * TFLM-style arena estimate for the main subgraph. Each non-constant, non-variable tensor lives from
 * the op that produces it (op 0 for graph inputs) to its last consumer (the end for graph outputs).
 * The plan places buffers largest first at the lowest offset free over their lifetime, as TFLM's
 * GreedyMemoryPlanner does; offsets are 16-byte aligned like TFLM's arena.
 */
export function estimateMcuMemory(graph: ModelGraph, modelBytes: number): McuEstimate {
  const main = graph.subgraphs[0];
  const notes: string[] = [];
  const ops = main?.operators ?? [];
  const last = Math.max(0, ops.length - 1);
  const first = new Map<number, number>();
  const lastUse = new Map<number, number>();
  let persistentBytes = 0;
  const persistent = new Set<number>();
  const consider = (t: number) => t >= 0 && !isConstant(graph, main, t) && !persistent.has(t);
  if (main) {
    main.tensors.forEach((tensor, t) => {
      if (tensor.isVariable) {
        persistent.add(t);
        persistentBytes += tensorBytes(main, t);
      }
    });
    for (const t of main.inputs) if (consider(t)) { first.set(t, 0); lastUse.set(t, 0); }
    ops.forEach((op, i) => {
      for (const t of op.inputs) if (consider(t)) { if (!first.has(t)) first.set(t, i); lastUse.set(t, i); }
      for (const t of op.outputs) if (consider(t)) { if (!first.has(t)) first.set(t, i); lastUse.set(t, Math.max(lastUse.get(t) ?? i, i)); }
    });
    for (const t of main.outputs) if (consider(t)) lastUse.set(t, last);
  }
  const buffers = [...first.keys()].map((t) => ({ t, from: first.get(t)!, to: lastUse.get(t)!, size: main ? tensorBytes(main, t) : 0 }));

  // Lower bound: live bytes per op.
  let peakLiveBytes = 0;
  let peakOpIndex = 0;
  for (let i = 0; i <= last; i++) {
    const live = buffers.reduce((sum, b) => (b.from <= i && i <= b.to ? sum + b.size : sum), 0);
    if (live > peakLiveBytes) { peakLiveBytes = live; peakOpIndex = i; }
  }

  // Greedy placement, largest first (ties: earlier first), like TFLM's GreedyMemoryPlanner.
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const placed: { from: number; to: number; offset: number; size: number }[] = [];
  let arenaBytes = 0;
  for (const b of [...buffers].sort((x, y) => y.size - x.size || x.from - y.from)) {
    const overlapping = placed.filter((p) => p.from <= b.to && b.from <= p.to).sort((x, y) => x.offset - y.offset);
    let offset = 0;
    for (const p of overlapping) {
      if (offset + b.size <= p.offset) break;
      offset = Math.max(offset, align(p.offset + p.size));
    }
    placed.push({ from: b.from, to: b.to, offset, size: b.size });
    arenaBytes = Math.max(arenaBytes, offset + b.size);
  }

  if (graph.subgraphs.length > 1) notes.push(`Only the main subgraph is planned (${graph.subgraphs.length} subgraphs).`);
  if (persistentBytes) notes.push(`${persistentBytes} B of variable (state) tensors stay allocated for the whole run.`);
  notes.push(TFLM_OVERHEAD_NOTE);
  return { flashBytes: modelBytes, arenaBytes, peakLiveBytes, peakOpIndex, persistentBytes, activationTensors: buffers.length, notes };
}

function mcuIssues(graph: ModelGraph): TargetIssue[] {
  const issues: TargetIssue[] = [];
  const main = graph.subgraphs[0];
  if (!main) return issues;
  const missing = new Map<string, number[]>();
  graph.subgraphs.forEach((subgraph, s) =>
    subgraph.operators.forEach((op, i) => {
      const code = graph.operatorCodes[op.opcodeIndex];
      const name = code ? opCodeName(code) : opName(graph, op);
      const custom = code && builtinCodeOf(code) === BuiltinOperator.CUSTOM;
      if (custom ? TFLM_CUSTOM_OPS.has(name) : TFLM_BUILTIN_OPS.has(name)) return;
      const key = custom ? `custom op ${name}` : name;
      missing.set(key, [...(missing.get(key) ?? []), s === 0 ? i : -1]);
    }),
  );
  for (const [name, indices] of missing) {
    const at = indices.filter((i) => i >= 0);
    issues.push({ kind: 'unsupported-op', opIndex: at[0], message: `${name} (${indices.length}x${at.length ? `, e.g. #${at[0]}` : ''}): TFLite Micro has no kernel for it.` });
  }
  // TFLM ignores shape_signature and runs the stored shape: a dynamic batch alone (the converter's
  // default) runs with the stored batch; other dynamic dimensions need a resize TFLM cannot do.
  for (const issue of dynamicInputs(main)) {
    const tensor = main.tensors[main.inputs.find((t) => issue.message.includes(`'${main.tensors[t].name}'`)) ?? main.inputs[0]];
    const batchOnly = tensor.shapeSignature!.slice(1).every((d) => d >= 0);
    issues.push(batchOnly ? { kind: 'warning', message: `${issue.message.replace(/\.$/, '')}: TFLM runs the stored batch of ${tensor.shape[0] ?? 1}.` } : issue);
  }
  // Non-int8 compute: grouped by dtype, counting ops whose activation inputs or outputs are not int8.
  const byType = new Map<string, number[]>();
  main.operators.forEach((op, i) => {
    const types = new Set<string>();
    for (const t of [...op.inputs, ...op.outputs]) {
      if (t < 0) continue;
      const tensor = main.tensors[t];
      if (tensor.type === TensorType.INT8) continue;
      if (isConstant(graph, main, t) && (tensor.type === TensorType.INT32 || tensor.type === TensorType.INT64)) continue; // biases, shapes, axes
      if (!isConstant(graph, main, t) && (tensor.type === TensorType.INT32 || tensor.type === TensorType.BOOL)) continue; // shape / index / mask values
      types.add(dtypeName(tensor.type));
    }
    for (const type of types) byType.set(type, [...(byType.get(type) ?? []), i]);
  });
  for (const [type, ops] of byType) {
    issues.push({
      kind: 'warning',
      opIndex: ops[0],
      message:
        type === 'UINT8'
          ? `${ops.length} op(s) with UINT8 tensors (e.g. ${opName(graph, main.operators[ops[0]])} #${ops[0]}): legacy uint8 quantization, which most TFLM kernels no longer accept; re-quantize to int8.`
          : `${ops.length} op(s) with ${type} tensors (e.g. ${opName(graph, main.operators[ops[0]])} #${ops[0]}): TFLM has reference kernels for many of them, but MCU-optimized kernels (CMSIS-NN, ESP-NN...) are int8, so expect them to be slow${type === 'FLOAT32' ? ' and 4x larger' : ''}.`,
    });
  }
  return issues;
}

export function targetCheck(graph: ModelGraph, target: Target, modelBytes: number): TargetCheck {
  if (target === 'mcu') return { issues: mcuIssues(graph), mcu: estimateMcuMemory(graph, modelBytes) };
  return { issues: targetIssues(graph, target) };
}

export function targetIssues(graph: ModelGraph, target: Target): TargetIssue[] {
  const issues: TargetIssue[] = [];
  if (target === 'mcu') return mcuIssues(graph);
  if (target === 'integer') {
    if (graph.subgraphs.length > 1) issues.push({ kind: 'subgraphs', message: `${graph.subgraphs.length} subgraphs (the compiler maps one).` });
    const main = graph.subgraphs[0];
    if (!main) return issues;
    issues.push(...dynamicInputs(main));
    main.operators.forEach((op, opIndex) => {
      const bad = [...op.inputs, ...op.outputs]
        .filter((t) => t >= 0)
        .map((t, k) => ({ t: main.tensors[t], k }))
        .filter(({ t }) => !INTEGER_OK.has(t.type) && !(t.type === TensorType.INT32 && t.buffer > 0));
      if (bad.length) {
        const types = [...new Set(bad.map(({ t }) => TensorType[t.type] ?? String(t.type)))].join('/');
        issues.push({ kind: 'float-op', opIndex, message: `${opName(graph, op)} #${opIndex} has ${types} tensor(s), e.g. '${bad[0].t.name}'.` });
      }
    });
  } else if (target === 'gpu') {
    const main = graph.subgraphs[0];
    const integerOps = main?.operators.filter((op) => op.outputs.some((t) => t >= 0 && INTEGER_OK.has(main.tensors[t].type))).length ?? 0;
    if (integerOps) issues.push({ kind: 'note', message: `${integerOps} op(s) compute in int8: GPU delegates run float (fp16) kernels; these fall back to the CPU or get dequantized.` });
  }
  return issues;
}
