import { Worker } from 'node:worker_threads';
import { QueryError } from '../errors.ts';
import { executePostgres } from './execute-postgres.ts';
import { executeSqlite } from './execute-sqlite.ts';
import { type ChildMessage, MEMORY_MARKER, type RunRequest } from './protocol.ts';

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

async function run(request: RunRequest): Promise<ChildMessage> {
  const { target, text, values, limits, checkOnly = false } = request;
  try {
    if (target.databaseUrl) return await executePostgres(target, text, values, limits, checkOnly);
    if (!target.sqliteFile) throw new QueryError('failed', 'no store to query');
    return executeSqlite(target.sqliteFile, text, values, limits, checkOnly);
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
  // Running before the query starts: a SQLite query holds this thread until it ends.
  await new Promise((resolve) => watchdog.once('online', resolve));
  await send({ type: 'started' });
  await send(await run(request));
  // The watchdog keeps the process alive: the answer is sent, so end here.
  process.exit(0);
});
