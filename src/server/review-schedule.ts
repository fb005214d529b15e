import type { AppContext } from '../app/context.ts';
import { escalateDue, launchDueSchedules } from '../app/review-campaigns.ts';
import { openReviewSender } from '../app/review-delivery.ts';
import type { SyncContext } from '../collect/context.ts';
import { type Rounds, startRounds } from './rounds.ts';

/**
 * Access reviews on the service's schedule: every interval (default 5 min), the scheduled
 * campaigns that are due are launched (once per period: the next run is claimed in the store
 * first) and the unanswered items that are due escalate to managers, then to the admins (each
 * step claimed once). Rounds never overlap. Only integrations whose start-up collection
 * finished get campaigns (a campaign needs the inventory).
 */
export type ReviewSchedule = Rounds;

export function startReviewSchedule(o: {
  app: AppContext;
  integrations: () => string[];
  contextFor: (integrationId: string) => Promise<SyncContext>;
  intervalMs: number;
  now?: () => Date;
}): ReviewSchedule {
  const { app } = o;
  const now = o.now ?? (() => new Date());
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

  return startRounds({
    intervalMs: o.intervalMs,
    round,
    onError: (err) => app.logger.error({ err: err.message }, 'review schedule round failed'),
  });
}
