/** The Node statistics worker (worker_threads), started by calibrate-stats-node.ts. */
import { parentPort } from 'node:worker_threads';
import { statsServer, type StatsRequest } from './calibrate-stats-thread';

const port = parentPort!;
const handle = statsServer((reply, transfer) => port.postMessage(reply, transfer));
port.on('message', (request: StatsRequest) => handle(request));
