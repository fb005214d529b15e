import type { DetectorParams } from '../settings.ts';
import { type ActivityEvent, type Detection, type DetectorId, iso, type Severity } from '../types.ts';
import { bursts, byActor, evidenceOf } from './bursts.ts';

/**
 * The volume detectors: one actor doing one kind of thing too often within a window
 * (mass_delete, mass_download, mass_external_share). Which events count is each detector's.
 */

export const DELETES = new Set([
  'FileDeleted',
  'FolderDeleted',
  'FileRecycled',
  'FolderRecycled',
  'FileDeletedFirstStageRecycleBin',
]);
export const DOWNLOADS = new Set(['FileDownloaded', 'FileSyncDownloadedFull']);
const EXTERNAL_TARGETS = new Set(['guest', 'external', 'externaluser', 'anonymous']);

/** A sharing operation that opens an item to someone outside the organization (or to anyone). */
export function isExternalShare(e: ActivityEvent): boolean {
  if (e.operation === 'AnonymousLinkCreated' || e.operation === 'AnonymousLinkUpdated') return true;
  if (e.operation === 'SharingInvitationCreated') return true;
  if (e.operation === 'SharingSet' || e.operation === 'AddedToSecureLink')
    return EXTERNAL_TARGETS.has((e.targetType ?? '').toLowerCase());
  return false;
}

/** The operations each volume detector counts (for mass_external_share a superset: the target type decides). */
export const VOLUME_OPERATIONS: Record<'mass_delete' | 'mass_download' | 'mass_external_share', string[]> = {
  mass_delete: [...DELETES],
  mass_download: [...DOWNLOADS],
  mass_external_share: [
    'AnonymousLinkCreated',
    'AnonymousLinkUpdated',
    'SharingInvitationCreated',
    'SharingSet',
    'AddedToSecureLink',
  ],
};

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

/**
 * mass_delete from the inventory's history, for drives the audit feed says nothing about
 * (ActivityFeed.Read missing, or audit not collected yet): items removed per drive. Delta
 * names no deleter, so the finding is about the drive and its time is when the removal was
 * observed. `auditedDrives`: drives with audited deletes (auditedDeleteDrives).
 */
export function detectHistoryDeletes(
  removals: readonly ActivityEvent[],
  auditedDrives: ReadonlySet<string | null>,
  p: DetectorParams['mass_delete'],
): Detection[] {
  const byDrive = new Map<string, ActivityEvent[]>();
  for (const e of removals) {
    if (!e.driveId || auditedDrives.has(e.driveId)) continue;
    const list = byDrive.get(e.driveId) ?? [];
    list.push(e);
    byDrive.set(e.driveId, list);
  }
  const out: Detection[] = [];
  for (const [driveId, list] of byDrive) {
    list.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    for (const burst of bursts(list, p.threshold, p.window_minutes * 60_000)) {
      out.push({
        detector: 'mass_delete',
        severity: p.severity as Severity,
        resourceType: 'drive',
        resourceId: driveId,
        driveId,
        itemId: null,
        actor: burst[0].actor,
        reason: `drive ${driveId} lost ${burst.length} items within ${p.window_minutes} min (inventory history; no audit events name the deleter)`,
        from: iso(burst[0].time),
        to: iso(burst[burst.length - 1].time),
        evidence: evidenceOf(burst, { source: 'history' }),
      });
    }
  }
  return out;
}

/** The drives some audited delete event names. */
export function auditedDeleteDrives(events: readonly ActivityEvent[]): Set<string | null> {
  return new Set(events.filter((e) => DELETES.has(e.operation)).map((e) => e.driveId));
}
