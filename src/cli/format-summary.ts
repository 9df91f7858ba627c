/** A ModelSummary as the text `tflite-opt inspect` prints. */
import { formatBytes } from '../format-bytes';
import type { ModelSummary, TensorInfo } from '../tflite/summary-types';


export function formatShape(info: Pick<TensorInfo, 'shape' | 'shapeSignature'>): string {
  const dims = info.shapeSignature ?? info.shape;
  return `[${dims.map((d) => (d === -1 ? '?' : String(d))).join(', ')}]`;
}

function formatTensor(info: TensorInfo): string {
  const q = info.quantization;
  const quant = !q
    ? ''
    : q.scale.length === 1
      ? `  q(scale=${q.scale[0].toPrecision(6)}, zero_point=${q.zeroPoint[0]})`
      : `  q(per-channel, ${q.scale.length} scales on axis ${q.quantizedDimension})`;
  return `  ${info.name}  ${info.dtype} ${formatShape(info)}${quant}`;
}

export function formatSummary(path: string, s: ModelSummary): string {
  const lines = [
    `${path}`,
    `  size ${formatBytes(s.bytes)} (${s.bytes} bytes), gzip ${formatBytes(s.gzipBytes)}`,
    `  quantization: ${s.quantization}; ${s.params.toLocaleString('en-US')} parameters; ${s.opCount} ops in ${s.subgraphCount} subgraph(s)`,
    s.description ? `  description: ${s.description}` : '',
    'inputs:',
    ...s.inputs.map(formatTensor),
    'outputs:',
    ...s.outputs.map(formatTensor),
    'ops:',
    ...Object.entries(s.ops)
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `  ${String(count).padStart(5)}  ${name}`),
    'weights by type:',
    ...Object.entries(s.bytesByDtype).map(([dtype, bytes]) => `  ${dtype.padEnd(9)} ${formatBytes(bytes).padStart(10)}  (${bytes} bytes)`),
  ];
  if (s.signatures.length) lines.push('signatures:', ...s.signatures.map((g) => `  ${g.key}: (${g.inputs.join(', ')}) -> (${g.outputs.join(', ')})`));
  if (s.customOps.length) lines.push(`custom ops: ${s.customOps.join(', ')}`);
  if (s.metadata.length) lines.push(`metadata: ${s.metadata.map((m) => `${m.name} (${m.bytes} bytes)`).join(', ')}`);
  if (s.associatedFiles.length) lines.push(`associated files: ${s.associatedFiles.join(', ')}`);
  if (s.notes.length) lines.push('notes:', ...s.notes.map((n) => `  - ${n}`));
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}
