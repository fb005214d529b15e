import type { AppContext } from '../app/context.ts';
import { autoRemediate } from '../app/remediate.ts';
import type { SyncContext } from '../collect/context.ts';
import { type Rounds, startRounds } from './rounds.ts';

/**
 * Auto-remediation on the service's schedule: after every rule evaluation (`kick`) and on a
 * timer (grace periods end while nothing else happens), one round per ready integration — the
 * due alarms of the allowed rules, within the daily cap (src/remediate/auto.ts), removed and
 * re-read like a manual run. Rounds never overlap; a kick during a round runs one more after.
 * Nothing happens unless a rule was allowed.
 */
export type AutoRemediationSchedule = Rounds;

export interface AutoRemediationOptions {
  app: AppContext;
  /** Integrations whose start-up collection finished. */
  integrations: () => string[];
  contextFor: (integrationId: string) => Promise<SyncContext>;
  intervalMs: number;
  /** Called when a round changed something in Graph (rules and alerts see it then). */
  onRemediated?: (integrationId: string) => void;
  now?: () => Date;
}

export function startAutoRemediation(o: AutoRemediationOptions): AutoRemediationSchedule {
  const { logger } = o.app;
  const now = o.now ?? (() => new Date());

  const roundFor = async (integrationId: string) => {
    const { plan, runs } = await autoRemediate(await o.contextFor(integrationId), now());
    const outcomes = runs.flatMap((r) => r.run.outcomes);
    if (outcomes.length === 0 && plan.deferred === 0) return;
    const count = (result: string) => outcomes.filter((x) => x.result === result).length;
    logger.info(
      {
        integration: integrationId,
        rules: runs.map((r) => r.ruleId),
        removed: count('done'),
        alreadyGone: count('already_gone'),
        skipped: count('skipped'),
        failed: count('failed'),
        deferredByCap: plan.deferred,
      },
      'auto-remediation round',
    );
    if (count('done') + count('already_gone') > 0) o.onRemediated?.(integrationId);
  };

  return startRounds({
    intervalMs: o.intervalMs,
    async round(stopped) {
      for (const id of o.integrations()) {
        if (stopped()) return;
        try {
          await roundFor(id);
        } catch (err) {
          logger.error({ integration: id, err: (err as Error).message }, 'auto-remediation round failed');
        }
      }
    },
    onError: (err) => logger.error({ err: err.message }, 'auto-remediation round failed'),
  });
}
