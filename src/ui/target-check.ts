/**
 * What a target cannot take, read from a variant's graph (no DOM, so the optimizer worker runs it).
 * Edge TPU / NPU and microcontrollers: every op's tensors int8/uint8 (int32 only as a bias or an
 * integer-only op's own operand), static shapes, a single subgraph. CPU and web: no restriction.
 * Mobile GPU: ops whose tensors are integer run through dequantize / CPU fallback (a note).
 */
import type { ModelGraph } from '../tflite/graph';
import { opName } from '../tflite/ops';
import { TensorType } from '../tflite/schema/generated/tflite_generated';

export type Target = 'cpu' | 'gpu' | 'integer' | 'web';

export const TARGET_LABELS: Record<Target, string> = {
  cpu: 'CPU (phone / desktop)',
  gpu: 'Mobile GPU',
  integer: 'Edge TPU / NPU / microcontroller (integer only)',
  web: 'Web (LiteRT.js)',
};

export interface TargetIssue {
  kind: 'float-op' | 'dynamic-shape' | 'subgraphs' | 'note';
  message: string;
  opIndex?: number;
}

const INTEGER_OK = new Set<TensorType>([TensorType.INT8, TensorType.UINT8]);

export function targetIssues(graph: ModelGraph, target: Target): TargetIssue[] {
  const issues: TargetIssue[] = [];
  if (target === 'integer') {
    if (graph.subgraphs.length > 1) issues.push({ kind: 'subgraphs', message: `${graph.subgraphs.length} subgraphs (the compiler maps one).` });
    const main = graph.subgraphs[0];
    if (!main) return issues;
    const dynamic = main.inputs.map((t) => main.tensors[t]).filter((t) => t.shapeSignature?.some((d) => d < 0));
    for (const t of dynamic) issues.push({ kind: 'dynamic-shape', message: `input '${t.name}' has a dynamic shape [${t.shapeSignature!.join(', ')}].` });
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
