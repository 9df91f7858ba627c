/** The Node calibration worker (worker_threads), started by worker/node.ts: statistics and LiteRT runs. */
import { parentPort } from 'node:worker_threads';
import { isRunRequest, runServer } from '../runs/litert-instances-server';
import type { WorkerRequest } from './port';
import { statsServer } from './stats-server';

const port = parentPort!;
const post = (reply: object, transfer: ArrayBuffer[]) => port.postMessage(reply, transfer);
const stats = statsServer(post);
const runs = runServer(post);
port.on('message', (request: WorkerRequest) => (isRunRequest(request) ? runs(request) : stats(request)));
