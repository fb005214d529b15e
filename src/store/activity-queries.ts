import type { Kysely } from 'kysely';
import { decodeValue } from './codec.ts';
import type { Database } from './schema.ts';

/**
 * The reads of audit_events: timelines and usage (the `drivewarden activity` commands, the REST
 * API, the web app) and the events the anomaly detectors judge (src/anomalies/load.ts maps the
 * same rows), so there is one column list and one filter.
 */

export interface TimelineEntry {
  time: string;
  operation: string;
  actor: string | null;
  clientIp: string | null;
  driveId: string | null;
  itemId: string | null;
  fileName: string | null;
  objectUrl: string | null;
  target: string | null;
  linkScope: string | null;
}

const COLUMNS = [
  'time',
  'operation',
  'actor_upn',
  'client_ip',
  'drive_id',
  'item_id',
  'file_name',
  'object_url',
  'target_name',
  'link_scope',
  'extension',
  'target_type',
] as const;

/** A row of auditEventsQuery. */
export type AuditEventRow = Record<(typeof COLUMNS)[number] | 'id' | 'integration_id', unknown>;

function entry(r: AuditEventRow): TimelineEntry {
  return {
    time: String(decodeValue('timestamp', r.time)),
    operation: String(r.operation),
    actor: (r.actor_upn as string | null) ?? null,
    clientIp: (r.client_ip as string | null) ?? null,
    driveId: (r.drive_id as string | null) ?? null,
    itemId: (r.item_id as string | null) ?? null,
    fileName: (r.file_name as string | null) ?? null,
    objectUrl: (r.object_url as string | null) ?? null,
    target: (r.target_name as string | null) ?? null,
    linkScope: (r.link_scope as string | null) ?? null,
  };
}

export interface TimelineOptions {
  /** ISO; events at or after it. */
  since: string;
  limit: number;
}

/** What the events list (REST API) and the timelines filter on; every field optional. */
export interface AuditEventFilter {
  integrationId?: string;
  /** UserId; compared in lower case as stored. */
  actor?: string;
  operations?: string[];
  clientIp?: string;
  /** ISO; events at or after it. */
  from?: string;
  /** ISO; events before it. */
  to?: string;
  /** One item: by its resolved id, or its URL for events not resolved. */
  item?: { driveId: string; itemId: string; webUrl: string | null };
}

/**
 * audit_events with the timeline columns (plus integration_id and id), filtered; the caller
 * orders and limits it (newest first, keyset pages in the REST API). Indexes: migration 0500
 * (per integration: time, actor, item) and 0740 (across integrations: time, actor, operation, IP).
 */
export function auditEventsQuery(db: Kysely<Database>, f: AuditEventFilter) {
  let q = db.selectFrom('audit_events').select([...COLUMNS, 'integration_id', 'id']);
  if (f.integrationId !== undefined) q = q.where('integration_id', '=', f.integrationId);
  if (f.actor !== undefined) q = q.where('actor_upn', '=', f.actor.toLowerCase());
  if (f.operations?.length) q = q.where('operation', 'in', f.operations);
  if (f.clientIp !== undefined) q = q.where('client_ip', '=', f.clientIp);
  if (f.from !== undefined) q = q.where('time', '>=', f.from);
  if (f.to !== undefined) q = q.where('time', '<', f.to);
  const item = f.item;
  if (item)
    q = q.where((eb) =>
      eb.or([
        eb.and([eb('drive_id', '=', item.driveId), eb('item_id', '=', item.itemId)]),
        ...(item.webUrl ? [eb('object_url', '=', item.webUrl)] : []),
      ]),
    );
  return q;
}

/** A row of auditEventsQuery as a timeline entry. */
export const timelineEntry = entry;

/** What one user did, newest first. */
export async function userTimeline(
  db: Kysely<Database>,
  integrationId: string,
  upn: string,
  o: TimelineOptions,
): Promise<TimelineEntry[]> {
  const rows = await auditEventsQuery(db, { integrationId, actor: upn, from: o.since })
    .orderBy('time', 'desc')
    .orderBy('id')
    .limit(o.limit)
    .execute();
  return rows.map(entry);
}

/** Who did what to one item (by its resolved id, or its URL for events not resolved), newest first. */
export async function itemTimeline(
  db: Kysely<Database>,
  integrationId: string,
  item: { driveId: string; itemId: string; webUrl: string | null },
  o: TimelineOptions,
): Promise<TimelineEntry[]> {
  const rows = await auditEventsQuery(db, { integrationId, item, from: o.since })
    .orderBy('time', 'desc')
    .orderBy('id')
    .limit(o.limit)
    .execute();
  return rows.map(entry);
}

export interface ItemUsage {
  driveId: string;
  itemId: string;
  path: string | null;
  lastAccessAt: string;
  accesses: number;
  accessors: number;
}

const ACCESS = [
  'FileAccessed',
  'FileAccessedExtended',
  'FilePreviewed',
  'FileDownloaded',
  'FileSyncDownloadedFull',
  'AnonymousLinkUsed',
  'CompanyLinkUsed',
  'SecureLinkUsed',
];

/** Per item accessed since `since`: last access, accesses and distinct accessors, most accessed first. */
export async function itemUsage(
  db: Kysely<Database>,
  integrationId: string,
  o: TimelineOptions,
): Promise<ItemUsage[]> {
  const rows = await db
    .selectFrom('audit_events as e')
    .leftJoin('drive_items as i', (j) =>
      j
        .onRef('i.integration_id', '=', 'e.integration_id')
        .onRef('i.drive_id', '=', 'e.drive_id')
        .onRef('i.id', '=', 'e.item_id'),
    )
    .select((eb) => [
      'e.drive_id',
      'e.item_id',
      eb.fn.max('i.path').as('path'),
      eb.fn.max('e.time').as('last_access_at'),
      eb.fn.countAll().as('accesses'),
      eb.fn.count('e.actor_upn').distinct().as('accessors'),
    ])
    .where('e.integration_id', '=', integrationId)
    .where('e.item_id', 'is not', null)
    .where('e.operation', 'in', ACCESS)
    .where('e.time', '>=', o.since)
    .groupBy(['e.drive_id', 'e.item_id'])
    .orderBy('accesses', 'desc')
    .orderBy('e.item_id')
    .limit(o.limit)
    .execute();
  return rows.map((r) => ({
    driveId: String(r.drive_id),
    itemId: String(r.item_id),
    path: r.path ?? null,
    lastAccessAt: String(decodeValue('timestamp', r.last_access_at)),
    accesses: Number(r.accesses),
    accessors: Number(r.accessors),
  }));
}
