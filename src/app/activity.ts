import { type ActivityOptions, type ActivityResult, collectActivity } from '../collect/activity/collect.ts';
import type { SyncContext } from '../collect/context.ts';
import type { Config } from '../config/config.ts';
import { recordDetections } from './anomaly-findings.ts';

/** The activity collector's options from the configuration (`activity.*`). */
export function activityOptions(config: Config): ActivityOptions {
  return {
    lateHours: config.activity.lateHours,
    initialLookbackHours: config.activity.initialLookbackHours,
    retentionDays: config.activity.retentionDays,
    requestsPerMinute: config.activity.requestsPerMinute,
  };
}

/**
 * One round of the audit feed for an integration, unless `activity.enabled` is false (then
 * null), then the anomaly detectors over the recent span, whose detections become findings
 * (the history-based ones work without the feed). Never throws for a feed error: it is in the
 * result and in sync_errors (type audit); a detector failure is logged.
 */
export async function runActivityRound(
  config: Config,
  ctx: SyncContext,
  extra: Partial<ActivityOptions> = {},
): Promise<ActivityResult | null> {
  if (!config.activity.enabled) return null;
  const result = await collectActivity(ctx, { ...activityOptions(config), ...extra });
  try {
    const found = await recordDetections(ctx.store, ctx.integration.id);
    if (found.opened + found.reopened > 0)
      ctx.logger?.info(
        { integration: ctx.integration.name, opened: found.opened, reopened: found.reopened },
        `integration ${ctx.integration.name}: anomaly findings opened`,
      );
  } catch (err) {
    ctx.logger?.error(
      { integration: ctx.integration.name, err: (err as Error).message },
      'anomaly detection failed',
    );
  }
  return result;
}
