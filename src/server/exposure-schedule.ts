import type { Kysely } from 'kysely';
import { recordExposureDay } from '../store/exposure-daily.ts';
import type { Database } from '../store/schema.ts';
import type { Logger } from '../util/logger.ts';

/**
 * The overview's trend, kept by the service: each ready integration's exposure is counted once
 * its start-up collection is done (`record`) and then every `intervalMs` (default hourly: a
 * count reads every live file's index entry, about a second per million items), so the last
 * count of each UTC day stands for that day. Counts never overlap.
 */
export interface ExposureSchedule {
  record(integrationId: string): Promise<void>;
  stop(): Promise<void>;
}

export function startExposureSchedule(o: {
  db: Kysely<Database>;
  logger: Logger;
  /** Integrations whose start-up collection finished. */
  integrations: () => string[];
  intervalMs?: number;
  now?: () => Date;
}): ExposureSchedule {
  const now = o.now ?? (() => new Date());
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  const record = (integrationId: string): Promise<void> => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await recordExposureDay(o.db, integrationId, now());
      } catch (err) {
        o.logger.error({ integration: integrationId, err: (err as Error).message }, 'exposure count failed');
      }
    });
    return chain;
  };
  const timer = setInterval(() => {
    for (const id of o.integrations()) void record(id);
  }, o.intervalMs ?? 3_600_000);
  timer.unref();
  return {
    record,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await chain;
    },
  };
}
