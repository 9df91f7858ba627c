/**
 * bench/scale-browser.ts's page: the app's own optimizer worker (workers/optimizer.worker.ts, through
 * comlink, as src/ui/optimizer-client.ts starts it) given the model and the photos the way the page
 * gives them (bytes, File objects), then one int8 variant run as the page runs it (runVariant: make
 * the variant, evaluate it against the float model, time both). Each progress mark goes to Node at
 * once (benchMark) so that Node can time the steps and split its memory samples by step.
 */
import * as Comlink from 'comlink';
import type { RunStage, Split } from '../../src/app/worker-protocol';
import type { Preprocessing } from '../../src/data/preprocess';
import type { Target } from '../../src/evaluate/target-check';
import { defaultRecipe } from '../../src/optimize/recipe';
import type { OptimizerWorkerApi } from '../../workers/optimizer.worker';

export interface ScaleRequest {
  modelUrl: string;
  modelName: string;
  images: { path: string; url: string }[];
  preprocessing: Preprocessing;
  split: Split;
  target: Target;
}

/** performance.measureUserAgentSpecificMemory's answer, cut to what the bench prints. */
export interface MemoryMeasure {
  bytes: number;
  breakdown: { bytes: number; types: string[]; scopes: string[] }[];
}

export type ScaleAnswer =
  | {
      ok: true;
      isolated: boolean;
      datasetSize: number;
      /** The variant, base64 (Playwright hands strings back cheaply). */
      bytesBase64: string;
      label: string;
      floatOps: string[];
      notes: string[];
      timings: Record<string, number>;
      outputs: { name: string; sqnrDb: number }[];
      evaluatedSamples: number;
      latencyMs: { candidate: number; reference: number };
      memory: { beforeRun: MemoryMeasure | string; afterRun: MemoryMeasure | string };
    }
  | { ok: false; error: string };

type Result<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

declare global {
  interface Window {
    runScale(request: ScaleRequest): Promise<ScaleAnswer>;
    /** Exposed by Node (page.exposeFunction). */
    benchMark(stage: string, done: number, total: number | null): Promise<void>;
  }
}

/** Only where the page is cross-origin isolated; Chromium resolves it at its next GC unless told to be eager. */
async function measureMemory(): Promise<MemoryMeasure | string> {
  const measure = (performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number; breakdown: { bytes: number; types: string[]; attribution: { scope: string; url?: string }[] }[] }> }).measureUserAgentSpecificMemory;
  if (!measure) return 'performance.measureUserAgentSpecificMemory is not available here';
  try {
    const m = await measure.call(performance);
    return { bytes: m.bytes, breakdown: m.breakdown.filter((b) => b.bytes > 0).map((b) => ({ bytes: b.bytes, types: b.types, scopes: b.attribution.map((a) => a.scope) })) };
  } catch (e) {
    return String(e);
  }
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

window.runScale = async (request) => {
  const worker = new Worker(new URL('../../workers/optimizer.worker.ts', import.meta.url), { type: 'module', name: 'optimizer-worker' });
  const died = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      reject(new Error(`the optimizer worker stopped${event.message ? `: ${event.message}` : ''}`));
    });
  });
  const api = Comlink.wrap<OptimizerWorkerApi>(worker);
  const call = async <T>(work: Promise<Result<T>>): Promise<T> => {
    const r = await Promise.race([work, died]);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.value;
  };
  try {
    await window.benchMark('start worker', 0, null);
    await call(api.init(new URL('/', location.href).href));
    await window.benchMark('open model', 0, null);
    const model = new Uint8Array(await (await fetch(request.modelUrl)).arrayBuffer());
    await call(api.setModel(model, request.modelName));
    await window.benchMark('open photos', 0, null);
    const files = await Promise.all(
      request.images.map(async ({ path, url }) => ({ file: new File([await (await fetch(url)).blob()], path.split('/').pop()!), path })),
    );
    const info = await call(api.setDataset({ files }, request.preprocessing));
    await window.benchMark('measure memory', 0, null);
    const beforeRun = await measureMemory();
    await window.benchMark('run: read model', 0, null);
    const onProgress = Comlink.proxy((stage: RunStage, done: number, total: number | undefined) => void window.benchMark(stage, done, total ?? null));
    const result = await call(api.run('scale', { recipe: defaultRecipe('int8') }, request.split, request.target, onProgress));
    await window.benchMark('returned', 0, null);
    const afterRun = await measureMemory();
    return {
      ok: true,
      isolated: crossOriginIsolated,
      datasetSize: info.size,
      bytesBase64: base64(result.bytes),
      label: result.label,
      floatOps: result.floatOps.map((f) => `${f.op} #${f.opIndex}: ${f.reason}`),
      notes: result.notes,
      timings: result.timings,
      outputs: result.comparison.outputs.map((o) => ({ name: o.name, sqnrDb: o.sqnrDb })),
      evaluatedSamples: result.comparison.samples,
      latencyMs: { candidate: result.latency.medianMs, reference: result.referenceLatency.medianMs },
      memory: { beforeRun, afterRun },
    };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) };
  } finally {
    worker.terminate();
  }
};
