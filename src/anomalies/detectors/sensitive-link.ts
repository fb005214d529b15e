import type { DetectorParams } from '../settings.ts';
import { type ActivityEvent, type Detection, iso, type Severity } from '../types.ts';
import { evidenceOf } from './bursts.ts';

/** new_anonymous_link_on_sensitive: an Anyone link created on a key or secret file. */
export function isSensitiveFile(
  e: ActivityEvent,
  p: DetectorParams['new_anonymous_link_on_sensitive'],
): boolean {
  const name = (e.fileName ?? e.objectUrl?.slice(e.objectUrl.lastIndexOf('/') + 1) ?? '').toLowerCase();
  if (!name) return false;
  const ext = (
    e.extension ?? (name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '')
  ).toLowerCase();
  return p.names.some((n) => n.toLowerCase() === name) || p.extensions.some((x) => x.toLowerCase() === ext);
}

export function detectSensitiveLinks(
  events: readonly ActivityEvent[],
  p: DetectorParams['new_anonymous_link_on_sensitive'],
): Detection[] {
  const out: Detection[] = [];
  for (const e of events) {
    const anonymous =
      e.operation === 'AnonymousLinkCreated' ||
      (e.linkScope === 'anonymous' && /LinkCreated$/.test(e.operation));
    if (!anonymous || !isSensitiveFile(e, p)) continue;
    out.push({
      detector: 'new_anonymous_link_on_sensitive',
      severity: p.severity as Severity,
      resourceType: 'drive_item',
      resourceId: e.itemId ?? e.objectUrl ?? e.id,
      driveId: e.driveId,
      itemId: e.itemId,
      actor: e.actor,
      reason: `${e.actor ?? 'someone'} created an Anyone link on the sensitive file ${e.fileName ?? e.objectUrl}`,
      from: iso(e.time),
      to: iso(e.time),
      evidence: evidenceOf([e], { url: e.objectUrl }),
    });
  }
  return out;
}
