/** A run refused as a float-fallback failure still leaves its report: causes and the full op list. */
import { writeFileSync } from 'node:fs';
import { FloatFallbackError } from '../optimize/fallback';

export async function reportingFailure<T>(reportPath: string | undefined, context: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (reportPath && error instanceof FloatFallbackError) {
      const { failure, causes } = error.verdict;
      const report = { ...context, output: null, failure, floatOpCauses: causes, floatOps: error.floatOps, hint: 'rerun with --allow-float-fallback to write the model anyway' };
      writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    }
    throw error;
  }
}
