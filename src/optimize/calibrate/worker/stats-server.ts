/** The worker side of calibration statistics (worker/stats-thread.ts is the calibrating side). */
import { StatsAccumulator } from '../statistics/accumulator';
import type { StatsReply, StatsRequest } from './port';

/**
 * Serves one statistics worker: `post` sends a reply to the calibrating side; the returned
 * function handles each request. Used by the Node and browser worker entries.
 */
export function statsServer(post: (reply: StatsReply, transfer: ArrayBuffer[]) => void): (request: StatsRequest) => void {
  let accumulator: StatsAccumulator | null = null;
  let failed = false;
  return (request) => {
    try {
      if (request.type === 'init') {
        accumulator = new StatsAccumulator(request.plan);
        failed = false;
        post({ type: 'ready' }, []);
      } else if (request.type === 'sample') {
        if (!failed) accumulator!.add(request.arrays);
        post({ type: 'added' }, []);
      } else if (request.type === 'finish') {
        if (failed) throw new Error('an earlier sample failed');
        const result = accumulator!.result();
        accumulator = null;
        const transfer = [...result.tensors.map((t) => t.histogram.counts.buffer), ...result.means.map((m) => m.sums.buffer)] as ArrayBuffer[];
        post({ type: 'result', result }, transfer);
      }
    } catch (error) {
      failed = true;
      post({ type: 'error', message: errorText(error) }, []);
    }
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
