import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import type { CheckpointerData, CheckpointerReport } from './checkpointer.ts';
import { WalIndex } from './wal-index.ts';

/**
 * The checkpoint thread (checkpointer.ts): its own connection to the store's file, and a
 * PASSIVE checkpoint (it neither waits for the writer and the readers nor blocks them)
 * whenever the WAL holds `thresholdFrames` frames not yet copied back. 'close' stops it.
 */
const data = workerData as CheckpointerData;
const db = new SQLite(data.file, { fileMustExist: true });
const shm = new WalIndex(`${data.file}-shm`);

function tick(): void {
  if (shm.pendingFrames() < data.thresholdFrames) return;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{
      busy: number;
      log: number;
      checkpointed: number;
    }>;
    if (data.report && row)
      parentPort?.postMessage({ kind: 'checkpoint', ...row } satisfies CheckpointerReport);
  } catch (err) {
    // An I/O error, a full disk: the next tick tries again (the writer meets the same fault itself).
    parentPort?.postMessage({ kind: 'error', message: (err as Error).message } satisfies CheckpointerReport);
  }
}
const timer = setInterval(tick, data.pollMs);
parentPort?.on('message', (message: unknown) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  shm.close();
  parentPort?.close();
});
