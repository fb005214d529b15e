import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 0200 — effective access: every item's access root and exposure, one row per grant
 * (permission × recipient), and views that answer "who can reach this item". Frozen once
 * shipped: it keeps its own copy of the columns. Existing inventories are filled in by the
 * store right after this migration runs (src/store/access.ts rebuildAccess).
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the untyped database
type AnyDb = Kysely<any>;

async function exec(db: AnyDb, statement: string): Promise<void> {
  await sql.raw(statement).execute(db);
}

export async function up(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const bool = pg ? 'boolean' : 'integer';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';

  await exec(db, 'alter table drive_items add column "access_root_id" text');
  await exec(db, 'alter table drive_items add column "exposure" text');
  // Partial indexes, so the private majority of items costs nothing to index: the items of
  // one access root (subtree updates, what-can-Y-reach), and the items still waiting for
  // their parent (few, and only for a while).
  await exec(
    db,
    'create index drive_items_access on drive_items (integration_id, drive_id, access_root_id) where access_root_id is not null',
  );
  await exec(
    db,
    'create index drive_items_access_pending on drive_items (integration_id, drive_id) where exposure is null',
  );

  await exec(
    db,
    `create table grants (
      "integration_id" text not null,
      "tenant_id" text not null,
      "drive_id" text not null,
      "item_id" text not null,
      "permission_id" text not null,
      "recipient_key" text not null,
      "recipient_kind" text not null,
      "recipient_id" text,
      "recipient_email" text,
      "recipient_domain" text,
      "recipient_name" text,
      "login_name" text,
      "audience" text not null,
      "is_owner" ${bool} not null,
      "roles" ${json},
      "link_type" text,
      "link_scope" text,
      "expiration" ${ts},
      "invitation_email" text,
      primary key (integration_id, drive_id, item_id, permission_id, recipient_key)
    )${pg ? '' : ' without rowid'}`,
  );
  // What-can-Y-reach looks grants up by recipient, and links by kind; partial, so link
  // grants stay out of the recipient indexes and people stay out of the link index.
  await exec(
    db,
    'create index grants_recipient_id on grants (integration_id, recipient_id) where recipient_id is not null',
  );
  await exec(
    db,
    'create index grants_recipient_email on grants (integration_id, recipient_email) where recipient_email is not null',
  );
  await exec(
    db,
    "create index grants_link on grants (integration_id, recipient_kind) where recipient_kind in ('organization', 'anyone')",
  );

  // Who can reach each item: the grants of its access root (items without one: the owner only).
  await exec(
    db,
    `create view item_grants as
     select i.integration_id, i.drive_id, i.id as item_id, i.path, i.exposure, i.access_root_id,
            g.permission_id, g.recipient_kind, g.recipient_id, g.recipient_email, g.recipient_domain,
            g.recipient_name, g.audience, g.is_owner, g.roles, g.link_type, g.link_scope, g.expiration
     from drive_items i
     join grants g on g.integration_id = i.integration_id and g.drive_id = i.drive_id
                  and g.item_id = i.access_root_id
     where i.deleted_at is null`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop view if exists item_grants');
  await exec(db, 'drop table if exists grants');
  await exec(db, 'drop index if exists drive_items_access_pending');
  await exec(db, 'drop index if exists drive_items_access');
  await exec(db, 'alter table drive_items drop column "exposure"');
  await exec(db, 'alter table drive_items drop column "access_root_id"');
}
