/** The main-thread side of workers/model.worker.ts: one lazily started worker, reached with comlink. */
import * as Comlink from 'comlink';
import { WorkbenchError } from '../errors';
import type { ModelWorkerApi } from '../../workers/model.worker';
import type { SummarizeResult } from '../app/worker-protocol';

interface RunningWorker {
  api: Comlink.Remote<ModelWorkerApi>;
  /** Rejects if the worker dies (fails to start, crashes); a comlink call would otherwise never settle. */
  died: Promise<never>;
}

let running: RunningWorker | null = null;

function modelWorker(): RunningWorker {
  if (running) return running;
  const worker = new Worker(new URL('../../workers/model.worker.ts', import.meta.url), {
    type: 'module',
    name: 'model-worker',
  });
  const died = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      if (running?.died === died) running = null;
      worker.terminate();
      const reason = event.message ? ` (${event.message})` : '';
      reject(new WorkbenchError('runtime', `The model reader stopped unexpectedly${reason}. Try again or reload the page.`));
    });
  });
  died.catch(() => {}); // observed through Promise.race below; never an unhandled rejection
  running = { api: Comlink.wrap<ModelWorkerApi>(worker), died };
  return running;
}

/** Parses the bytes in the worker. The bytes are transferred: `bytes` is empty (detached) afterwards. */
export function summarizeInWorker(bytes: Uint8Array): Promise<SummarizeResult> {
  const { api, died } = modelWorker();
  return Promise.race([api.summarize(Comlink.transfer(bytes, [bytes.buffer])), died]);
}
