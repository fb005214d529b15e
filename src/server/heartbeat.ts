import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { type ServiceSnapshot, writeServiceState } from '../store/service-state.ts';
import type { Logger } from '../util/logger.ts';

/**
 * Keeps the service's row in the store current (see store/service-state.ts): written at
 * start, every `intervalMs`, and marked stopped at a clean stop.
 */
export async function startHeartbeat(
  db: Kysely<Database>,
  snapshot: () => ServiceSnapshot,
  opts: { intervalMs: number; logger: Logger },
): Promise<{ stop(): Promise<void> }> {
  const { intervalMs, logger } = opts;
  const startedAt = new Date().toISOString();
  await writeServiceState(db, snapshot(), { now: startedAt, heartbeatMs: intervalMs, startedAt });
  let writing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    writing = writeServiceState(db, snapshot(), {
      now: new Date().toISOString(),
      heartbeatMs: intervalMs,
    }).catch((err) => logger.warn({ err }, 'could not write the service heartbeat'));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await writing;
      await writeServiceState(db, snapshot(), {
        now: new Date().toISOString(),
        heartbeatMs: intervalMs,
        stopped: true,
      }).catch((err) => logger.warn({ err }, 'could not record the service stop'));
    },
  };
}
