// Node statistics worker (worker/node.ts): load the TypeScript entry through tsx.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
