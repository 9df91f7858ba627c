/** `tflite-opt inspect`: the model's summary, as text or JSON. */
import { summarizeModel } from '../tflite/summary';
import type { InspectOptions } from './command-options';
import { formatSummary } from './format-summary';
import { readInputFile } from './read-input-file';

export async function inspect(options: InspectOptions, path: string): Promise<number> {
  const summary = summarizeModel(readInputFile(path, 'model'));
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(path, summary));
  return 0;
}
