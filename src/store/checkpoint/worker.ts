import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../connection.ts';
import type { CheckpointerData, CheckpointerReport } from './checkpointer.ts';
import { WalIndex } from './wal-index.ts';

/**
 * The checkpoint thread (checkpointer.ts): its own connection to the store's file, and a
 * checkpoint whenever the WAL holds `thresholdFrames` frames not yet copied back. First a
 * PASSIVE one, which neither waits for the writer and the readers nor blocks them, for the
 * bulk; then a RESTART without waiting (no busy timeout): when the writer is between
 * transactions it copies the few frames written meanwhile and lets the next transaction start
 * the WAL over; when the writer or a reader is busy it gives up at once. Without it a writer
 * that never pauses long enough for a PASSIVE checkpoint to catch up would grow the WAL for
 * the whole sync. 'close' stops the thread.
 */
const data = workerData as CheckpointerData;
const db = openSqlite(data.file, { busyTimeoutMs: 0 });
type CheckpointRow = { busy: number; log: number; checkpointed: number };

const shm = new WalIndex(`${data.file}-shm`);

function tick(): void {
  if (shm.pendingFrames() < data.thresholdFrames) return;
  try {
    for (const mode of ['PASSIVE', 'RESTART'] as const) {
      const [row] = db.pragma(`wal_checkpoint(${mode})`) as CheckpointRow[];
      if (data.report && row)
        parentPort?.postMessage({ kind: 'checkpoint', mode, ...row } satisfies CheckpointerReport);
    }
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
