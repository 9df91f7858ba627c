/**
 * Opening a model: read the bytes (file or bundled sample), parse them in the worker, put the result
 * in the store. When files are opened in quick succession only the last one is shown.
 */
import { toErrorInfo, WorkbenchError } from '../errors';
import type { SummarizeResult } from '../app/worker-protocol';
import { firstLayout } from './graph/graph-client';
import { summarizeInWorker } from './model-worker';
import { sampleUrl, type Sample } from './samples';
import { openOrAsk } from './open-confirm';
import { restoreSession, sessionModelOpened } from './session';
import { useWorkbench } from './store';

let latestRequest = 0;
let userOpened = false;
/** Opens of the user's that went ahead (not asked and cancelled). */
let userOpensDone = 0;

/** Whether the user has opened a model (file or sample) since the page loaded: a restore must not replace it. */
export function userOpenedModel(): boolean {
  return userOpened;
}

async function openModel(fileName: string, fileBytes: number | null, readBytes: () => Promise<ArrayBuffer>, restoring = false) {
  const request = ++latestRequest;
  useWorkbench.getState().loadStarted({ fileName, fileBytes });
  let size = fileBytes ?? 0;
  let result: SummarizeResult;
  let kept: Uint8Array | null = null;
  try {
    const bytes = new Uint8Array(await readBytes());
    size = bytes.byteLength;
    kept = bytes.slice(); // the page's copy, for the optimizer and downloads (bytes are transferred)
    firstLayout(kept).catch(() => {}); // the graph worker lays it out meanwhile (its panel shows any error)
    result = await summarizeInWorker(bytes);
  } catch (error) {
    result = { ok: false, error: toErrorInfo(error) };
  }
  if (request !== latestRequest) return;
  const store = useWorkbench.getState();
  if (result.ok) {
    store.loadSucceeded({ fileName, fileBytes: size, summary: result.summary });
    if (kept) void sessionModelOpened(fileName, kept, restoring);
  }
  else store.loadFailed({ fileName, error: result.error });
}

/** Opens a picked or dropped file (asking first when the session has variants). */
export function openFile(file: File): Promise<void> {
  userOpened = true;
  return openOrAsk(file.name, () => openFileNow(file));
}

function openFileNow(file: File): Promise<void> {
  userOpensDone++;
  return openModel(file.name, file.size, async () => {
    try {
      return await file.arrayBuffer();
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new WorkbenchError('bad-input', `The browser could not read ${file.name} (${why}). Check that the file still exists and try again.`);
    }
  });
}

/** Opens a bundled sample (asking first when the session has variants). */
export function openSample(sample: Sample): Promise<void> {
  userOpened = true;
  return openOrAsk(sample.fileName, () => openSampleNow(sample));
}

function openSampleNow(sample: Sample): Promise<void> {
  userOpensDone++;
  return openModel(sample.fileName, sample.bytes, async () => {
    let response: Response;
    try {
      response = await fetch(sampleUrl(sample));
    } catch {
      throw new WorkbenchError('runtime', `The sample ${sample.fileName} could not be fetched from this app's server.`);
    }
    if (!response.ok) {
      throw new WorkbenchError('runtime', `The sample ${sample.fileName} could not be fetched (HTTP ${response.status}).`);
    }
    return response.arrayBuffer();
  });
}

/**
 * On page load: the saved session comes back unless the user opened a model first. The restore
 * writes the session into the store before it reopens the model, and a file picked in between asks
 * about that session; when the user goes ahead (new session or replace), their model is already on
 * its way and the restored one must not be opened after it, or it would replace theirs.
 */
export async function restoreOnLoad(): Promise<void> {
  const restored = await restoreSession(undefined, userOpenedModel);
  if (restored && userOpensDone === 0) await openRestored(restored.name, restored.bytes);
}

/** Reopens a model restored from the saved session, keeping its variants. */
export function openRestored(fileName: string, bytes: Uint8Array): Promise<void> {
  return openModel(fileName, bytes.byteLength, async () => bytes.slice().buffer, true);
}
