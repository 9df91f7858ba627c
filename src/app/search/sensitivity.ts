/**
 * Per-op sensitivity from one comparison of the fully quantized model with the float model, layer
 * by layer: how many dB of SQNR the op loses, from the worst of its activation inputs to its output.
 * An op that only passes its inputs' error on scores about zero; one whose own rounding hurts scores
 * high wherever it sits. (Ranking by the noise added in linear units, tried first, put the last
 * layers first, whose inputs are already noisy, and missed the early depthwise layers that
 * per-tensor int8 breaks: bench:search, MobileNetV1 0.25, 17 float ops to meet 1 point.)
 *
 * One comparison ranks every op, where reverting ops one at a time (NNCF's ranking) costs one
 * evaluation per op; the search then verifies what the ranking proposes on real evaluations.
 */
import type { ModelGraph } from '../../tflite/graph';
import type { LayerComparison } from '../../evaluate/compare';
import { isConstant } from '../../tflite/queries';
import { opName } from '../../tflite/ops';

export interface OpSensitivity {
  /** The op's index in the float model's first subgraph, its kind and its first output's name. */
  opIndex: number;
  op: string;
  output: string;
  /** SQNR lost across the op, dB (>= 0; 0 when unmeasured). */
  lossDb: number;
  /** SQNR of its output in the quantized model, dB (NaN when unmeasured). */
  outputSqnrDb: number;
}

/** Above this an SQNR is as good as exact (float inputs are Infinity; int8 rounding alone gives ~40 dB). */
const CEILING_DB = 60;
const measured = (sqnrDb: number | undefined) => (sqnrDb === undefined || Number.isNaN(sqnrDb) ? undefined : Math.min(CEILING_DB, sqnrDb));

/**
 * Sensitivity of every op of the float model's first subgraph listed in `opIndices`, from the
 * per-layer comparison (reference tensors are the float model's), most sensitive first.
 */
export function rankSensitivity(floatGraph: ModelGraph, perLayer: LayerComparison[], opIndices: number[]): OpSensitivity[] {
  const subgraph = floatGraph.subgraphs[0];
  const sqnrByName = new Map<string, number>();
  for (const layer of perLayer) if (!sqnrByName.has(layer.referenceTensor)) sqnrByName.set(layer.referenceTensor, layer.sqnrDb);
  const ranked = opIndices.map((opIndex) => {
    const op = subgraph.operators[opIndex];
    const output = subgraph.tensors[op.outputs[0]]?.name ?? '';
    const out = measured(sqnrByName.get(output));
    const inputs = op.inputs
      .filter((t) => t >= 0 && !isConstant(floatGraph, subgraph.tensors[t]))
      .map((t) => measured(sqnrByName.get(subgraph.tensors[t].name)) ?? CEILING_DB);
    const lossDb = out === undefined ? 0 : Math.max(0, Math.min(CEILING_DB, ...inputs) - out);
    return { opIndex, op: opName(floatGraph, op), output, lossDb, outputSqnrDb: sqnrByName.get(output) ?? NaN };
  });
  return ranked.sort((a, b) => b.lossDb - a.lossDb || a.opIndex - b.opIndex);
}

/** The precisions the search measures ops at (a whole candidate each, compared layer by layer). */
export type SearchPrecision = 'int4' | 'int8' | 'int16x8' | 'float16';
export const SEARCH_PRECISIONS: readonly SearchPrecision[] = ['int4', 'int8', 'int16x8', 'float16'];

/**
 * Weight forms measured only when the search is asked for them (SearchRequest.sparsity): the float
 * model with every weight op pruned to the given sparsity, or clustered to k values per tensor.
 */
export type SparseForm = 'pruned' | 'clustered';
/** The columns of the per-op table: the precisions, then the weight forms. */
export type SensitivityColumn = SearchPrecision | SparseForm;
export const SENSITIVITY_COLUMNS: readonly SensitivityColumn[] = [...SEARCH_PRECISIONS, 'pruned', 'clustered'];

/** One op's measured loss at each precision (or weight form) the search tried it at (dB of SQNR across the op). */
export interface OpPrecisionLoss {
  opIndex: number;
  op: string;
  output: string;
  lossDb: Partial<Record<SensitivityColumn, number>>;
}

/**
 * The per-op table of the search report: every op ranked at some precision, with its loss at each
 * precision measured (a precision an op was not measured at is absent), in op order. Each ranking
 * comes from one per-layer comparison of a candidate where the op ran at that precision: int8 the
 * all-quantized candidate, int4 the all-int4 one (int4 weights on the int4 stage's base: W4A8, or
 * W4A16 when the base is the 16x8 candidate), int16x8 the all-16x8 one, float16 the whole model
 * in float16; pruned / clustered the float model with those weights (inputs clean, as float16). An
 * op whose weights are int8 at 8 and at 16 bits can lose more dB at 16: its rounding costs the same
 * error against a cleaner input.
 */
export function precisionTable(rankings: Partial<Record<SensitivityColumn, OpSensitivity[]>>): OpPrecisionLoss[] {
  const rows = new Map<number, OpPrecisionLoss>();
  for (const precision of SENSITIVITY_COLUMNS) {
    for (const r of rankings[precision] ?? []) {
      let row = rows.get(r.opIndex);
      if (!row) rows.set(r.opIndex, (row = { opIndex: r.opIndex, op: r.op, output: r.output, lossDb: {} }));
      row.lossDb[precision] = r.lossDb;
    }
  }
  return [...rows.values()].sort((a, b) => a.opIndex - b.opIndex);
}
