// Bootstrap of the HTTP server thread. A worker thread does not inherit the main thread's
// tsx loader (neither `register()` from bin/drivewarden.js nor `--import tsx` in execArgv
// on Node 20), so it registers tsx itself, then imports the TypeScript entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
