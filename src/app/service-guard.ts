import { hostname } from 'node:os';
import { readServiceState } from '../store/service-state.ts';
import type { AppContext } from './context.ts';

/**
 * One writer per SQLite store. `serve` (or the demo) collects and evaluates continuously; a
 * second process doing the same heavy writing on the same file (`sync --once`, deleting an
 * integration) would contend for the write lock for seconds and duplicate the service's
 * work. Such commands refuse while a live service runs on the store, naming it and the way
 * through the service instead. PostgreSQL serves concurrent writers: no guard there.
 */
export async function refuseWhileServiceWrites(
  app: AppContext,
  what: string,
  instead: string,
): Promise<void> {
  if (app.store.dialect !== 'sqlite') return;
  const state = await readServiceState(app.store.db);
  if (!state.running || !state.pid) return;
  // A heartbeat from a process on this host that is gone (killed -9 a moment ago) holds nothing.
  if (state.hostname === hostname() && !processAlive(state.pid)) return;
  throw new Error(
    `${what}: the drivewarden service (pid ${state.pid} on ${state.hostname}, running since ${state.startedAt}) ` +
      `writes this store; ${instead}`,
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
