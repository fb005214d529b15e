import type { Kysely } from 'kysely';
import { type AuditEventFilter, type AuditEventRow, auditEventsQuery } from '../store/activity-queries.ts';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import { type DetectorSettings, resolveDetectorSettings } from './settings.ts';
import { type ActivityEvent, DETECTOR_IDS, type DetectorId, type QuotaSample } from './types.ts';

/**
 * What the detectors read from the store. Audit events come through the one audit_events query
 * (store/activity-queries.ts); callers bound every read by a window (and a row limit where the
 * window could be large), so nothing here reads a whole tenant.
 */

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

export function activityEventOf(r: AuditEventRow): ActivityEvent {
  return {
    id: String(r.id),
    time: Date.parse(String(decodeValue('timestamp', r.time))),
    operation: String(r.operation),
    actor: str(r.actor_upn),
    ip: str(r.client_ip),
    driveId: str(r.drive_id),
    itemId: str(r.item_id),
    objectUrl: str(r.object_url),
    fileName: str(r.file_name),
    extension: str(r.extension),
    targetName: str(r.target_name),
    targetType: str(r.target_type),
    linkScope: str(r.link_scope),
  };
}

/** Audit events of an integration matching `f` (from/to: CreationTime, ISO), oldest first. */
export async function loadActivityEvents(
  db: Kysely<Database>,
  integrationId: string,
  from: string,
  to: string,
  f: Omit<AuditEventFilter, 'integrationId' | 'from' | 'to'> = {},
): Promise<ActivityEvent[]> {
  const rows = await auditEventsQuery(db, { ...f, integrationId, from, to })
    .orderBy('time')
    .orderBy('id')
    .execute();
  return rows.map(activityEventOf);
}

function usedOf(doc: unknown): number | null {
  const v = (decodeValue('json', doc) as Record<string, unknown> | null)?.quota_used;
  return typeof v === 'number' ? v : v === null || v === undefined ? null : Number(v);
}

/**
 * Drive quota observations in [from, to): every history record that changed quota_used gives
 * the value before (just before it was observed) and after.
 */
export async function loadQuotaSamples(
  db: Kysely<Database>,
  integrationId: string,
  from: string,
  to?: string,
): Promise<QuotaSample[]> {
  let q = db
    .selectFrom('changes')
    .leftJoin('drives', (j) =>
      j
        .onRef('drives.integration_id', '=', 'changes.integration_id')
        .onRef('drives.id', '=', 'changes.resource_id'),
    )
    .select([
      'changes.resource_id',
      'changes.before',
      'changes.after',
      'changes.observed_at',
      'drives.owner_email',
    ])
    .where('changes.integration_id', '=', integrationId)
    .where('changes.resource_type', '=', 'drive')
    .where('changes.change_type', '=', 'modified')
    .where('changes.observed_at', '>=', from);
  if (to !== undefined) q = q.where('changes.observed_at', '<', to);
  const rows = await q.execute();
  const out: QuotaSample[] = [];
  for (const r of rows) {
    const before = usedOf(r.before);
    const after = usedOf(r.after);
    if (after === null) continue;
    const time = Date.parse(String(decodeValue('timestamp', r.observed_at)));
    if (before !== null)
      out.push({ driveId: r.resource_id, owner: r.owner_email, time: time - 1, used: before });
    out.push({ driveId: r.resource_id, owner: r.owner_email, time, used: after });
  }
  return out;
}

/** Drive items removed according to the history, observed in [from, to) (one drive or all), as delete events (no actor: delta names none). */
export async function loadHistoryRemovals(
  db: Kysely<Database>,
  integrationId: string,
  from: string,
  to: string,
  driveId?: string,
): Promise<ActivityEvent[]> {
  let q = db
    .selectFrom('changes')
    .select(['id', 'resource_id', 'drive_id', 'actor', 'observed_at'])
    .where('integration_id', '=', integrationId)
    .where('resource_type', '=', 'drive_item')
    .where('change_type', '=', 'removed')
    .where('observed_at', '>=', from)
    .where('observed_at', '<', to);
  if (driveId !== undefined) q = q.where('drive_id', '=', driveId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: `change:${r.id}`,
    time: Date.parse(String(decodeValue('timestamp', r.observed_at))),
    operation: 'FileDeleted',
    actor: r.actor,
    ip: null,
    driveId: r.drive_id,
    itemId: r.resource_id,
    objectUrl: null,
    fileName: null,
    extension: null,
    targetName: null,
    targetType: null,
    linkScope: null,
  }));
}

/** Per-integration overrides: rule_settings rows whose rule_id is a detector id. */
export async function loadDetectorSettings(
  db: Kysely<Database>,
  integrationId: string,
): Promise<DetectorSettings> {
  const rows = await db
    .selectFrom('rule_settings')
    .select(['rule_id', 'enabled', 'params'])
    .where('integration_id', '=', integrationId)
    .where('rule_id', 'in', [...DETECTOR_IDS])
    .execute();
  const overrides: Partial<Record<DetectorId, { enabled?: boolean; params?: Record<string, unknown> }>> = {};
  for (const r of rows) {
    overrides[r.rule_id as DetectorId] = {
      enabled: Boolean(decodeValue('boolean', r.enabled)),
      params: (decodeValue('json', r.params) as Record<string, unknown> | null) ?? {},
    };
  }
  return resolveDetectorSettings(overrides);
}
