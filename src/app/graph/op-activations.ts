/**
 * The calibrated activations of one op, for its details: the summaries a variant's result carries
 * (keyed by the float model's `${subgraph}:${tensorIndex}`) matched to the op's non-constant inputs
 * and outputs. On the float model the key matches (checked by name); on a variant, or when the
 * calibrated graph was renumbered (a chain drops float16 weights first), the tensor's name does:
 * our rewrites keep activation names or add a suffix (baseTensorName).
 */
import type { ActivationSummary } from '../../optimize/calibrate/activation-summary';
import type { OpDetails } from './op-facts';
import { baseTensorName } from './op-match';

export interface OpActivation {
  role: 'in' | 'out';
  /** Position among the op's inputs or outputs. */
  position: number;
  tensor: string;
  summary: ActivationSummary;
}

export function opActivations(details: OpDetails, summaries: readonly ActivationSummary[]): OpActivation[] {
  const byKey = new Map(summaries.map((s) => [s.key, s]));
  const byName = new Map<string, ActivationSummary>();
  for (const s of summaries) {
    if (s.key.startsWith(`${details.subgraph}:`) && !byName.has(baseTensorName(s.name))) byName.set(baseTensorName(s.name), s);
  }
  const find = (index: number, name: string) => {
    const keyed = byKey.get(`${details.subgraph}:${index}`);
    if (keyed && keyed.name === name) return keyed;
    return byName.get(baseTensorName(name)) ?? null;
  };
  const found: OpActivation[] = [];
  const add = (role: 'in' | 'out', list: OpDetails['inputs']) =>
    list.forEach((t, position) => {
      if (!t || t.constant) return;
      const summary = find(t.index, t.name);
      if (summary) found.push({ role, position, tensor: t.name, summary });
    });
  add('in', details.inputs);
  add('out', details.outputs);
  return found;
}
