import type { DetectorParams } from '../settings.ts';
import { type Detection, iso, type QuotaSample, type Severity } from '../types.ts';

/**
 * quota_spike: a drive's used bytes grow by `growth_percent` or more within `window_hours`
 * (and by at least `min_bytes`, so tiny drives do not alarm). One detection per drive: the
 * largest growth from a sample to any later one inside the window.
 */
export function detectQuotaSpikes(
  samples: readonly QuotaSample[],
  p: DetectorParams['quota_spike'],
  since: number,
): Detection[] {
  const byDrive = new Map<string, QuotaSample[]>();
  for (const s of samples) {
    const list = byDrive.get(s.driveId) ?? [];
    list.push(s);
    byDrive.set(s.driveId, list);
  }
  const windowMs = p.window_hours * 3_600_000;
  const out: Detection[] = [];
  for (const [driveId, list] of byDrive) {
    list.sort((a, b) => a.time - b.time);
    let best: { from: QuotaSample; to: QuotaSample; growth: number } | undefined;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j].time - list[i].time <= windowMs; j++) {
        if (list[j].time < since || list[i].used <= 0) continue;
        const growth = (list[j].used - list[i].used) / list[i].used;
        if (
          growth * 100 >= p.growth_percent &&
          list[j].used - list[i].used >= p.min_bytes &&
          growth > (best?.growth ?? 0)
        )
          best = { from: list[i], to: list[j], growth };
      }
    }
    if (!best) continue;
    out.push({
      detector: 'quota_spike',
      severity: p.severity as Severity,
      resourceType: 'drive',
      resourceId: driveId,
      driveId,
      itemId: null,
      actor: best.to.owner,
      reason: `drive of ${best.to.owner ?? driveId} grew ${Math.round(best.growth * 100)}% (${best.from.used} → ${best.to.used} bytes) in ${Math.round((best.to.time - best.from.time) / 3_600_000)} h`,
      from: iso(best.from.time),
      to: iso(best.to.time),
      evidence: { count: 2, eventIds: [], details: { before: best.from.used, after: best.to.used } },
    });
  }
  return out;
}
