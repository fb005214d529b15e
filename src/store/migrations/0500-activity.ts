import { type AnyDb, colV1 as col, exec, isPostgres } from './sql-v1.ts';

/**
 * 0500 — activity (the Office 365 Management Activity API): audit_events (one row per audit
 * record, de-duplicated by its Id), audit_content (the content blobs already read, so
 * overlapping listing windows never fetch a blob twice) and audit_feeds (per integration and
 * content type: the subscription and how far the listing got). An index on drive_items.web_url
 * resolves an event's ObjectId to the inventory; the view item_usage gives per item the last
 * access, accesses and distinct accessors. Frozen once shipped.
 */
/** Operations that read a file (frozen with this migration). */
const ACCESS_OPERATIONS = [
  'FileAccessed',
  'FileAccessedExtended',
  'FilePreviewed',
  'FileDownloaded',
  'FileSyncDownloadedFull',
  'AnonymousLinkUsed',
  'CompanyLinkUsed',
  'SecureLinkUsed',
];

export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  await exec(
    db,
    `create table audit_events (
      ${col('integration_id', 'text', pg, true)},
      ${col('id', 'text', pg, true)},
      ${col('time', 'timestamp', pg, true)},
      ${col('operation', 'text', pg, true)},
      ${col('record_type', 'integer', pg)},
      ${col('workload', 'text', pg)},
      ${col('actor_upn', 'text', pg)},
      ${col('actor_id', 'text', pg)},
      ${col('actor_type', 'text', pg)},
      ${col('client_ip', 'text', pg)},
      ${col('user_agent', 'text', pg)},
      ${col('object_url', 'text', pg)},
      ${col('site_url', 'text', pg)},
      ${col('drive_id', 'text', pg)},
      ${col('item_id', 'text', pg)},
      ${col('item_type', 'text', pg)},
      ${col('file_name', 'text', pg)},
      ${col('extension', 'text', pg)},
      ${col('target_name', 'text', pg)},
      ${col('target_type', 'text', pg)},
      ${col('link_scope', 'text', pg)},
      ${col('content_id', 'text', pg)},
      ${col('observed_at', 'timestamp', pg, true)},
      ${col('raw', 'json', pg)},
      primary key (integration_id, id)
    )`,
  );
  await exec(db, 'create index audit_events_time on audit_events (integration_id, time)');
  await exec(db, 'create index audit_events_actor on audit_events (integration_id, actor_upn, time)');
  await exec(db, 'create index audit_events_item on audit_events (integration_id, drive_id, item_id, time)');
  await exec(
    db,
    `create table audit_content (
      ${col('integration_id', 'text', pg, true)},
      ${col('content_id', 'text', pg, true)},
      ${col('content_type', 'text', pg, true)},
      ${col('content_created', 'timestamp', pg, true)},
      ${col('fetched_at', 'timestamp', pg, true)},
      ${col('events', 'integer', pg, true)},
      primary key (integration_id, content_id)
    )`,
  );
  await exec(
    db,
    `create table audit_feeds (
      ${col('integration_id', 'text', pg, true)},
      ${col('content_type', 'text', pg, true)},
      ${col('subscribed_at', 'timestamp', pg)},
      ${col('listed_until', 'timestamp', pg)},
      ${col('updated_at', 'timestamp', pg, true)},
      primary key (integration_id, content_type)
    )`,
  );
  await exec(db, 'create index drive_items_web_url on drive_items (integration_id, web_url)');
  // Usage per item over the stored events (retention bounds it): rules find stale shares with it.
  await exec(
    db,
    `create view item_usage as
      select integration_id, drive_id, item_id, max(time) as last_access_at,
        count(*) as accesses, count(distinct actor_upn) as accessors
      from audit_events
      where item_id is not null and drive_id is not null
        and operation in (${ACCESS_OPERATIONS.map((o) => `'${o}'`).join(', ')})
      group by integration_id, drive_id, item_id`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop view if exists item_usage');
  await exec(db, 'drop index if exists drive_items_web_url');
  for (const table of ['audit_feeds', 'audit_content', 'audit_events'])
    await db.schema.dropTable(table).ifExists().execute();
}
