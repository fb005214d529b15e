import { runActivityRound } from '../app/activity.ts';
import type { ActivityResult } from '../collect/activity/collect.ts';
import type { SyncContext } from '../collect/context.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../util/logger.ts';

/**
 * The serve schedule of the audit feed: every `activity.intervalSeconds` one round per ready
 * integration, one round at a time (a tick while a round runs is skipped, not queued).
 */
export interface ActivitySchedule {
  /** Runs a round now (or waits for the one running) for every integration `integrations()` names. */
  runNow(): Promise<void>;
  /** Stops the timer and waits for a round in flight. */
  stop(): Promise<void>;
}

export interface ActivityScheduleOptions {
  config: Config;
  logger: Logger;
  /** Integration ids ready for activity (their start-up collection is done). */
  integrations(): string[];
  contextFor(integrationId: string): Promise<SyncContext>;
  /** Default: activity.intervalSeconds. */
  intervalMs?: number;
  /** After each integration's round (tests, metrics). */
  onRound?(integrationId: string, result: ActivityResult | null): void;
}

export function startActivitySchedule(o: ActivityScheduleOptions): ActivitySchedule {
  let running: Promise<void> | null = null;
  let stopped = false;

  const round = async (): Promise<void> => {
    for (const id of o.integrations()) {
      if (stopped) return;
      let ctx: SyncContext | undefined;
      try {
        // Inside the try: an integration deleted since the list was taken has no context.
        ctx = await o.contextFor(id);
        const result = await runActivityRound(o.config, ctx);
        if (result?.eventsNew)
          o.logger.info(
            { integration: ctx.integration.name, events: result.eventsNew },
            `integration ${ctx.integration.name}: ${result.eventsNew} new audit events`,
          );
        o.onRound?.(id, result);
      } catch (err) {
        // The round records feed errors itself; this is the store or a bug: log, try next time.
        o.logger.error(
          { integration: ctx?.integration.name ?? id, err: (err as Error).message },
          'audit feed round failed',
        );
      }
    }
  };

  const runNow = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => void runNow(), o.intervalMs ?? o.config.activity.intervalSeconds * 1000);
  timer.unref();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
