/** The Node calibration worker (worker_threads), started by calibrate-stats-node.ts: statistics and LiteRT runs. */
import { parentPort } from 'node:worker_threads';
import { isRunRequest, runServer } from './calibrate-runs-server';
import type { WorkerRequest } from './calibrate-stats-port';
import { statsServer } from './calibrate-stats-server';

const port = parentPort!;
const post = (reply: object, transfer: ArrayBuffer[]) => port.postMessage(reply, transfer);
const stats = statsServer(post);
const runs = runServer(post);
port.on('message', (request: WorkerRequest) => (isRunRequest(request) ? runs(request) : stats(request)));
