/** bench/browser-epoch.ts's module worker: the engine as the app's workers start it, then one QAT epoch. */
import { initBrowserEngine } from '../../src/engine/backend-browser';
import type { DataFile } from '../../src/data/files';
import { qatEpoch } from './qat-epoch-run';

interface Request {
  modelUrl: string;
  labelsUrl: string;
  images: { path: string; url: string; size: number }[];
  count: number;
}

const bytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());

self.onmessage = async (event: MessageEvent<Request>) => {
  try {
    const { modelUrl, labelsUrl, images, count } = event.data;
    const engine = await initBrowserEngine('wasm');
    const files: DataFile[] = images.map((f) => ({ path: f.path, size: f.size, read: () => bytes(f.url) }));
    const run = await qatEpoch(await bytes(modelUrl), files, await (await fetch(labelsUrl)).text(), count);
    self.postMessage({ ok: true, run, engine, isolated: self.crossOriginIsolated });
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
  }
};
