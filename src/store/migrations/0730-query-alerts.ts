import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0730 — the REST API's rules area and query alerts:
 * - `alert_query_state`: per query alert policy, the last result of its saved query as a
 *   fingerprint and the key of every row (with a short summary, to name removed rows), so the
 *   router alerts on rows added and removed, once (written with the outbox rows);
 * - findings indexes for the API's default order (newest first) and per-rule lists.
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table alert_query_state (
      policy_id text primary key,
      fingerprint text,
      row_keys ${json} not null,
      row_count integer not null,
      last_run_at ${ts},
      last_error text,
      updated_at ${ts} not null
    )`,
  );
  await exec(db, 'create index findings_last_seen on findings (last_seen, id)');
  await exec(db, 'create index findings_rule_last_seen on findings (rule_id, last_seen, id)');
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop index if exists findings_rule_last_seen');
  await exec(db, 'drop index if exists findings_last_seen');
  await db.schema.dropTable('alert_query_state').ifExists().execute();
}
