/** A run refused as a float-fallback failure still leaves its report: causes and the full op list. */
import { writeFileSync } from 'node:fs';
import { buildReport, reportToJson, type ReportParts } from '../evaluate/report';
import { FloatFallbackError } from '../optimize/fallback';

/** What is known of the run before it ran: the model, the output path, the recipe or chain. */
export type RunContext = Pick<ReportParts, 'model' | 'recipe' | 'chain'>;

export async function reportingFailure<T>(reportPath: string | undefined, context: RunContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (reportPath && error instanceof FloatFallbackError) {
      const { failure, causes } = error.verdict;
      const report = buildReport({ ...context, output: null, failure, hint: 'rerun with --allow-float-fallback to write the model anyway', floatOpCauses: causes, floatOps: error.floatOps });
      writeFileSync(reportPath, reportToJson(report));
    }
    throw error;
  }
}
