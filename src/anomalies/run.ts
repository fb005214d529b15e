import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { detectAll } from './detect.ts';
import { loadActivityEvents, loadDetectorSettings, loadHistoryRemovals, loadQuotaSamples } from './load.ts';
import type { DetectorSettings } from './settings.ts';
import type { Detection } from './types.ts';

export interface RunDetectorsOptions {
  /** End of the judged span (ms; default now). */
  now?: number;
  /** The judged span: events from `now - hours` on (default 24 h; late content is judged again). */
  hours?: number;
  /** Settings instead of the integration's (tests, the bench). */
  settings?: DetectorSettings;
}

/**
 * The detectors over an integration's recent activity: events of the judged span plus the
 * unusual_ip baseline before it, and drive quota history. Re-running over an overlapping span
 * finds the same detections again (the findings writer keys them by detector and resource).
 */
export async function runDetectors(
  db: Kysely<Database>,
  integrationId: string,
  opts: RunDetectorsOptions = {},
): Promise<Detection[]> {
  const now = opts.now ?? Date.now();
  const since = now - (opts.hours ?? 24) * 3_600_000;
  const settings = opts.settings ?? (await loadDetectorSettings(db, integrationId));
  const baselineMs = settings.params.unusual_ip.baseline_days * 86_400_000;
  const longestWindow = 24 * 3_600_000;
  const from = new Date(since - Math.max(baselineMs, longestWindow)).toISOString();
  const events = await loadActivityEvents(db, integrationId, from, new Date(now + 1).toISOString());
  const quota = await loadQuotaSamples(
    db,
    integrationId,
    new Date(since - settings.params.quota_spike.window_hours * 3_600_000).toISOString(),
  );
  const windowMs = settings.params.mass_delete.window_minutes * 60_000;
  const removals = await loadHistoryRemovals(
    db,
    integrationId,
    new Date(since - windowMs).toISOString(),
    new Date(now + 1).toISOString(),
  );
  return detectAll({ events, quota, removals, since, settings });
}
