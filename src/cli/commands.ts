/**
 * The commands of tflite-opt: what each does, its one MODEL argument and the option groups it takes.
 * Parsing (parse-command-line.ts) and usage text (usage.ts) are both read from this table. Handlers
 * are imported when their command runs, so `--help` and usage errors answer without loading the runtime.
 */
import { evalGroups, inspectGroups, optimizeGroups, runGroups, searchGroups, type Options } from './command-options';
import type { OptionGroup, OptionName, OptionSpec } from './option-spec';

export interface Command {
  name: string;
  summary: string;
  groups: readonly OptionGroup[];
  /** Options the command cannot run without; usage shows them outside brackets. */
  required: readonly string[];
  /** Text after the options in `tflite-opt COMMAND --help`. */
  notes?: string;
  run(options: Record<string, unknown>, model: string): Promise<number>;
}

/** Every option of a command, in the order of its groups. */
export function commandOptions(command: Command): [string, OptionSpec][] {
  return command.groups.flatMap((group) => Object.entries(group.options));
}

interface TypedCommand<G extends readonly OptionGroup[], R extends OptionName<G>> extends Omit<Command, 'groups' | 'required' | 'run'> {
  groups: G;
  required: readonly R[];
  run(options: Options<G, R>, model: string): Promise<number>;
}

/** Checks a table entry: its handler takes what its groups parse to. */
function command<const G extends readonly OptionGroup[], const R extends OptionName<G> = never>(entry: TypedCommand<G, R>): TypedCommand<G, R> {
  return entry;
}

export const COMMANDS: readonly Command[] = [
  command({
    name: 'inspect',
    summary: "the model's inputs, outputs, ops, parameters, bytes per dtype and quantization state",
    groups: inspectGroups,
    required: [],
    run: async (options, model) => (await import('./inspect-command')).inspect(options, model),
  }),
  command({
    name: 'optimize',
    summary: 'write an optimized copy of the model: one technique, or a chain (prune, cluster, fine-tune, then quantize)',
    groups: optimizeGroups,
    required: ['output'],
    notes: `CHAIN: prune:S[:2of4][:global|per-channel][:keep-first][:keep-last][:min=N][:ops=A,B] and/or
cluster:K[:optimal|kmeans++|linear|density|random][:per-channel][:keep-zeros][:seed=N][:min=N][:ops=A,B],
then optionally finetune (trains on --train with sparsity / clusters kept), then optionally one of
float16|weight-int8|dynamic|int8|int16x8, joined by "+" (e.g. prune:0.75+finetune+int8);
or qat+int8 (quantization-aware training on --train, then int8). qat+int8 --weights int4 (W4A8) quantizes
first (PTQ: GPTQ, int4 scale search), then trains from that model with its int4 steps learned (LSQ), and
keeps the PTQ model when no epoch beats it on held-out data (MobileNetV1 0.25, 85 ImageNet images, 4 epochs,
--loss distillation: PTQ 56.25%, float 62.25%; its default lr 2e-5 57.75%, lr 1e-4 keeps the PTQ model;
unbiased, 5 folds of 400 training / 100 held-out images: +0.6 pt; from the start that keeps the
smallest layers int8, as --weights int4 now does, +1.0 pt (57.80% -> 58.80%) on one partition of the
images and -0.8 pt (56.80% -> 56.00%) on another: within the noise;
npm run bench:qat-int4). --train
alone suffices: calibration then draws from it. See src/optimize/chain.ts.`,
    run: async (options, model) => (await import('./optimize-command')).optimize(options, model),
  }),
  command({
    name: 'run',
    summary: 'one inference in LiteRT, on .npy inputs or seeded random ones',
    groups: runGroups,
    required: [],
    run: async (options, model) => (await import('./run-command')).run(options, model),
  }),
  command({
    name: 'eval',
    summary: 'compare the model with its float reference on data: accuracy, agreement, error per layer, latency, size',
    groups: evalGroups,
    required: ['data'],
    run: async (options, model) => (await import('./eval-command')).evaluate(options, model),
  }),
  command({
    name: 'search',
    summary: 'find the smallest (or fastest) int8 / int16x8 model within a quality budget: the most sensitive ops stay float, the pick is confirmed on unseen samples',
    groups: searchGroups,
    required: ['output', 'budget', 'calib'],
    notes: `The search quantizes every op the recipe can (default per-channel int8), ranks the ops by the
error each adds (one per-layer comparison), then keeps the most sensitive ones in float, 1, 2, 4 ...
of them, and bisects for the fewest that meet the budget. Every candidate is a real model run in
LiteRT. The pick is confirmed on --check-count samples that neither calibration nor the search saw,
with a 95% interval. See src/app/search/precision-search.ts.`,
    run: async (options, model) => (await import('./search-command')).search(options, model),
  }),
];
