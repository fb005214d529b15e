import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0300 — rules and findings (src/rules/): per-integration rule settings, custom rules saved
 * through the CLI/API, findings with their transition events, suppressions, the record of
 * each evaluation and the incremental cursor over `changes`. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  if (pg) {
    // dw_json_has (store/dialect.ts): SQLite registers it on every connection.
    for (const type of ['jsonb', 'text']) {
      const doc = type === 'jsonb' ? 'doc' : 'doc::jsonb';
      await exec(
        db,
        `create function dw_json_has(doc ${type}, value text) returns integer
         language sql immutable parallel safe
         as $$ select case when jsonb_typeof(${doc}) = 'array' and ${doc} ? value then 1 else 0 end $$`,
      );
    }
  }
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';
  const bool = pg ? 'boolean' : 'integer';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  const ref = pg ? 'bigint' : 'integer';

  await exec(
    db,
    `create table rule_settings (
      integration_id text not null,
      rule_id text not null,
      enabled ${bool} not null,
      params ${json},
      updated_at ${ts} not null,
      updated_by text,
      primary key (integration_id, rule_id)
    )`,
  );
  await exec(
    db,
    `create table custom_rules (
      id text primary key,
      yaml text not null,
      sql text not null,
      created_at ${ts} not null,
      updated_at ${ts} not null,
      created_by text
    )`,
  );
  await exec(
    db,
    `create table findings (
      id ${serial},
      integration_id text not null,
      rule_id text not null,
      resource_type text not null,
      resource_key text not null,
      resource_id text not null,
      drive_id text,
      item_id text,
      status text not null,
      result text not null,
      severity text not null,
      reason text not null,
      details ${json},
      resource_name text,
      resource_path text,
      resource_owner text,
      first_seen ${ts} not null,
      last_seen ${ts} not null,
      resolved_at ${ts},
      suppression_id ${ref},
      unique (integration_id, rule_id, resource_key)
    )`,
  );
  await exec(db, 'create index findings_status on findings (integration_id, status, severity)');
  await exec(db, 'create index findings_resource on findings (integration_id, resource_id)');
  await exec(
    db,
    `create table finding_events (
      id ${serial},
      finding_id ${ref} not null,
      integration_id text not null,
      rule_id text not null,
      resource_type text not null,
      resource_id text not null,
      event text not null,
      result text not null,
      severity text not null,
      reason text not null,
      actor text,
      at ${ts} not null
    )`,
  );
  await exec(db, 'create index finding_events_finding on finding_events (finding_id, id)');
  await exec(
    db,
    `create table suppressions (
      id ${serial},
      integration_id text,
      rule_id text,
      finding_id ${ref},
      resource_pattern text,
      reason text not null,
      actor text not null,
      created_at ${ts} not null,
      expires_at ${ts},
      lifted_at ${ts},
      lifted_by text
    )`,
  );
  await exec(
    db,
    `create table rule_evaluations (
      id ${serial},
      integration_id text not null,
      mode text not null,
      rule_id text,
      started_at ${ts} not null,
      finished_at ${ts},
      change_cursor_from ${ref},
      change_cursor_to ${ref},
      rules_run integer not null default 0,
      ok_count integer not null default 0,
      alarm_count integer not null default 0,
      error_count integer not null default 0,
      opened integer not null default 0,
      resolved integer not null default 0,
      duration_ms integer,
      error_message text
    )`,
  );
  await exec(db, 'create index rule_evaluations_recent on rule_evaluations (integration_id, id)');
  await exec(
    db,
    `create table rule_cursor (
      integration_id text primary key,
      change_id ${ref} not null,
      full_at ${ts},
      updated_at ${ts} not null
    )`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  if (isPostgres(db)) {
    await exec(db, 'drop function if exists dw_json_has(jsonb, text)');
    await exec(db, 'drop function if exists dw_json_has(text, text)');
  }
  for (const table of [
    'rule_cursor',
    'rule_evaluations',
    'suppressions',
    'finding_events',
    'findings',
    'custom_rules',
    'rule_settings',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
