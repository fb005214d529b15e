import type { AppContext } from '../app/context.ts';
import { escalateDue, launchDueSchedules } from '../app/review-campaigns.ts';
import { openReviewSender } from '../app/review-delivery.ts';
import type { SyncContext } from '../collect/context.ts';

/**
 * Access reviews on the service's schedule: every interval (default 5 min), the scheduled
 * campaigns that are due are launched (once per period: the next run is claimed in the store
 * first) and the unanswered items that are due escalate to managers, then to the admins (each
 * step claimed once). Rounds never overlap. Only integrations whose start-up collection
 * finished get campaigns (a campaign needs the inventory).
 */
export interface ReviewSchedule {
  /** Runs a round now (or one more after the current one). */
  kick(): void;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startReviewSchedule(o: {
  app: AppContext;
  integrations: () => string[];
  contextFor: (integrationId: string) => Promise<SyncContext>;
  intervalMs: number;
  now?: () => Date;
}): ReviewSchedule {
  const { app } = o;
  const now = o.now ?? (() => new Date());
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const round = async () => {
    const sender = openReviewSender(app, async (id) => (await o.contextFor(id)).client);
    try {
      const ready = new Set(o.integrations());
      const launched = await launchDueSchedules(app, sender, now(), (id) => ready.has(id));
      for (const l of launched)
        if (l.error)
          app.logger.error({ schedule: l.schedule, err: l.error }, 'scheduled review campaign failed');
        else
          app.logger.info(
            { schedule: l.schedule, campaign: l.campaignId },
            'scheduled review campaign launched',
          );
      const escalated = await escalateDue(app, sender, now());
      if (escalated.managers + escalated.admins + escalated.failed > 0)
        app.logger.info(escalated, 'review escalation round');
    } finally {
      await sender.close();
    }
  };

  const run = async () => {
    do {
      again = false;
      try {
        await round();
      } catch (err) {
        app.logger.error({ err: (err as Error).message }, 'review schedule round failed');
      }
    } while (again && !stopped);
  };

  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = run().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(kick, o.intervalMs);
  timer.unref();
  return {
    kick,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
