/** A few dataset inputs, evenly spread, as the model sees them, with the float model's top-3 predictions. */
import { topK } from '../evaluate/metrics';
import { loadModel } from '../runtime/load';
import { toModelInput } from '../runtime/samples';
import { WorkbenchError } from '../errors';
import type { Session } from './session';
import { thumbnail } from './thumbnail';
import type { PreviewItem } from './worker-protocol';

export async function previewDataset(session: Session, count: number): Promise<PreviewItem[]> {
  const { bytes } = session.requireModel();
  const d = session.dataset;
  if (!d) throw new WorkbenchError('bad-input', 'No dataset yet.');
  const model = await loadModel(bytes);
  try {
    const items: PreviewItem[] = [];
    const n = Math.min(count, d.size);
    for (let k = 0; k < n; k++) {
      const i = Math.floor((k * d.size) / n);
      const floats = await d.sample(i);
      const outputs = await model.run(floats.map((f, j) => toModelInput(f, d.inputs[j])));
      const scores = outputs[0]?.data ?? [];
      const top = topK(scores, 3).map((index) => ({ index, score: scores[index], name: session.className(index) }));
      const label = d.labels[i];
      items.push({ name: d.names[i], label: label === null ? null : (d.classNames?.[label] ?? String(label)), ...thumbnail(floats[0], d.preprocessing[0] ?? null), top });
    }
    return items;
  } finally {
    model.delete();
  }
}
