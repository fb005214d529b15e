import { Worker } from 'node:worker_threads';
import { QueryError } from '../errors.ts';
import { type ChildMessage, MEMORY_MARKER, type RunRequest } from './protocol.ts';

type QueryRows = Extract<ChildMessage, { type: 'result' }>;

/**
 * The query process: runs one query (guard, then rows within the limits) and exits. It is a
 * process of its own because a SQLite query cannot be interrupted from outside (no progress
 * handler in this build; a worker thread busy in native code ignores terminate()) and a
 * huge row takes the memory of whoever holds it: the parent kills this process at the time
 * limit, and a watchdog thread kills it when its memory passes the limit.
 */

/** Kills the whole process (SQLite allocations included) once its RSS passes the limit. */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
setInterval(() => {
  if (process.memoryUsage.rss() > workerData.limit) {
    writeSync(2, workerData.marker + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 10);
`;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

type Execute = (request: RunRequest) => Promise<QueryRows> | QueryRows;

/** The dialect's executor, loading only its driver (this process starts for every query). */
async function loadExecutor(request: RunRequest): Promise<Execute> {
  if (request.target.databaseUrl) {
    const { executePostgres } = await import('./execute-postgres.ts');
    return ({ target, text, values, limits, checkOnly }) =>
      executePostgres(target, text, values, limits, checkOnly);
  }
  const { executeSqlite } = await import('./execute-sqlite.ts');
  return ({ target, text, values, limits, checkOnly }) => {
    if (!target.sqliteFile) throw new QueryError('failed', 'no store to query');
    return executeSqlite(target.sqliteFile, text, values, limits, checkOnly);
  };
}

async function run(execute: Execute, request: RunRequest): Promise<ChildMessage> {
  try {
    return await execute(request);
  } catch (err) {
    if (err instanceof QueryError) return { type: 'error', kind: err.kind, message: err.message };
    return { type: 'error', kind: 'failed', message: (err as Error).message };
  }
}

process.once('message', async (request: RunRequest) => {
  const watchdog = new Worker(WATCHDOG, {
    eval: true,
    workerData: { limit: request.limits.maxMemoryMb * 1024 * 1024, marker: MEMORY_MARKER },
  });
  // Both before the time limit starts: the watchdog running (a SQLite query holds this thread
  // until it ends) and the driver loaded (while the watchdog's thread starts).
  const [execute] = await Promise.all([
    loadExecutor(request),
    new Promise((resolve) => watchdog.once('online', resolve)),
  ]);
  await send({ type: 'started' });
  await send(await run(execute, request));
  // The watchdog keeps the process alive: the answer is sent, so end here.
  process.exit(0);
});
