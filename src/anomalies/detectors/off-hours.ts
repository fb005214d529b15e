import type { DetectorParams } from '../settings.ts';
import { type ActivityEvent, type Detection, iso, type Severity } from '../types.ts';
import { bursts, byActor, evidenceOf } from './bursts.ts';

export const ACCESS = new Set([
  'FileAccessed',
  'FileAccessedExtended',
  'FilePreviewed',
  'FileDownloaded',
  'FileSyncDownloadedFull',
  'FileCopied',
]);

/** Outside working hours in the tenant's time zone (or on a day off). */
export function isOffHours(ms: number, p: DetectorParams['off_hours_bulk_access']): boolean {
  const local = new Date(ms + p.utc_offset_minutes * 60_000);
  const day = local.getUTCDay() === 0 ? 7 : local.getUTCDay();
  if (!p.work_days.includes(day)) return true;
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
  return hour < p.work_start_hour || hour >= p.work_end_hour;
}

/** off_hours_bulk_access: one actor opening or downloading many files outside working hours. */
export function detectOffHours(
  events: readonly ActivityEvent[],
  p: DetectorParams['off_hours_bulk_access'],
): Detection[] {
  const out: Detection[] = [];
  const offHours = events.filter((e) => ACCESS.has(e.operation) && isOffHours(e.time, p));
  for (const [actor, list] of byActor(offHours)) {
    for (const burst of bursts(list, p.threshold, p.window_minutes * 60_000)) {
      const first = burst[0].time;
      out.push({
        detector: 'off_hours_bulk_access',
        severity: p.severity as Severity,
        resourceType: 'user',
        resourceId: actor,
        driveId: null,
        itemId: null,
        actor,
        reason: `${actor} accessed ${burst.length} files outside working hours (${p.work_start_hour}–${p.work_end_hour} h local, threshold ${p.threshold} in ${p.window_minutes} min)`,
        from: iso(first),
        to: iso(burst[burst.length - 1].time),
        evidence: evidenceOf(burst),
      });
    }
  }
  return out;
}
