/** The browser calibration worker (src/optimize/calibrate/worker/stats-thread.ts): statistics and LiteRT runs (src/optimize/calibrate/runs/litert-instances.ts). */
import { isRunRequest, runServer } from '../src/optimize/calibrate/runs/litert-instances-server';
import type { WorkerRequest } from '../src/optimize/calibrate/worker/port';
import { statsServer } from '../src/optimize/calibrate/worker/stats-server';

const scope = self as unknown as { postMessage(message: unknown, transfer: Transferable[]): void; onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null };
const post = (reply: object, transfer: ArrayBuffer[]) => scope.postMessage(reply, transfer);
const stats = statsServer(post);
const runs = runServer(post);
scope.onmessage = (event) => (isRunRequest(event.data) ? runs(event.data) : stats(event.data));
