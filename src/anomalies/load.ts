import type { Kysely } from 'kysely';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import { type DetectorSettings, resolveDetectorSettings } from './settings.ts';
import { type ActivityEvent, DETECTOR_IDS, type DetectorId, type QuotaSample } from './types.ts';

/** Audit events of an integration with CreationTime in [from, to) (ISO), oldest first. */
export async function loadActivityEvents(
  db: Kysely<Database>,
  integrationId: string,
  from: string,
  to: string,
): Promise<ActivityEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    .select([
      'id',
      'time',
      'operation',
      'actor_upn',
      'client_ip',
      'drive_id',
      'item_id',
      'object_url',
      'file_name',
      'extension',
      'target_name',
      'target_type',
      'link_scope',
    ])
    .where('integration_id', '=', integrationId)
    .where('time', '>=', from)
    .where('time', '<', to)
    .orderBy('time')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    time: Date.parse(String(decodeValue('timestamp', r.time))),
    operation: r.operation,
    actor: r.actor_upn,
    ip: r.client_ip,
    driveId: r.drive_id,
    itemId: r.item_id,
    objectUrl: r.object_url,
    fileName: r.file_name,
    extension: r.extension,
    targetName: r.target_name,
    targetType: r.target_type,
    linkScope: r.link_scope,
  }));
}

function usedOf(doc: unknown): number | null {
  const v = (decodeValue('json', doc) as Record<string, unknown> | null)?.quota_used;
  return typeof v === 'number' ? v : v === null || v === undefined ? null : Number(v);
}

/**
 * Drive quota observations since `from`: every history record that changed quota_used gives
 * the value before (just before it was observed) and after.
 */
export async function loadQuotaSamples(
  db: Kysely<Database>,
  integrationId: string,
  from: string,
): Promise<QuotaSample[]> {
  const rows = await db
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
    .where('changes.observed_at', '>=', from)
    .execute();
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

/** Drive items removed according to the history, observed in [from, to), as delete events (no actor: delta names none). */
export async function loadHistoryRemovals(
  db: Kysely<Database>,
  integrationId: string,
  from: string,
  to: string,
): Promise<ActivityEvent[]> {
  const rows = await db
    .selectFrom('changes')
    .select(['id', 'resource_id', 'drive_id', 'actor', 'observed_at'])
    .where('integration_id', '=', integrationId)
    .where('resource_type', '=', 'drive_item')
    .where('change_type', '=', 'removed')
    .where('observed_at', '>=', from)
    .where('observed_at', '<', to)
    .execute();
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
