import type { DetectorParams } from '../settings.ts';
import { type ActivityEvent, type Detection, type DetectorId, iso, type Severity } from '../types.ts';
import { bursts, byActor, evidenceOf } from './bursts.ts';

/**
 * The volume detectors: one actor doing one kind of thing too often within a window
 * (mass_delete, mass_download, mass_external_share). Which events count is each detector's.
 */

const DELETES = new Set([
  'FileDeleted',
  'FolderDeleted',
  'FileRecycled',
  'FolderRecycled',
  'FileDeletedFirstStageRecycleBin',
]);
const DOWNLOADS = new Set(['FileDownloaded', 'FileSyncDownloadedFull']);
const EXTERNAL_TARGETS = new Set(['guest', 'external', 'externaluser', 'anonymous']);

/** A sharing operation that opens an item to someone outside the organization (or to anyone). */
export function isExternalShare(e: ActivityEvent): boolean {
  if (e.operation === 'AnonymousLinkCreated' || e.operation === 'AnonymousLinkUpdated') return true;
  if (e.operation === 'SharingInvitationCreated') return true;
  if (e.operation === 'SharingSet' || e.operation === 'AddedToSecureLink')
    return EXTERNAL_TARGETS.has((e.targetType ?? '').toLowerCase());
  return false;
}

const WHAT: Record<
  'mass_delete' | 'mass_download' | 'mass_external_share',
  { verb: string; matches(e: ActivityEvent): boolean }
> = {
  mass_delete: { verb: 'deleted', matches: (e) => DELETES.has(e.operation) },
  mass_download: { verb: 'downloaded', matches: (e) => DOWNLOADS.has(e.operation) },
  mass_external_share: { verb: 'shared outside the organization', matches: isExternalShare },
};

export function detectVolume(
  id: 'mass_delete' | 'mass_download' | 'mass_external_share',
  events: readonly ActivityEvent[],
  p: DetectorParams['mass_delete'],
): Detection[] {
  const what = WHAT[id];
  const out: Detection[] = [];
  for (const [actor, list] of byActor(events.filter(what.matches))) {
    for (const burst of bursts(list, p.threshold, p.window_minutes * 60_000)) {
      const first = burst[0].time;
      const last = burst[burst.length - 1].time;
      const details: Record<string, unknown> = {};
      if (id === 'mass_external_share')
        details.targets = [...new Set(burst.map((e) => e.targetName ?? e.linkScope ?? '?'))].slice(0, 10);
      out.push({
        detector: id as DetectorId,
        severity: p.severity as Severity,
        resourceType: 'user',
        resourceId: actor,
        driveId: null,
        itemId: null,
        actor,
        reason: `${actor} ${what.verb} ${burst.length} items in ${Math.max(1, Math.round((last - first) / 60_000))} min (threshold ${p.threshold} in ${p.window_minutes} min)`,
        from: iso(first),
        to: iso(last),
        evidence: evidenceOf(burst, details),
      });
    }
  }
  return out;
}
