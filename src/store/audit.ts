import type { Kysely } from 'kysely';
import { decodeValue, encodeValue } from './codec.ts';
import type { Dialect } from './dialect.ts';
import type { Database } from './schema.ts';
import type { AuditEventsTable, AuditFeedsTable } from './tables/activity.ts';

/**
 * audit_events, audit_content and audit_feeds (migration 0500-activity): the store side of
 * the activity collector (src/collect/activity/). Events are inserted once per Id, whatever
 * window, blob or retry served them.
 */

export type AuditEventInsert = Omit<AuditEventsTable, 'integration_id' | 'observed_at' | 'raw'> & {
  raw: unknown;
};

/** Rows per INSERT: 25 columns × 400 stays under both dialects' parameter limits. */
const CHUNK = 400;

/** Inserts events not stored yet (same Id = same event); returns how many were new. */
export async function insertAuditEvents(
  db: Kysely<Database>,
  dialect: Dialect,
  integrationId: string,
  rows: readonly AuditEventInsert[],
  observedAt: string,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map((r) => ({
      ...r,
      integration_id: integrationId,
      observed_at: observedAt,
      raw: encodeValue('json', r.raw, dialect),
    }));
    const result = await db
      .insertInto('audit_events')
      .values(values)
      .onConflict((oc) => oc.columns(['integration_id', 'id']).doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
}

/** Which of these content ids were read already. */
export async function readContentIds(
  db: Kysely<Database>,
  integrationId: string,
  contentIds: readonly string[],
): Promise<Set<string>> {
  const known = new Set<string>();
  for (let i = 0; i < contentIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom('audit_content')
      .select('content_id')
      .where('integration_id', '=', integrationId)
      .where('content_id', 'in', contentIds.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) known.add(r.content_id);
  }
  return known;
}

export interface ContentRead {
  contentId: string;
  contentType: string;
  contentCreated: string;
  events: number;
}

/** Marks blobs as read (in the transaction that stored their events). */
export async function recordContentRead(
  db: Kysely<Database>,
  integrationId: string,
  reads: readonly ContentRead[],
  fetchedAt: string,
): Promise<void> {
  for (let i = 0; i < reads.length; i += CHUNK) {
    await db
      .insertInto('audit_content')
      .values(
        reads.slice(i, i + CHUNK).map((r) => ({
          integration_id: integrationId,
          content_id: r.contentId,
          content_type: r.contentType,
          content_created: r.contentCreated,
          fetched_at: fetchedAt,
          events: r.events,
        })),
      )
      .onConflict((oc) => oc.columns(['integration_id', 'content_id']).doNothing())
      .execute();
  }
}

export async function getAuditFeed(
  db: Kysely<Database>,
  integrationId: string,
  contentType: string,
): Promise<AuditFeedsTable | undefined> {
  return db
    .selectFrom('audit_feeds')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('content_type', '=', contentType)
    .executeTakeFirst();
}

export async function putAuditFeed(
  db: Kysely<Database>,
  integrationId: string,
  contentType: string,
  patch: { subscribed_at?: string | null; listed_until?: string | null },
  now: string = new Date().toISOString(),
): Promise<void> {
  const values = { ...patch, updated_at: now };
  await db
    .insertInto('audit_feeds')
    .values({ integration_id: integrationId, content_type: contentType, ...values })
    .onConflict((oc) => oc.columns(['integration_id', 'content_type']).doUpdateSet(values))
    .execute();
}

/** Retention: events older than `eventsBefore`, content records older than `contentBefore`. */
export async function pruneAudit(
  db: Kysely<Database>,
  integrationId: string,
  eventsBefore: string,
  contentBefore: string,
): Promise<{ events: number; content: number }> {
  const events = await db
    .deleteFrom('audit_events')
    .where('integration_id', '=', integrationId)
    .where('time', '<', eventsBefore)
    .executeTakeFirst();
  const content = await db
    .deleteFrom('audit_content')
    .where('integration_id', '=', integrationId)
    .where('content_created', '<', contentBefore)
    .executeTakeFirst();
  return { events: Number(events.numDeletedRows), content: Number(content.numDeletedRows) };
}

/** For `drivewarden status`: how far the audit feed was listed, events stored, the newest event. */
export async function auditSummary(
  db: Kysely<Database>,
  integrationId: string,
  contentType = 'Audit.SharePoint',
): Promise<{ listedUntil: string | null; events: number; newest: string | null }> {
  const feed = await getAuditFeed(db, integrationId, contentType);
  const row = await db
    .selectFrom('audit_events')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('time').as('newest')])
    .where('integration_id', '=', integrationId)
    .executeTakeFirstOrThrow();
  const newest = row.newest === null ? null : String(decodeValue('timestamp', row.newest));
  return { listedUntil: feed?.listed_until ?? null, events: Number(row.n), newest };
}
