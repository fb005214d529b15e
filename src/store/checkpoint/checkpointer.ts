import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { moduleUrl, startingModule } from '../../util/runtime-files.ts';

/**
 * WAL checkpoints off the writer's thread. SQLite's automatic checkpoint runs inside the
 * commit that crosses wal_autocheckpoint, on the thread that commits: in a full sync that
 * is the collector's event loop, stalled by the checkpoint's writes and fsyncs (~10 of the
 * 16 s spent in commits at 200k items). Here the writing connection never checkpoints;
 * a worker thread with its own connection does, once the WAL holds as many frames not yet
 * copied back as the writer's wal_autocheckpoint (it looks every `pollMs`). Readers are unaffected
 * (a PASSIVE checkpoint copies only frames no reader still needs), and the WAL stays as
 * bounded as before: once a checkpoint has copied every frame, the next write transaction
 * starts the WAL over. The connection that closes last checkpoints and removes the WAL, as
 * before, so close() stops the worker first.
 */
export interface CheckpointerOptions {
  /** Between two looks at the WAL's size (default 100 ms). */
  pollMs?: number;
  /** Post every checkpoint's result to onReport (tests). */
  onReport?: (report: CheckpointerReport) => void;
}

/** What the worker is started with. */
export interface CheckpointerData {
  entry: string;
  file: string;
  pollMs: number;
  /** WAL frames not yet copied back that start a checkpoint (the writer's wal_autocheckpoint). */
  thresholdFrames: number;
  report: boolean;
}

export type CheckpointerReport =
  /** A checkpoint's result: WAL frames in all (log) and copied back to the database (checkpointed). */
  | { kind: 'checkpoint'; mode: 'PASSIVE' | 'RESTART'; busy: number; log: number; checkpointed: number }
  | { kind: 'error'; message: string };

export interface Checkpointer {
  /** Stops the worker and closes its connection (the writer's own close then checkpoints). */
  close(): Promise<void>;
}

const BOOT = new URL('./boot.mjs', import.meta.url);
const ENTRY = moduleUrl('./worker.ts', import.meta.url);

/** Turns off `database`'s automatic checkpoints and starts the worker that does them instead. */
export function startCheckpointer(
  file: string,
  database: SQLite.Database,
  options: CheckpointerOptions = {},
): Checkpointer {
  const autocheckpoint = Number(database.pragma('wal_autocheckpoint', { simple: true }));
  const data: CheckpointerData = {
    entry: ENTRY.href,
    file,
    pollMs: options.pollMs ?? 100,
    thresholdFrames: autocheckpoint,
    report: options.onReport !== undefined,
  };
  const worker = new Worker(startingModule('./worker.ts', import.meta.url, BOOT), { workerData: data });
  worker.on('message', (report: CheckpointerReport) => options.onReport?.(report));
  let exited = false;
  let closing: Promise<void> | undefined;
  worker.on('exit', () => {
    exited = true;
    // The thread failed (or could not start) before close(): the writer checkpoints for itself again.
    if (!closing && database.open) database.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
  });
  // An 'error' is followed by 'exit'; unheard, it would end the process.
  worker.on('error', (err) => options.onReport?.({ kind: 'error', message: err.message }));
  // The thread does not keep the process alive (an exit without close() leaves a WAL that the
  // next connection reads as usual). After the listeners: a 'message' listener refs it again.
  worker.unref();
  database.pragma('wal_autocheckpoint = 0');
  return {
    close() {
      closing ??= exited
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            // Awaited now: the thread keeps the process alive until it has closed its connection.
            worker.ref();
            worker.postMessage('close');
          });
      return closing;
    },
  };
}
