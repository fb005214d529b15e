import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0820 — access reviews, continued (src/remediate/reviews.ts, review-escalation.ts,
 * review-schedules.ts):
 * - a campaign's delivery (how owners are reached: an e-mail or Slack channel, Teams, an e-mail
 *   fallback), its escalation period and the admins' channel;
 * - `review_links.reviewer`: a link may be issued to someone other than the owner (the owner's
 *   manager, on escalation) for exactly that owner's items in that campaign;
 * - `review_notices`: who was asked about an owner's items, when and how, one row per step
 *   (owner, manager, admins), unique so a step is taken once even across restarts;
 * - `review_schedules`: campaign definitions launched once per period (next run persisted).
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  await exec(db, 'alter table review_campaigns add column escalate_after_days integer');
  await exec(db, `alter table review_campaigns add column delivery ${json}`);
  await exec(db, 'alter table review_campaigns add column escalation_channel text');
  await exec(db, 'alter table review_campaigns add column schedule_id integer');
  await exec(db, 'alter table review_links add column reviewer text');
  await exec(
    db,
    `create table review_notices (
      id ${serial},
      campaign_id integer not null,
      owner_email text not null,
      step text not null check (step in ('owner', 'manager', 'admins')),
      recipient text,
      via text,
      note text,
      items integer not null,
      asked_at ${ts} not null,
      status text not null check (status in ('sending', 'sent', 'failed')),
      error text,
      unique (campaign_id, owner_email, step)
    )`,
  );
  await exec(
    db,
    `create table review_schedules (
      id ${serial},
      integration_id text not null,
      name text not null unique,
      source_kind text not null check (source_kind in ('rule', 'query')),
      source text not null,
      params ${json},
      scope text not null check (scope in ('public', 'external')),
      every text not null,
      expires_days integer not null check (expires_days > 0),
      escalate_after_days integer check (escalate_after_days > 0),
      delivery ${json},
      escalation_channel text,
      base_url text,
      next_run_at ${ts} not null,
      last_run_at ${ts},
      last_campaign_id integer,
      last_error text,
      created_at ${ts} not null,
      created_by text not null
    )`,
  );
  await exec(db, 'create index review_schedules_due on review_schedules (next_run_at)');
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('review_schedules').ifExists().execute();
  await db.schema.dropTable('review_notices').ifExists().execute();
  for (const [table, column] of [
    ['review_links', 'reviewer'],
    ['review_campaigns', 'schedule_id'],
    ['review_campaigns', 'escalation_channel'],
    ['review_campaigns', 'delivery'],
    ['review_campaigns', 'escalate_after_days'],
  ])
    await db.schema.alterTable(table).dropColumn(column).execute();
}
