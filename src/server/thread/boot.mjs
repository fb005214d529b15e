// Bootstrap of the HTTP server thread. A worker thread does not inherit the main thread's
// tsx loader (neither `register()` from bin/drivewarden.js nor `--import tsx` in execArgv
// on Node 20), so it registers tsx itself, then imports the TypeScript entry.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
// Loading (and transforming) the modules takes long on a busy machine, but cannot hang: a
// thread that asks for it says it is still at it (the HTTP server thread's start-up limit).
const loading = workerData.progressEveryMs
  ? setInterval(
      () => parentPort?.postMessage({ type: 'starting', step: 'loading its modules' }),
      workerData.progressEveryMs,
    )
  : undefined;
try {
  await import(workerData.entry);
} finally {
  clearInterval(loading);
}
