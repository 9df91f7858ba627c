/**
 * The worker side of calibration runs on several LiteRT instances (runs/litert-instances.ts): the
 * messages, and the handler a calibration worker runs for them. Kept apart so that the worker
 * entries import only this (and LiteRT, on demand), not the calibrating side.
 */
import type { RuntimeData, RuntimeTensor } from '../../../runtime/types';

/** The model a helper loads: `bytes` with taps on `select` (packed or not), as loadTapped makes them. */
export interface HelperModel {
  bytes: Uint8Array;
  select: number[];
  pack: boolean;
}

export type RunRequest =
  | ({ type: 'load-model'; id: number; wasmBase: string | null } & HelperModel)
  | { type: 'run'; id: number; inputs: RuntimeData[] }
  /** Free the model (the worker goes back to the idle pool). */
  | { type: 'unload' };

export type RunReply =
  | { type: 'model-loaded'; id: number }
  | { type: 'model-failed'; id: number; message: string }
  | ({ type: 'ran'; id: number } & RunOutput)
  | { type: 'run-failed'; id: number; message: string };

/** One run: the tapped values (one array per tap, in tap order) and whether the model's float outputs were all finite. */
export interface RunOutput {
  values: RuntimeData[];
  outputsFinite: boolean;
}

const RUN_REQUESTS = new Set(['load-model', 'run', 'unload']);

export function isRunRequest(request: { type: string }): request is RunRequest {
  return RUN_REQUESTS.has(request.type);
}

/** Whether every value is finite (no NaN, no +-Infinity). */
export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Whether the float outputs of a run hold only finite values (a NaN in the model reaches them). */
export function outputsFinite(outputs: readonly RuntimeTensor[]): boolean {
  return outputs.every((o) => !(o.data instanceof Float32Array) || allFinite(o.data));
}

/**
 * The worker side: handles the run requests of one calibration worker. LiteRT is imported with the
 * first model, so a worker that only does statistics never loads it. Requests are handled one
 * after another in arrival order (a run waits for the load before it).
 */
export function runServer(post: (reply: RunReply, transfer: ArrayBuffer[]) => void): (request: RunRequest) => void {
  type Runner = Awaited<ReturnType<typeof import('../../../runtime/taps').loadTapped>>;
  let runner: Runner | null = null;
  let queue: Promise<void> = Promise.resolve();
  const text = (error: unknown) => (error instanceof Error ? error.message : String(error));
  const handle = async (request: RunRequest) => {
    if (request.type === 'load-model') {
      try {
        runner?.delete();
        runner = null;
        const [{ initRuntime }, { loadTapped }, { readModel }] = await Promise.all([import('../../../runtime/start'), import('../../../runtime/taps'), import('../../../tflite/read')]);
        await initRuntime(request.wasmBase ? { wasmBase: request.wasmBase } : {});
        const select = new Set(request.select);
        runner = await loadTapped(readModel(request.bytes), { select: (t) => select.has(t), pack: request.pack });
        post({ type: 'model-loaded', id: request.id }, []);
      } catch (error) {
        post({ type: 'model-failed', id: request.id, message: text(error) }, []);
      }
    } else if (request.type === 'run') {
      try {
        if (!runner) throw new Error('no model loaded');
        const { outputs, values } = await runner.run(request.inputs);
        // The values are views into LiteRT's own copies of its outputs: hand those buffers over.
        const transfer = [...new Set(values.map((v) => v.buffer as ArrayBuffer))];
        post({ type: 'ran', id: request.id, values, outputsFinite: outputsFinite(outputs) }, transfer);
      } catch (error) {
        post({ type: 'run-failed', id: request.id, message: text(error) }, []);
      }
    } else {
      runner?.delete();
      runner = null;
    }
  };
  return (request) => {
    queue = queue.then(() => handle(request));
  };
}
