/**
 * The model worker: parses .tflite bytes off the main thread. Exposed with comlink; errors come back
 * as plain ErrorInfo values (never thrown across the boundary), so the UI can show their message.
 */
import * as Comlink from 'comlink';
import type { SummarizeResult } from '../src/app/worker-protocol';
import { toErrorInfo } from '../src/errors';
import { summarizeModel } from '../src/tflite/summary';

const modelWorkerApi = {
  /** Call with comlink `transfer(bytes, [bytes.buffer])`: the bytes move here, they are not copied. */
  async summarize(bytes: Uint8Array): Promise<SummarizeResult> {
    try {
      return { ok: true, summary: summarizeModel(bytes) };
    } catch (error) {
      return { ok: false, error: toErrorInfo(error) };
    }
  },
};

export type ModelWorkerApi = typeof modelWorkerApi;

Comlink.expose(modelWorkerApi);
