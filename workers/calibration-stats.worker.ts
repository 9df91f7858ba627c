/** The browser statistics worker of calibration (src/optimize/calibrate-stats-thread.ts). */
import { statsServer, type StatsRequest } from '../src/optimize/calibrate-stats-thread';

const scope = self as unknown as { postMessage(message: unknown, transfer: Transferable[]): void; onmessage: ((event: MessageEvent<StatsRequest>) => void) | null };
const handle = statsServer((reply, transfer) => scope.postMessage(reply, transfer));
scope.onmessage = (event) => handle(event.data);
