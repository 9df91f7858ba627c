/**
 * Running a variant, start to end: split the data, make the variant (plain or chain), compare it
 * with the float model in LiteRT, time both, check it against the target, find inputs where the two
 * disagree, and write the report. What the optimizer worker runs for the page.
 */
import { WorkbenchError } from '../errors';
import { measureLatency } from '../evaluate/latency';
import { modelNodeData, nodeDataJson } from '../evaluate/model-explorer';
import { buildReport, reportMarkdown, reportToJson, type WorkbenchReport } from '../evaluate/report';
import { compareSizes } from '../evaluate/size';
import { targetCheck, type Target } from '../evaluate/target-check';
import { toAeqRecipe } from '../optimize/recipe';
import { probeWebGpu } from '../runtime/webgpu-probe';
import { readModel } from '../tflite/read';
import { accuracyNotes } from './chain-accuracy';
import { evaluateCandidate } from './evaluate-candidate';
import { makeVariant, type MakeVariantRequest } from './make-variant';
import type { Session } from './session';
import { splitIndices } from './split';
import type { ProgressCallback, RunResult, Split } from './worker-protocol';

export type { VariantSpec } from './make-variant';

const LATENCY = { runs: 20, warmup: 3 };

export interface RunVariantRequest extends Omit<MakeVariantRequest, 'model' | 'dataset' | 'indices'> {
  session: Session;
  split: Split;
  target: Target;
  onProgress: ProgressCallback;
  /** Where the numbers come from, for the report. */
  environment: Record<string, string>;
}

export interface VariantRun {
  result: RunResult;
  report: WorkbenchReport;
}

export async function runVariant(request: RunVariantRequest): Promise<VariantRun> {
  const { session, signal, onProgress, target } = request;
  const { bytes: reference, name: modelName } = session.requireModel();
  const d = session.dataset;
  const indices = d ? splitIndices(d, request.split) : null;
  // The page shows each op's calibrated activations: keep their summary (stored with the session).
  const made = await makeVariant({ ...request, model: reference, dataset: d, indices, activationSummaries: true });
  if (signal?.aborted) throw new WorkbenchError('cancelled', 'Cancelled.');

  const measured = await evaluateCandidate(session, made.bytes, request.split, onProgress, signal, made.channelScales, made.channelShifts);
  const { comparison, evaluatedOn } = measured;
  if (made.chain) made.notes.push(...accuracyNotes(comparison, made.chain.steps));

  onProgress('latency', 0, 1);
  session.referenceLatency ??= await measureLatency(reference, { ...LATENCY, signal });
  const referenceLatency = session.referenceLatency;
  const latency = await measureLatency(made.bytes, { ...LATENCY, signal });
  onProgress('latency', 1, 1);

  const graph = readModel(made.bytes);
  const check = targetCheck(graph, target, made.bytes.length);
  // Web: measured, not guessed; cheap (a few seconds at most) and never fails the run.
  const webgpu = target === 'web' ? await probeWebGpu(made.bytes, { timeoutMs: 5000 }) : null;
  const sizes = compareSizes(made.bytes, reference);
  const report = buildReport({
    model: { name: `${modelName.replace(/\.tflite$/i, '')}-${made.label}.tflite`, reference: modelName },
    label: made.label,
    recipe: made.recipe,
    chain: made.chain && { steps: made.chain.steps, result: made.chain.result },
    floatOpCauses: made.verdict?.causes,
    floatOps: made.floatOps,
    sizes,
    comparison,
    latency: { reference: referenceLatency, candidate: latency },
    target: { name: target, issues: check.issues, mcu: check.mcu ?? null, webgpu },
    notes: made.notes,
    timingsMs: made.timings as Record<string, number>,
    environment: request.environment,
    createdAt: new Date().toISOString(),
  });
  const disagreements = await measured.disagreements();
  const overlayJson = comparison.perLayer?.length ? nodeDataJson(modelNodeData(graph, comparison.perLayer)) : null;
  const result: RunResult = {
    bytes: made.bytes,
    label: made.label,
    recipe: made.recipe,
    floatOps: made.floatOps,
    activations: made.activations,
    ...(made.channelScales ? { channelScales: made.channelScales } : {}),
    ...(made.channelShifts ? { channelShifts: made.channelShifts } : {}),
    notes: made.notes,
    timings: made.timings as Record<string, number>,
    comparison,
    randomInputs: evaluatedOn.random,
    evaluatedOn,
    sizes,
    latency,
    referenceLatency,
    targetIssues: check.issues,
    mcu: check.mcu ?? null,
    webgpu,
    disagreements,
    chain: made.chain?.summary,
    training: made.training,
    reportJson: reportToJson(report),
    reportMarkdown: reportMarkdown(report),
    overlayJson,
    aeqRecipeJson: `${JSON.stringify(toAeqRecipe(made.recipe).entries, null, 2)}\n`,
  };
  return { result, report };
}
