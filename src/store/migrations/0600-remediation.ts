import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0600 — the remediation audit trail (src/remediate/). One row per change drivewarden asked
 * Graph to make (a permission removed, tenant settings patched): who, when, what, the state
 * before and after, Graph's request id and the result. Rows are written when the call has
 * been answered and never updated. Auto-remediation: the rules allowed to remediate on their
 * own per integration (off unless listed), with a grace period, and a daily cap per
 * integration. Access reviews: a campaign asks each drive owner to keep or revoke the risky
 * grants on their files, through a signed, expiring, single-use link (review_links keeps
 * only the link's nonce, never the link). Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table remediation_actions (
      id ${serial},
      integration_id text not null,
      plan_id text not null,
      action text not null check (action in ('remove_permission', 'update_tenant_settings')),
      origin text not null,
      drive_id text,
      item_id text,
      permission_id text,
      item_path text,
      reason text not null,
      before ${json},
      after ${json},
      actor text not null,
      requested_at ${ts} not null,
      finished_at ${ts} not null,
      result text not null check (result in ('done', 'already_gone', 'skipped', 'failed')),
      http_status integer,
      request_id text,
      error text
    )`,
  );
  await exec(db, 'create index remediation_actions_recent on remediation_actions (integration_id, id)');
  await exec(
    db,
    'create index remediation_actions_permission on remediation_actions (integration_id, permission_id)',
  );
  await exec(
    db,
    `create table auto_remediation_rules (
      integration_id text not null,
      rule_id text not null,
      grace_seconds integer not null check (grace_seconds >= 0),
      scope text not null check (scope in ('public', 'external')),
      created_at ${ts} not null,
      created_by text not null,
      primary key (integration_id, rule_id)
    )`,
  );
  await exec(
    db,
    `create table auto_remediation_limits (
      integration_id text primary key,
      daily_cap integer not null check (daily_cap >= 0),
      updated_at ${ts} not null,
      updated_by text not null
    )`,
  );
  await exec(
    db,
    `create table review_campaigns (
      id ${serial},
      integration_id text not null,
      name text not null,
      origin text not null,
      created_at ${ts} not null,
      created_by text not null,
      expires_at ${ts} not null
    )`,
  );
  await exec(
    db,
    `create table review_items (
      id ${serial},
      campaign_id integer not null,
      owner_email text not null,
      drive_id text not null,
      item_id text not null,
      permission_id text not null,
      item_path text,
      description text not null,
      step ${json} not null,
      decision text check (decision in ('keep', 'revoke')),
      decided_at ${ts},
      decided_by text,
      justification text,
      unique (campaign_id, drive_id, item_id, permission_id)
    )`,
  );
  await exec(db, 'create index review_items_owner on review_items (campaign_id, owner_email)');
  await exec(
    db,
    `create table review_links (
      nonce text primary key,
      campaign_id integer not null,
      owner_email text not null,
      expires_at ${ts} not null,
      used_at ${ts}
    )`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of [
    'review_links',
    'review_items',
    'review_campaigns',
    'auto_remediation_limits',
    'auto_remediation_rules',
    'remediation_actions',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
