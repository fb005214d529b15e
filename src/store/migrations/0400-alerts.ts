import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0400 — alerts (src/alerts/): notification channels (sealed configuration), alert policies,
 * each policy's cursor over its source table (finding_events or changes), the events a policy
 * holds back during quiet hours or a rate limit (one aggregate row per policy), and the
 * outbox of deliveries (a durable queue, src/queue/alert-outbox.ts). Frozen once shipped.
 *
 * The outbox keeps its times as ISO text on both dialects, like the webhook inbox: the queue
 * compares them as text (`next_attempt_at <= now`).
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';
  const bool = pg ? 'boolean' : 'integer';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  const ref = pg ? 'bigint' : 'integer';

  await exec(
    db,
    `create table alert_channels (
      id text primary key,
      name text not null unique,
      kind text not null,
      config_enc text not null,
      target text not null,
      created_at ${ts} not null,
      updated_at ${ts} not null
    )`,
  );
  await exec(
    db,
    `create table alert_policies (
      id text primary key,
      name text not null unique,
      kind text not null,
      filter ${json} not null,
      channel_ids ${json} not null,
      severity text,
      digest_threshold integer not null,
      rate_limit ${json},
      quiet_hours ${json},
      enabled ${bool} not null,
      created_at ${ts} not null,
      updated_at ${ts} not null
    )`,
  );
  await exec(
    db,
    `create table alert_cursors (
      policy_id text primary key,
      source text not null,
      last_id ${ref} not null,
      updated_at ${ts} not null
    )`,
  );
  await exec(
    db,
    `create table alert_held (
      policy_id text primary key,
      reason text not null,
      digest ${json} not null,
      first_at ${ts} not null,
      updated_at ${ts} not null
    )`,
  );
  await exec(
    db,
    `create table alert_outbox (
      id ${serial},
      alert_id text not null,
      idempotency_key text not null unique,
      policy_id text not null,
      channel_id text not null,
      kind text not null,
      item_count integer not null,
      severity text not null,
      title text not null,
      body text not null,
      created_at text not null,
      next_attempt_at text,
      status text not null,
      delivered_at text,
      latency_ms integer,
      response_status integer,
      processed_at text,
      attempts integer not null default 0,
      last_error text
    )`,
  );
  await exec(db, 'create index alert_outbox_pending on alert_outbox (processed_at, id)');
  await exec(db, 'create index alert_outbox_policy on alert_outbox (policy_id, created_at)');
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of ['alert_outbox', 'alert_held', 'alert_cursors', 'alert_policies', 'alert_channels']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
