import type { Kysely } from 'kysely';
import { decodeValue } from './codec.ts';
import type { Database } from './schema.ts';

/** Timelines and usage over audit_events (the `drivewarden activity` commands, the web app). */

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
] as const;

function entry(r: Record<(typeof COLUMNS)[number], unknown>): TimelineEntry {
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

/** What one user did, newest first. */
export async function userTimeline(
  db: Kysely<Database>,
  integrationId: string,
  upn: string,
  o: TimelineOptions,
): Promise<TimelineEntry[]> {
  const rows = await db
    .selectFrom('audit_events')
    .select([...COLUMNS])
    .where('integration_id', '=', integrationId)
    .where('actor_upn', '=', upn.toLowerCase())
    .where('time', '>=', o.since)
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
  const rows = await db
    .selectFrom('audit_events')
    .select([...COLUMNS])
    .where('integration_id', '=', integrationId)
    .where((eb) =>
      eb.or([
        eb.and([eb('drive_id', '=', item.driveId), eb('item_id', '=', item.itemId)]),
        ...(item.webUrl ? [eb('object_url', '=', item.webUrl)] : []),
      ]),
    )
    .where('time', '>=', o.since)
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
