/**
 * Which op of a variant is which op of the float model it was made from, for the diff view.
 *
 * Our rewrites keep tensor names, or add a suffix to them (`x_int8` for a QUANTIZE of x, `x_float`
 * for a DEQUANTIZE back, `w_dequantize` for a float16 DEQUANTIZE output): so ops are matched first by
 * op type and the base name of an output; the rest by op type in op order (a greedy alignment that
 * never goes back). What is left in the variant was inserted (QUANTIZE / DEQUANTIZE around float
 * ops, at the I/O); what is left of the float model was removed, or folded when it was a DEQUANTIZE
 * of constant weights (the weights are now stored in the variant's own type).
 */
import { dtypeName } from '../../tflite/dtypes';
import type { ModelGraph, Subgraph } from '../../tflite/graph';
import { opName } from '../../tflite/ops';
import { isConstant, producers } from '../../tflite/queries';

export type VariantChange = 'same' | 'dtype' | 'inserted';
export type FloatFate = 'kept' | 'removed' | 'folded';

export interface VariantOpMatch {
  opIndex: number;
  op: string;
  floatOp: number | null;
  change: VariantChange;
  /** For 'dtype': what changed, e.g. "out FLOAT32→INT8, w FLOAT16→INT8". */
  dtypeChange?: string;
}

export interface FloatOpMatch {
  opIndex: number;
  op: string;
  /** Its first output tensor's name (a recipe's keepFloat scope names the float model's tensors). */
  output: string;
  variantOp: number | null;
  fate: FloatFate;
}

export interface OpDiff {
  subgraph: number;
  variant: VariantOpMatch[];
  float: FloatOpMatch[];
  counts: { same: number; dtype: number; inserted: number; removed: number; folded: number };
}

const SUFFIX = /(_int8|_int16|_uint8|_float|_dequantize|_quantize)$/;

/** The name without the suffixes a quantizer adds (applied repeatedly: `x_int8_float` -> `x`). */
export function baseTensorName(name: string): string {
  let base = name;
  for (let next = base.replace(SUFFIX, ''); next !== base && next.length > 0; next = base.replace(SUFFIX, '')) base = next;
  return base;
}

const CONVERSIONS = new Set(['QUANTIZE', 'DEQUANTIZE']);

function outputType(subgraph: Subgraph, opIndex: number): string {
  const t = subgraph.operators[opIndex].outputs[0];
  return t !== undefined && t >= 0 ? dtypeName(subgraph.tensors[t].type) : '';
}

/** dtypes of the op's constant inputs; an input a DEQUANTIZE of a constant feeds (float16 weights) counts as one. */
function weightTypes(graph: ModelGraph, subgraph: Subgraph, producer: Int32Array, opIndex: number): string[] {
  const op = subgraph.operators[opIndex];
  const types: string[] = [];
  for (const t of op.inputs) {
    if (t < 0) continue;
    const tensor = subgraph.tensors[t];
    if (isConstant(graph, tensor)) {
      types.push(dtypeName(tensor.type));
      continue;
    }
    const p = producer[t];
    if (p >= 0 && opName(graph, subgraph.operators[p]) === 'DEQUANTIZE') {
      const source = subgraph.operators[p].inputs[0];
      if (source >= 0 && isConstant(graph, subgraph.tensors[source])) types.push(dtypeName(subgraph.tensors[source].type));
    }
  }
  return types;
}

export function matchOps(float: ModelGraph, variant: ModelGraph, subgraphIndex = 0): OpDiff {
  const fs = float.subgraphs[subgraphIndex];
  const vs = variant.subgraphs[subgraphIndex];
  if (!fs || !vs) throw new RangeError(`Both models need a subgraph ${subgraphIndex} to compare.`);
  const [fProducer, vProducer] = [producers(fs), producers(vs)];
  const fOps = fs.operators.map((op) => opName(float, op));
  const vOps = vs.operators.map((op) => opName(variant, op));
  const floatOf: (number | null)[] = vOps.map(() => null);
  const variantOf: (number | null)[] = fOps.map(() => null);
  const link = (v: number, f: number) => {
    floatOf[v] = f;
    variantOf[f] = v;
  };

  // 1. Same op type writing a tensor of the same base name.
  const byOutput = new Map<string, number[]>();
  fs.operators.forEach((op, f) => {
    for (const t of op.outputs) {
      if (t < 0) continue;
      const key = `${fOps[f]}|${baseTensorName(fs.tensors[t].name)}`;
      byOutput.set(key, [...(byOutput.get(key) ?? []), f]);
    }
  });
  vs.operators.forEach((op, v) => {
    for (const t of op.outputs) {
      if (t < 0 || floatOf[v] !== null) continue;
      const candidates = byOutput.get(`${vOps[v]}|${baseTensorName(vs.tensors[t].name)}`) ?? [];
      const f = candidates.find((c) => variantOf[c] === null);
      if (f !== undefined) link(v, f);
    }
  });

  // 2. The rest by op type, in order, never before the float op matched last (no crossing matches).
  let after = -1;
  vOps.forEach((name, v) => {
    if (floatOf[v] !== null) {
      after = Math.max(after, floatOf[v]!);
      return;
    }
    if (CONVERSIONS.has(name)) return;
    for (let f = after + 1; f < fOps.length; f++) {
      if (variantOf[f] === null && fOps[f] === name) {
        link(v, f);
        after = f;
        break;
      }
    }
  });

  const variantMatches: VariantOpMatch[] = vOps.map((op, v) => {
    const f = floatOf[v];
    if (f === null) return { opIndex: v, op, floatOp: null, change: 'inserted' };
    const [outA, outB] = [outputType(fs, f), outputType(vs, v)];
    const wa = weightTypes(float, fs, fProducer, f);
    const wb = weightTypes(variant, vs, vProducer, v);
    const parts: string[] = [];
    if (outA !== outB) parts.push(`out ${outA}→${outB}`);
    if (wa.join() !== wb.join()) parts.push(`weights ${wa.join('/') || 'none'}→${wb.join('/') || 'none'}`);
    return parts.length ? { opIndex: v, op, floatOp: f, change: 'dtype', dtypeChange: parts.join(', ') } : { opIndex: v, op, floatOp: f, change: 'same' };
  });
  const floatMatches: FloatOpMatch[] = fOps.map((op, f) => {
    const v = variantOf[f];
    const first = fs.operators[f].outputs[0];
    const output = first !== undefined && first >= 0 ? fs.tensors[first].name : '';
    if (v !== null) return { opIndex: f, op, output, variantOp: v, fate: 'kept' };
    const input = fs.operators[f].inputs[0];
    const foldsWeights = op === 'DEQUANTIZE' && input !== undefined && input >= 0 && isConstant(float, fs.tensors[input]);
    return { opIndex: f, op, output, variantOp: null, fate: foldsWeights ? 'folded' : 'removed' };
  });
  const count = <T,>(list: T[], test: (x: T) => boolean) => list.filter(test).length;
  return {
    subgraph: subgraphIndex,
    variant: variantMatches,
    float: floatMatches,
    counts: {
      same: count(variantMatches, (m) => m.change === 'same'),
      dtype: count(variantMatches, (m) => m.change === 'dtype'),
      inserted: count(variantMatches, (m) => m.change === 'inserted'),
      removed: count(floatMatches, (m) => m.fate === 'removed'),
      folded: count(floatMatches, (m) => m.fate === 'folded'),
    },
  };
}
