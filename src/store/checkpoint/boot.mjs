// Bootstrap of the checkpoint thread when running the sources: a worker thread does not
// inherit the main thread's tsx loader on Node 20, so it registers tsx itself, then imports
// the TypeScript entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
