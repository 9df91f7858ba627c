/**
 * Per-class figures as text (the CLI's output and the Markdown report): the classes the variant gets
 * wrong most often, each with its sample count and 95% interval (a class with few samples says so),
 * and the most frequent confusions.
 */
import { className, FEW_SAMPLES, worstClasses, type PerClassSummary } from './per-class';

const percent = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');

export function perClassLines(summary: PerClassSummary, worst = 5, confusions = 5): string[] {
  const truth = summary.against === 'labels' ? 'label' : "float model's top-1";
  const withSamples = summary.perClass.filter((c) => c.samples > 0).length;
  const lines = [`Per class (truth: the ${truth}; ${withSamples} of ${summary.classes} classes have samples). Worst recall:`, ''];
  lines.push('| class | samples | recall (95% interval) | precision |', '|---|---|---|---|');
  for (const c of worstClasses(summary, worst)) {
    const few = c.samples < FEW_SAMPLES ? ', few samples' : '';
    lines.push(`| ${className(summary, c.classId).replace(/\|/g, '\\|')} | ${c.samples} | ${c.correct}/${c.samples} = ${percent(c.recall)} (${percent(c.recallLow)}-${percent(c.recallHigh)}${few}) | ${percent(c.precision)} |`);
  }
  lines.push('');
  const top = summary.topConfusions.slice(0, confusions);
  lines.push(top.length ? `Top confusions (truth -> predicted: samples): ${top.map((c) => `${className(summary, c.truth)} -> ${className(summary, c.predicted)}: ${c.count}`).join('; ')}.` : 'No confusions.', '');
  return lines;
}
