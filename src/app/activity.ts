import { type ActivityOptions, type ActivityResult, collectActivity } from '../collect/activity/collect.ts';
import type { SyncContext } from '../collect/context.ts';
import type { Config } from '../config/config.ts';

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
 * null). Never throws for a feed error: it is in the result and in sync_errors (type audit).
 */
export async function runActivityRound(
  config: Config,
  ctx: SyncContext,
  extra: Partial<ActivityOptions> = {},
): Promise<ActivityResult | null> {
  if (!config.activity.enabled) return null;
  return collectActivity(ctx, { ...activityOptions(config), ...extra });
}
